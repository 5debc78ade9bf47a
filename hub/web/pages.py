"""The public pages: home, events and results, people, leaderboards, impact, privacy.

Each route gathers plain values (from ``hub.reports`` or the store) and hands them to a template;
no page needs JavaScript. Names are shown only as each person agreed (``Person.public_name``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hub.openness import MAX_STARS, STEPS, openness
from hub.reports import Reports
from hub.store import OUTCOME_KINDS, Store
from hub.web import charts, i18n
from hub.web.i18n import gettext as _, ngettext, role_name

SEASON = re.compile(r"^\d{4}$")


def router(store: Store, templates: Jinja2Templates, settings, reports: Reports) -> APIRouter:
    pages = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

    def render(request: Request, template: str, **context):
        return templates.TemplateResponse(request, template, context)

    def hours_per_role() -> dict[str, float]:
        return {**store.rules().hours, **settings.hours_per_role}

    def to_come(event, today: str, present: int | None = None) -> bool:
        """Still ahead: a later day, or today while nobody has been scanned yet (from the
        first scan it is an event held, with results)."""
        if event.date != today:
            return event.date > today
        return not (reports.event_counts(event.id)[0] if present is None else present)

    @pages.get("/")
    def home(request: Request):
        today = settings.now().isoformat()
        events = reports.events()
        upcoming = [e for e in events if to_come(e, today)][:5]
        past = [e for e in events if not to_come(e, today)][-3:][::-1]
        return render(request, "home.html", totals=reports.totals(), upcoming=upcoming,
                      recent=[(e, reports.event_counts(e.id)) for e in past],
                      openness=openness)

    @pages.get("/events")
    def events(request: Request):
        today = settings.now().isoformat()
        all_events = reports.events()
        upcoming = [e for e in all_events if to_come(e, today)]
        seasons: dict[str, list] = {}
        for e in reversed([e for e in all_events if not to_come(e, today)]):
            seasons.setdefault(e.season, []).append((e, reports.event_counts(e.id),
                                                     openness(e.openness)))
        return render(request, "events.html", upcoming=upcoming, seasons=seasons,
                      openness=openness)

    @pages.get("/events/{event_id}")
    def event(request: Request, event_id: str):
        if not store.has_event(event_id):
            raise HTTPException(404, _("There is no event at this address."))
        event = store.event(event_id)
        present = reports.event_roll(event_id)
        attend = store.rules().attend_role
        named = sorted((r for r in present if r.name), key=lambda r: (r.name.lower(), r.badge))
        unnamed = [r for r in present if not r.name]
        helpers: dict[str, list] = {}
        role_counts: dict[str, int] = {}
        for r in present:
            for role in r.roles:
                if role != attend:
                    helpers.setdefault(role, []).append(r)
                    role_counts[role] = role_counts.get(role, 0) + 1
        helpers = {role: sorted(people, key=lambda r: (not r.name, (r.name or "").lower()))
                   for role, people in sorted(helpers.items())}
        did = {r.badge: ", ".join(role_name(x) for x in r.roles if x != attend) or _("Came")
               for r in named}
        return render(
            request, "event.html", event=event, named=named, did=did,
            unnamed_count=len(unnamed), unnamed_first=sum(1 for r in unnamed if r.first_time),
            present=len(present), first_timers=sum(1 for r in present if r.first_time),
            volunteers=sum(1 for r in present if set(r.roles) - {attend}),
            role_counts=role_counts, helpers=helpers, attend=attend,
            openness=openness(event.openness), max_stars=MAX_STARS,
            outcomes=store.outcomes(event_id), outcome_kinds=OUTCOME_KINDS,
            upcoming=to_come(event, settings.now().isoformat(), len(present)))

    @pages.get("/people/{badge}")
    def person(request: Request, badge: str):
        found = store.person(badge)
        if found is not None and not found.claimed:  # a blank badge from the door: say how to claim it
            return templates.TemplateResponse(request, "unclaimed.html", {"badge": badge}, status_code=404)
        if found is None or found.name is None:
            raise HTTPException(404, _("There is no registered badge with that code."))
        standing = store.standing(badge, found) if _takes_person(store) else store.standing(badge)
        events = reports.events_by_id()
        attended = [events[e] for e in reversed(standing.events) if e in events]
        year = settings.now().year
        history = reports.history_by_month(standing.events, year)
        chart = _history_chart(year, tuple(history), i18n.current_language())
        nxt = standing.next_milestone
        progress = None
        if nxt:
            done = nxt.target - nxt.to_go
            progress = round(100 * done / nxt.target) if nxt.target else 100
        own, credentials = _badges_for(request, store, found)
        return render(request, "person.html", person=found, name=found.public_name,
                      standing=standing, attended=attended, history=history, chart=chart,
                      year=year, events=events, next_milestone=nxt, progress=progress,
                      this_year=sum(h[1] for h in history), last_year=sum(h[2] for h in history),
                      own=own, credentials=credentials,
                      settings_note=request.query_params.get("settings"))

    @pages.get("/leaderboard")
    def leaderboard(request: Request, season: str | None = None, series: str | None = None):
        """A season or series the page cannot show is said so at the top (400 when it is not
        a year at all, 404 when the hub has none such), over the board for all of them."""
        events = reports.events()
        seasons = sorted({e.season for e in events})
        all_series = sorted({e.series for e in events if e.series})
        problems = {}
        if season and not SEASON.match(season):
            problems["season"] = _("The season must be a year, like 2025: showing all time instead")
        elif season and season not in seasons:
            problems["season"] = _("There were no events in %(season)s: showing all time instead") % {
                "season": season}
        if series and series not in all_series:
            problems["series"] = _("There is no series called ‘%(series)s’: showing all series "
                                   "instead") % {"series": series[:60]}
        status = 400 if season and not SEASON.match(season) else 404 if problems else 200
        season = season if season in seasons else None
        series = series if series in all_series else None
        month = settings.now().strftime("%Y-%m")
        first, others = reports.first_timers(month)
        return templates.TemplateResponse(request, "leaderboard.html", dict(
            season=season, series=series, seasons=seasons,
            all_series=all_series, rows=reports.leaderboard(season, series, 50),
            helpful=reports.leaderboard(season, series, 20, by="helped"),
            orgs=reports.organisations(season, series)[:25], month=month,
            first_timers=first, first_others=others,
            events=reports.events_by_id(), notice={"errors": problems}), status_code=status)

    def impact_context(request: Request, print_version: bool) -> dict:
        totals = reports.totals()
        months = reports.by_month()
        seasons = reports.by_season()
        hours = reports.volunteer_hours(hours_per_role())
        costs = reports.costs()
        snap = reports.snapshot()
        chart_set = snap.memo(("impact-charts", tuple(sorted(hours_per_role().items())),
                               i18n.current_language()),
                              lambda: _impact_charts(months, hours))
        total_cost = sum(c for _, c, _ in costs)
        costed = sum(a for _, _, a in costs)
        return dict(
            totals=totals, months=months, seasons=seasons, hours=hours,
            total_hours=sum(h for *_, h in hours), costs=costs,
            cost_per_attendance=(total_cost / costed) if costed else None,
            total_cost=total_cost, charts=chart_set,
            orgs=reports.organisations()[:20], org_count=len(reports.organisations()),
            outcomes=store.outcomes()[:6], outcome_kinds=OUTCOME_KINDS,
            events=reports.events_by_id(), steps=STEPS, max_stars=MAX_STARS,
            print_version=print_version, today=settings.now())

    @pages.get("/impact")
    def impact(request: Request):
        return templates.TemplateResponse(request, "impact.html", impact_context(request, False))

    @pages.get("/impact/print")
    def impact_print(request: Request):
        return templates.TemplateResponse(request, "impact_print.html", impact_context(request, True))

    @pages.get("/privacy")
    def privacy(request: Request):
        return render(request, "privacy.html")

    return pages


@lru_cache(maxsize=256)
def _history_chart(year: int, history: tuple[tuple[str, int, int], ...], language: str) -> charts.Chart:
    """A person's months, this year against last; many people share the same shape (``language``
    is part of the cache's key: the words are the request's)."""
    months = [f"{year}-{m:02d}" for m in range(1, len(history) + 1)]
    this_year, last_year = sum(h[1] for h in history), sum(h[2] for h in history)
    return charts.bar(
        "history", _("Events attended each month, %(year)s and %(last)s") % {"year": year, "last": year - 1},
        [i18n.month_only(m, short=True) for m in months],
        {str(year): [h[1] for h in history], str(year - 1): [h[2] for h in history]},
        (_("Month"), str(year), str(year - 1)),
        ngettext("%(num)s event in %(year)s, %(last_count)s in %(last)s.",
                 "%(num)s events in %(year)s, %(last_count)s in %(last)s.", this_year)
        % {"num": this_year, "year": year, "last_count": last_year, "last": year - 1},
        row_labels=[i18n.month_only(m) for m in months])


def _badges_for(request: Request, store: Store, person) -> tuple[bool, list]:
    """Whether this browser may change the person's settings, and their credentials with their
    download links (listed for people shown publicly, and for the person themselves)."""
    from hub.web.badges import linkedin_url, shareable
    from hub.web.forms import may_see_badge
    from hub.web.security import SESSION_COOKIE

    # Only a browser with a session can be the person's own: others' pages stay cacheable.
    own = (SESSION_COOKIE in request.cookies and hasattr(request.app.state, "security")
           and may_see_badge(request, person.badge))
    issuer = getattr(request.app.state, "issuer", None)
    if issuer is None or not (own or shareable(person)):
        return own, []
    return own, [(c, c.id.removeprefix("urn:uuid:"), linkedin_url(issuer, c))
                 for c in issuer.credentials_for(person) if c.jws]


def _takes_person(store: Store) -> bool:
    """Store.standing accepts the person already read (saves a query) in newer hub cores."""
    import inspect
    return "person" in inspect.signature(store.standing).parameters


def _impact_charts(months: list[dict], hours: list[tuple[str, int, float, float]]) -> list[charts.Chart]:
    """The impact page's charts, in the request's language (their cache key includes it)."""
    from hub.web.i18n import month_name, number, short_month

    labels = [month_name(m["month"]) for m in months]
    short = [short_month(m["month"]) for m in months]
    growth = charts.bar(
        "growth", _("Attendances and new people each month"), short,
        {_("Attendances"): [m["attendances"] for m in months],
         _("New people"): [m["new_people"] for m in months]},
        (_("Month"), _("Attendances"), _("New people")),
        _("From %(first)s to %(last)s, %(attendances)s attendances and %(new)s new people.") % {
            "first": labels[0] if labels else _("the start"), "last": labels[-1] if labels else _("now"),
            "attendances": number(sum(m["attendances"] for m in months)),
            "new": number(sum(m["new_people"] for m in months))}, row_labels=labels)
    so_far = months[-1]["people_so_far"] if months else 0
    people = charts.line(
        "people", _("People who have taken part, in total"), short,
        {_("People so far"): [m["people_so_far"] for m in months]},
        (_("Month"), _("People so far")),
        ngettext("%(num)s person has taken part so far.", "%(num)s people have taken part so far.",
                 so_far) % {"num": number(so_far)},
        row_labels=labels)
    roles = charts.bar(
        "roles", _("Volunteer occasions by role"), [role_name(r) for r, *_ in hours],
        {_("Occasions"): [n for _, n, _, _ in hours]}, (_("Role"), _("Occasions")),
        ", ".join(f"{role_name(r)}: {number(n)}" for r, n, _, _ in hours) + ".", horizontal=True)
    opened = charts.line(
        "openness", _("How open events were: average stars each month"), short,
        {_("Average stars"): [round(m["average_stars"], 1) for m in months]},
        (_("Month"), _("Average stars (out of 5)")),
        _("Average openness stars per event, month by month."), range_=(0, MAX_STARS),
        row_labels=labels)
    return [growth, people, roles, opened]
