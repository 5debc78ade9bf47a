"""The organisers' admin, ``/admin``: events and their outcomes, kiosks, the quarantine, people,
roles and points, exports, printing, and privacy requests.

Every page needs a signed-in session (``hub.web.security``); every form carries a CSRF token.
Pages follow POST-redirect-GET, with a one-line message (_("Event saved")) shown on the next page.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Iterable, Iterator
from datetime import date as Date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from hub.openness import STEPS
from hub.store import OUTCOME_KINDS, Event, NotFound, Store
from hub.text import spreadsheet_safe
from hub.web import printouts
from hub.web.forms import CONSENT_CHOICES, FormState, clean_text, normalise_code, read_person
from hub.web.privacy import data_download
from hub.web.i18n import N_, gettext as _, ngettext
from hub.web.security import checked_form, client_key, verify_password
from turnout.codes import is_badge, is_role_name
from turnout.protocol import EVENT_ID, is_kiosk_id

log = logging.getLogger("turnout.hub.web")

SECTIONS = (
    (N_("Overview"), "/admin"),
    (N_("Events"), "/admin/events"),
    (N_("Kiosks"), "/admin/kiosks"),
    (N_("Quarantine"), "/admin/quarantine"),
    (N_("People"), "/admin/people"),
    (N_("Roles and points"), "/admin/roles"),
    (N_("Print"), "/admin/print"),
    (N_("Export"), "/admin/export"),
    (N_("Privacy"), "/admin/privacy"),
)
# A privacy request's kind and how it ended, as the person's admin page says them.
PRIVACY_WORDS = (N_("Erase"), N_("erased"), N_("declined"))
PEOPLE_PAGE = 50
_COST = re.compile(r"^£?\s*(\d{1,7})(?:\.(\d{1,2}))?$")
_HASHTAG = re.compile(r"^#?[\w]{1,60}$")


class SignInNeeded(Exception):
    """A page of the admin was asked for without a signed-in session."""


# --- Reading the event form (pure) ---------------------------------------------------------------

def read_event(form, new: bool) -> FormState:
    state = FormState()
    v = state.values
    v["name"] = clean_text(form.get("name"))[:200]
    v["date"] = clean_text(form.get("date"))
    for key in ("series", "venue", "after_venue"):
        v[key] = clean_text(form.get(key))[:200]
    v["hashtag"] = clean_text(form.get("hashtag")).replace(" ", "")
    v["notes_url"] = clean_text(form.get("notes_url"))
    v["cost"] = clean_text(form.get("cost")).replace(",", "")
    v["openness"] = [t for t in form.getlist("openness") if t in {s.tick for s in STEPS}]
    if new:
        v["id"] = clean_text(form.get("id"))
    if not v["name"]:
        state.errors["name"] = _("Enter the event's name")
    try:
        Date.fromisoformat(v["date"])
    except ValueError:
        state.errors["date"] = (_("Enter the date as year-month-day, like 2025-06-14") if v["date"]
                                else _("Enter the date of the event"))
    if new and v["id"] and not EVENT_ID.fullmatch(v["id"]):
        state.errors["id"] = _("An event id may use letters, digits, dots, dashes and underscores (up to 64)")
    if v["hashtag"] and not _HASHTAG.match(v["hashtag"]):
        state.errors["hashtag"] = _("A hashtag is one word of letters, digits or underscores, like #CivicCamp25")
    if v["notes_url"]:
        parts = urlsplit(v["notes_url"])
        if parts.scheme not in ("http", "https") or not parts.netloc or len(v["notes_url"]) > 500:
            state.errors["notes_url"] = _("Enter the notes link as a full web address starting https://")
    if v["cost"] and not _COST.match(v["cost"]):
        state.errors["cost"] = _("Enter the cost in pounds, like 120 or 120.50")
    return state


def event_changes(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values as the store's event fields."""
    cost = None
    if values["cost"]:
        pounds, pence = _COST.match(values["cost"]).groups()
        cost = int(pounds) * 100 + int((pence or "0").ljust(2, "0"))
    hashtag = values["hashtag"]
    return {"name": values["name"], "date": values["date"], "series": values["series"] or None,
            "venue": values["venue"] or None, "after_venue": values["after_venue"] or None,
            "hashtag": ("#" + hashtag.lstrip("#")) if hashtag else None,
            "notes_url": values["notes_url"] or None, "cost_pence": cost,
            "openness": values["openness"]}


def event_values(event: Event) -> dict[str, Any]:
    cost = ""
    if event.cost_pence is not None:
        cost = f"{event.cost_pence // 100}" + (f".{event.cost_pence % 100:02d}" if event.cost_pence % 100 else "")
    return {"name": event.name, "date": event.date, "series": event.series or "",
            "venue": event.venue or "", "after_venue": event.after_venue or "",
            "hashtag": event.hashtag or "", "notes_url": event.notes_url or "", "cost": cost,
            "openness": list(event.openness)}


# --- CSV exports ---------------------------------------------------------------------------------

def csv_rows(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text a line at a time; cells that a spreadsheet would run as a formula are quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _chain(header, rows):
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _chain(header, rows):
    yield header
    yield from rows


def _csv_response(name: str, lines: Iterator[str]) -> StreamingResponse:
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# --- The pages -----------------------------------------------------------------------------------

def router(store: Store, templates: Jinja2Templates) -> APIRouter:
    admin = APIRouter(prefix="/admin", default_response_class=HTMLResponse, include_in_schema=False)

    def security(request: Request):
        return request.app.state.security

    def signed_in(request: Request) -> None:
        if not security(request).is_admin(request):
            raise SignInNeeded()

    def show(request: Request, name: str, context: dict[str, Any], status_code: int = 200):
        context.update(sections=SECTIONS, flash=request.session.pop("flash", None))
        context.setdefault("form", FormState())
        response = templates.TemplateResponse(request, name, context, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        return response

    def done(request: Request, to: str, message: str) -> RedirectResponse:
        request.session["flash"] = message
        return RedirectResponse(to, status_code=303)

    # -- signing in and out --

    @admin.get("/login")
    def login_form(request: Request):
        if security(request).is_admin(request):
            return RedirectResponse("/admin", status_code=303)
        return show(request, "admin/login.html", {"has_password": security(request).password_hash() is not None,
                                                  "next": request.query_params.get("next", ""),
                                                  "signed_out": "signed_out" in request.query_params})

    @admin.post("/login")
    async def login(request: Request):
        form = await checked_form(request)
        sec = security(request)
        key = client_key(request)
        state = FormState()
        stored = sec.password_hash()
        wait = math.ceil(sec.logins.retry_after(key))
        if wait > 0:  # a back-off, not a lock: the wait never passes a minute
            log.warning("admin sign-in from %s refused: too many wrong passwords, %d s to wait", key, wait)
            state.errors["password"] = ngettext("Too many wrong passwords. Wait %(num)s second and try again",
                                                "Too many wrong passwords. Wait %(num)s seconds and try again",
                                                wait) % {"num": wait}
            response = show(request, "admin/login.html", {"form": state, "has_password": stored is not None,
                                                          "next": form.get("next", "")}, status_code=429)
            response.headers["Retry-After"] = str(wait)
            return response
        if not verify_password(stored, str(form.get("password") or "")):
            sec.logins.failed(key)
            log.warning("admin sign-in from %s: wrong password", key)
            state.errors["password"] = (_("The password is not right") if stored
                                        else _("No admin password is set yet: see below"))
            return show(request, "admin/login.html", {"form": state, "has_password": stored is not None,
                                                      "next": form.get("next", "")},
                        status_code=401 if stored else 400)
        sec.logins.succeeded(key)
        sec.sign_in(request)
        log.info("organiser signed in to the admin from %s", key)
        target = str(form.get("next") or "")
        if not re.fullmatch(r"/admin(/[A-Za-z0-9._~%/-]*)?", target):
            target = "/admin"  # only ever back into the admin: never an open redirect
        return done(request, target, _("You are signed in"))

    @admin.post("/logout")
    async def logout(request: Request):
        await checked_form(request)
        security(request).sign_out(request)
        return RedirectResponse("/admin/login?signed_out=1", status_code=303)

    # -- overview --

    @admin.get("")
    def overview(request: Request):
        signed_in(request)
        today = Date.today().isoformat()
        return show(request, "admin/index.html", {
            "people": store.count_people(True), "scans": store.count_scans(),
            "upcoming": store.events(since=today)[:5], "kiosks": store.kiosks(),
            "quarantined": store.count_quarantined(),
            "requests": store.privacy_requests()})

    # -- events and outcomes --

    @admin.get("/events")
    def events(request: Request):
        signed_in(request)
        return show(request, "admin/events.html", {"events": list(reversed(store.events()))})

    @admin.get("/events/new")
    def new_event_form(request: Request):
        signed_in(request)
        return show(request, "admin/event_form.html", {"form": FormState(values={"openness": []}),
                                                       "event": None, "steps": STEPS,
                                                       "series": store.series()})

    @admin.post("/events/new")
    async def new_event(request: Request):
        signed_in(request)
        state = read_event(await checked_form(request), new=True)
        if state.values["id"] and store.has_event(state.values["id"]):
            state.errors["id"] = _("There is already an event with that id: choose another")
        if state.ok:
            changes = event_changes(state.values)
            event = store.add_event(changes.pop("name"), changes.pop("date"),
                                    series=changes.pop("series"), venue=changes.pop("venue"),
                                    id=state.values["id"] or None, **changes)
        if not state.ok:
            return show(request, "admin/event_form.html", {"form": state, "event": None, "steps": STEPS,
                                                           "series": store.series()}, status_code=400)
        log.info("organiser added event %s", event.id)
        return done(request, f"/admin/events/{quote(event.id)}", _("Event “%(name)s” created") % {"name": event.name})

    def one_event(event_id: str) -> Event:
        event = store.event(event_id)
        if event is None:
            raise HTTPException(404, _("No such event"))
        return event

    def event_page(request: Request, event: Event, form: FormState | None = None,
                   outcome_form: FormState | None = None, setup_form: FormState | None = None,
                   status_code: int = 200):
        return show(request, "admin/event_form.html", {
            "event": event, "form": form or FormState(values=event_values(event)), "steps": STEPS,
            "series": store.series(), "outcomes": store.outcomes(event.id),
            "outcome_form": outcome_form or FormState(values={"kind": "project"}),
            "outcome_kinds": OUTCOME_KINDS,
            "outcome_choices": [(kind, label, None) for kind, label in OUTCOME_KINDS.items()],
            "setup_form": setup_form or FormState(), "emails": store.email_summary(event.id),
            "emails_queued": store.emails_queued(event.id)},
            status_code=status_code)

    @admin.get("/events/{event_id}")
    def edit_event_form(request: Request, event_id: str):
        signed_in(request)
        return event_page(request, one_event(event_id))

    @admin.post("/events/{event_id}")
    async def edit_event(request: Request, event_id: str):
        signed_in(request)
        event = one_event(event_id)
        state = read_event(await checked_form(request), new=False)
        if not state.ok:
            return event_page(request, event, form=state, status_code=400)
        event = store.update_event(event.id, **event_changes(state.values))
        log.info("organiser changed event %s", event.id)
        return done(request, f"/admin/events/{quote(event.id)}", _("Event saved"))

    @admin.post("/events/{event_id}/close")
    async def close_event(request: Request, event_id: str):
        """Close an event now (it closes by itself when its day is over): its results emails go."""
        signed_in(request)
        await checked_form(request)
        event = one_event(event_id)
        if store.close_event(event.id):
            log.info("organiser closed event %s: results emails follow", event.id)
        worker = getattr(request.app.state, "email_worker", None)
        if worker is not None:
            worker.nudge()
        return done(request, f"/admin/events/{quote(event.id)}#emails",
                    _("Event closed: results emails are on their way"))

    @admin.post("/events/{event_id}/outcomes")
    async def add_outcome(request: Request, event_id: str):
        signed_in(request)
        event = one_event(event_id)
        form = await checked_form(request)
        state = FormState(values={"kind": form.get("kind") or "", "title": clean_text(form.get("title"))[:200],
                                  "story": str(form.get("story") or "").strip()[:5000],
                                  "link": clean_text(form.get("link"))})
        if state.values["kind"] not in OUTCOME_KINDS:
            state.errors["kind"] = _("Choose what kind of outcome it was")
        if not state.values["title"]:
            state.errors["title"] = _("Enter a short title for the outcome")
        link = state.values["link"]
        if link and (urlsplit(link).scheme not in ("http", "https") or not urlsplit(link).netloc):
            state.errors["link"] = _("Enter the link as a full web address starting https://")
        if not state.ok:
            return event_page(request, event, outcome_form=state, status_code=400)
        store.add_outcome(event.id, **state.values)
        return done(request, f"/admin/events/{quote(event.id)}#outcomes", _("Outcome recorded"))

    @admin.post("/events/{event_id}/outcomes/{outcome_id}/delete")
    async def delete_outcome(request: Request, event_id: str, outcome_id: int):
        signed_in(request)
        await checked_form(request)
        store.delete_outcome(outcome_id)
        return done(request, f"/admin/events/{quote(event_id)}#outcomes", _("Outcome removed"))

    @admin.get("/events/{event_id}/setup-card.pdf")
    def setup_card(request: Request, event_id: str, hub: str = ""):
        signed_in(request)
        event = one_event(event_id)
        out = io.BytesIO()
        try:
            printouts.print_setup_card(out, store, event.id, hub=clean_text(hub) or None)
        except ValueError:
            state = FormState(values={"hub": clean_text(hub)[:100]},
                              errors={"hub": _("Enter the hub address as a host name or IP address,"
                                               " with :port if it is not 1883, like hub.local:1883")})
            return event_page(request, event, setup_form=state, status_code=400)
        return _pdf(out, f"setup-card-{event.id}.pdf")

    # -- kiosks --

    def kiosks_page(request: Request, add_form: FormState | None = None, status_code: int = 200):
        today = Date.today().isoformat()
        return show(request, "admin/kiosks.html", {
            "kiosks": store.kiosks(), "events": list(reversed(store.events())), "today": today,
            "event_names": {e.id: e.name for e in store.events()},
            "form": add_form or FormState()}, status_code=status_code)

    @admin.get("/kiosks")
    def kiosks(request: Request):
        signed_in(request)
        return kiosks_page(request)

    @admin.post("/kiosks")
    async def add_kiosk(request: Request):
        signed_in(request)
        form = await checked_form(request)
        kiosk_id = clean_text(form.get("kiosk"))
        state = FormState(values={"kiosk": kiosk_id})
        if not is_kiosk_id(kiosk_id):
            state.errors["kiosk"] = _("Enter the kiosk's id: letters, digits, dashes and underscores, "
                                      "up to 32, as in its kiosk.toml")
            return kiosks_page(request, state, status_code=400)
        store.add_kiosk(kiosk_id)
        return done(request, "/admin/kiosks", _("Kiosk %(kiosk)s recorded") % {"kiosk": kiosk_id})

    @admin.post("/kiosks/{kiosk_id}/assign")
    async def assign(request: Request, kiosk_id: str):
        signed_in(request)
        form = await checked_form(request)
        if store.kiosk(kiosk_id) is None:
            raise HTTPException(404, _("No such kiosk"))
        event_id = form.get("event") or None
        if event_id is not None and store.event(event_id) is None:
            return done(request, "/admin/kiosks", _("Choose an event from the list"))
        store.assign_kiosk(kiosk_id, event_id)
        publish = request.app.state.publish_config
        # Kept in the database: the hub sends it now, or as soon as it reaches the broker.
        sent = _("the hub tells it as soon as it is connected to the broker")
        if publish is not None:
            publish(kiosk_id)
            sent = _("the kiosk is being told")
        log.info("organiser assigned kiosk %s to %s", kiosk_id, event_id or _("no event"))
        name = store.event(event_id).name if event_id else _("no event")
        return done(request, "/admin/kiosks", _("Kiosk %(kiosk)s now counts for %(event)s: %(sent)s") % {
            "kiosk": kiosk_id, "event": name, "sent": sent})

    # -- quarantine --

    @admin.get("/quarantine")
    def quarantine(request: Request, all: int = 0):
        signed_in(request)
        day_ago = (datetime.now(timezone.utc) - timedelta(hours=24)).strftime("%Y-%m-%dT%H")
        return show(request, "admin/quarantine.html", {
            "items": store.quarantined(include_resolved=bool(all), limit=500), "all": bool(all),
            "events": list(reversed(store.events())), "counts": store.refused_counts(day_ago),
            "limits": store.quarantine_limits})

    @admin.post("/quarantine/{item_id}/reassign")
    async def reassign(request: Request, item_id: int):
        signed_in(request)
        form = await checked_form(request)
        event_id = form.get("event") or ""
        if store.event(event_id) is None:
            return done(request, "/admin/quarantine", _("Choose the event the scan belongs to"))
        from hub.intake import Intake

        try:  # the hub's own topics: a scan kept under a custom --base-topic must still parse
            ack = Intake(store, request.app.state.topics).reassign(item_id, event_id)
        except (NotFound, ValueError) as exc:
            return done(request, "/admin/quarantine", _("That scan could not be moved: %(why)s") % {"why": exc})
        log.info("organiser moved quarantined scan %s to %s (%s)", item_id, event_id, ack.status)
        return done(request, "/admin/quarantine", _("Scan now counts at %(event)s (%(status)s)") % {
            "event": store.event(event_id).name, "status": ack.status})

    # -- people: find, edit, merge, privacy --

    @admin.get("/people")
    def people(request: Request, q: str = "", page: int = 1):
        signed_in(request)
        q = clean_text(q)[:100]
        page = max(page, 1)
        code = normalise_code(q)
        if q and is_badge(code) and store.person(code):
            return RedirectResponse(f"/admin/people/{code}", status_code=303)
        found = store.find_people(q, limit=PEOPLE_PAGE + 1, offset=(page - 1) * PEOPLE_PAGE)
        return show(request, "admin/people.html", {
            "q": q, "people": found[:PEOPLE_PAGE], "page": page, "more": len(found) > PEOPLE_PAGE,
            "merge": FormState()})

    @admin.post("/people/merge")
    async def merge(request: Request):
        signed_in(request)
        form = await checked_form(request)
        keep, gone = normalise_code(form.get("keep")), normalise_code(form.get("gone"))
        state = FormState(values={"keep": keep, "gone": gone})
        for field, code in (("keep", keep), ("gone", gone)):
            if not is_badge(code) or store.person(code) is None:
                state.errors[field] = _("Enter a badge code we know, like T10019")
        if state.ok:
            try:
                person = store.merge_badges(keep, gone)
            except (ValueError, NotFound) as exc:
                state.errors["gone"] = str(exc).capitalize()
        if not state.ok:
            return show(request, "admin/people.html", {"q": "", "people": [], "page": 1, "more": False,
                                                       "merge": state}, status_code=400)
        log.info("organiser merged badge %s into %s", gone, keep)
        return done(request, f"/admin/people/{keep}", _("Badge %(gone)s merged into %(keep)s: its scans count for %(badge)s now") % {
            "gone": gone, "keep": keep, "badge": person.badge})

    def one_person(badge: str):
        person = store.person(badge) if is_badge(badge) else None
        if person is None:
            raise HTTPException(404, _("No such badge"))
        return person

    def person_page(request: Request, person, form: FormState | None = None,
                    erase_form: FormState | None = None, status_code: int = 200):
        values = {"name": person.name or "", "organisation": person.org or "", "email": person.email or "",
                  "junior": person.junior, "consent": person.consent}
        return show(request, "admin/person.html", {
            "person": person, "standing": store.standing(person.badge),
            "form": form or FormState(values=values), "consent_choices": CONSENT_CHOICES,
            "merged_into": store.merged_into(person.badge), "merged_from": store.merged_from(person.badge),
            "erased_at": store.erased_at(person.badge),
            "requests": store.privacy_requests(person.badge, include_resolved=True),
            "erase_form": erase_form or FormState()},
            status_code=status_code)

    @admin.get("/people/{badge}")
    def person(request: Request, badge: str):
        signed_in(request)
        return person_page(request, one_person(badge))

    @admin.post("/people/{badge}")
    async def edit_person(request: Request, badge: str):
        signed_in(request)
        person = one_person(badge)
        state = read_person(await checked_form(request))
        if not state.ok:
            return person_page(request, person, state, status_code=400)
        v = state.values
        if person.claimed:
            store.update_person(badge, name=v["name"], org=v["organisation"] or None,
                                email=v["email"] or None, junior=v["junior"], consent=v["consent"])
        else:
            store.claim(badge, v["name"], junior=v["junior"], org=v["organisation"],
                        email=v["email"], consent=v["consent"])
        return done(request, f"/admin/people/{badge}", _("Details saved"))

    @admin.get("/people/{badge}/data.json")
    def person_data(request: Request, badge: str):
        signed_in(request)
        log.info("organiser downloaded badge %s's data for them", badge)
        return data_download(store, one_person(badge))

    @admin.post("/people/{badge}/erase")
    async def erase(request: Request, badge: str):
        signed_in(request)
        person = one_person(badge)
        form = await checked_form(request)
        if normalise_code(form.get("confirm")) != person.badge:
            state = FormState(values={"confirm": clean_text(form.get("confirm"))[:40]},
                              errors={"confirm": _("Type the badge code, %(badge)s, to confirm") % {"badge": person.badge}})
            return person_page(request, person, erase_form=state, status_code=400)
        scans = store.erase_person(person.badge)
        store.recompute()
        log.info("organiser erased badge %s (%d scans kept as anonymous counts)", person.badge, scans)
        return done(request, f"/admin/people/{badge}",
                    ngettext("Personal details removed; %(num)s scan kept as an anonymous count",
                             "Personal details removed; %(num)s scans kept as anonymous counts", scans)
                    % {"num": scans})

    # -- roles and points --

    def roles_page(request: Request, form: FormState | None = None, status_code: int = 200):
        rules = store.rules()
        return show(request, "admin/roles.html", {
            "roles": [(r, p, rules.hours.get(r, 0)) for r, p in rules.roles.items()],
            "attend_role": rules.attend_role, "form": form or FormState()}, status_code=status_code)

    @admin.get("/roles")
    def roles(request: Request):
        signed_in(request)
        return roles_page(request)

    @admin.post("/roles")
    async def save_roles(request: Request):
        signed_in(request)
        form = await checked_form(request)
        rules = store.rules()
        state = FormState()
        changes: list[tuple[str, int, float]] = []
        names = list(rules.roles)
        new_name = clean_text(form.get("new_role")).lower()
        state.values["new_role"] = new_name
        if new_name:
            if not is_role_name(new_name):
                state.errors["new_role"] = _("A role name is lower-case letters, digits, - or _, starting with a letter")
            elif new_name in rules.roles:
                state.errors["new_role"] = _("There is already a role called %(role)s") % {"role": new_name}
            names.append(new_name)
        for i, role in enumerate(names):
            key = "new" if role == new_name and role not in rules.roles else role
            points_text = clean_text(form.get(f"points-{key}"))
            hours_text = clean_text(form.get(f"hours-{key}")) or "0"
            state.values[f"points-{key}"], state.values[f"hours-{key}"] = points_text, hours_text
            try:
                points = int(points_text)
                if not 0 <= points <= 1000:
                    raise ValueError
            except ValueError:
                state.errors[f"points-{key}"] = _("Enter %(role)s's points as a whole number from 0 to 1000") % {"role": role}
                continue
            try:
                hours = float(hours_text)
                if not 0 <= hours <= 24:
                    raise ValueError
            except ValueError:
                state.errors[f"hours-{key}"] = _("Enter %(role)s's hours as a number from 0 to 24") % {"role": role}
                continue
            changes.append((role, points, hours))
        if not state.ok:
            return roles_page(request, state, status_code=400)
        for role, points, hours in changes:
            if role not in rules.roles or rules.roles[role] != points or rules.hours.get(role, 0) != hours:
                store.set_role(role, points, hours)
        count = store.recompute()
        log.info("organiser changed roles and points; rescored %d badges", count)
        return done(request, "/admin/roles", ngettext("Roles saved and %(num)s badge rescored", "Roles saved and %(num)s badges rescored",
                                                count) % {"num": count})

    # -- print --

    @admin.get("/print")
    def print_page(request: Request):
        signed_in(request)
        return show(request, "admin/print.html", {"events": list(reversed(store.events())),
                                                  "form": FormState(values={"which": "all", "blank": "10",
                                                                            "layout": "sheet"})})

    @admin.post("/print/badges.pdf")
    async def print_badges(request: Request):
        signed_in(request)
        form = await checked_form(request)
        which = form.get("which")
        layout = "single" if form.get("layout") == "single" else "sheet"
        state = FormState(values={"which": which, "codes": clean_text(form.get("codes"))[:5000],
                                  "blank": clean_text(form.get("blank")), "layout": layout})
        specs = []
        try:
            if which == "codes":
                codes = [normalise_code(c) for c in re.split(r"[\s,;]+", state.values["codes"]) if c]
                bad = [c for c in codes if not is_badge(c) or store.person(c) is None]
                if not codes or bad:
                    state.errors["codes"] = (_("Enter badge codes we know, separated by spaces") if not bad
                                             else _("We have no badge %(badge)s: check the code") % {"badge": bad[0]})
                else:
                    specs = printouts.people_badges(store, codes)
            elif which == "blank":
                try:
                    count = int(state.values["blank"])
                except ValueError:
                    count = 0
                if not 1 <= count <= printouts.MAX_BLANK:
                    state.errors["blank"] = _("Enter how many blank badges, from 1 to %(most)s") % {"most": printouts.MAX_BLANK}
                else:
                    specs = printouts.blank_badges(store, count)
            else:
                specs = printouts.everyone_badges(store)
                if not specs:
                    state.errors["which"] = _("Nobody is registered yet: print blank badges instead")
        except ValueError as exc:
            state.errors["which"] = str(exc).capitalize()
        if not state.ok:
            return show(request, "admin/print.html", {"events": list(reversed(store.events())),
                                                      "form": state}, status_code=400)
        out = io.BytesIO()
        printouts.print_badges(out, specs, layout=layout)
        log.info("organiser printed %d badges (%s)", len(specs), which)
        return _pdf(out, "badges.pdf")

    @admin.get("/print/cards.pdf")
    def print_cards(request: Request):
        signed_in(request)
        out = io.BytesIO()
        printouts.print_cards(out, store)
        return _pdf(out, "role-cards.pdf")

    # -- export --

    @admin.get("/export")
    def export(request: Request):
        signed_in(request)
        return show(request, "admin/export.html", {"people": store.count_people(None),
                                                   "scans": store.count_scans()})

    @admin.get("/export/people.csv")
    def export_people(request: Request):
        signed_in(request)
        header = ["badge", "name", "organisation", "email", "junior", "consent", "claimed",
                  "registered_at", "claimed_at", "points", "attended", "volunteered"]
        standings = store.standings_by_badge()

        def rows():
            for p in store.people(claimed=None):
                s = standings.get(p.badge)
                yield [p.badge, p.name, p.org, p.email, int(p.junior), p.consent, int(p.claimed),
                       p.created_at, p.claimed_at, s.points if s else 0, s.attended if s else 0,
                       s.volunteered if s else 0]
        return _csv_response("turnout-people.csv", csv_rows(header, rows()))

    @admin.get("/export/scans.csv")
    def export_scans(request: Request):
        signed_in(request)
        header = ["id", "event", "badge", "role", "kiosk", "ts", "received_at", "status",
                  "annulled", "annuls", "clock_ok", "seq"]
        return _csv_response("turnout-scans.csv", csv_rows(header, (
            [s["id"], s["event"], s["badge"], s["role"], s["kiosk"], s["ts"], s["received_at"],
             s["status"], s["annulled"], s["annuls"], s["clock_ok"], s["seq"]]
            for s in store.scans())))

    # -- privacy requests --

    @admin.get("/privacy")
    def privacy(request: Request):
        signed_in(request)
        pending = store.privacy_requests()
        return show(request, "admin/privacy.html", {
            "requests": [(r, store.person(r.badge)) for r in pending],
            "done": store.privacy_requests(include_resolved=True)[-20:]})

    @admin.post("/privacy/{request_id}/decline")
    async def decline(request: Request, request_id: int):
        signed_in(request)
        await checked_form(request)
        store.resolve_privacy_request(request_id, "declined")
        return done(request, "/admin/privacy", _("Request closed without erasing"))

    return admin


def _pdf(out: io.BytesIO, name: str) -> Response:
    return Response(out.getvalue(), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def mount(app: FastAPI, store: Store, templates: Jinja2Templates, settings) -> None:
    """Add ``/admin``; called by ``hub.web.app.mount_web`` after ``hub.web.security``."""

    @app.exception_handler(SignInNeeded)
    async def sign_in_first(request: Request, exc: SignInNeeded):
        target = request.url.path if request.method == "GET" else "/admin"
        return RedirectResponse(f"/admin/login?next={quote(target)}", status_code=303)

    app.include_router(router(store, templates))
