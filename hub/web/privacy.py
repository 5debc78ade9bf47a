"""A person's own data: download everything held about them, and ask for it to be erased.

Proving it is them takes two things: the code on their badge (which anyone at an event might
see) and the email address they gave when registering (which nobody else sees). People who
gave no email ask an organiser, who checks who they are in person and uses the admin pages.
Look-ups are rate limited per address and per badge, and a wrong answer never says which half
was wrong.
Erasure is only ever done by an organiser confirming the request (``/admin/privacy``).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from hub.store import Person, Store, utc_now
from hub.web.forms import FormState, clean_text, code_problem, normalise_code
from hub.web.i18n import N_
from hub.web.security import checked_form, client_key

log = logging.getLogger("turnout.hub.web")

# English message ids (N_): the form templates say them in the page's language.
NO_MATCH = N_("We could not match that badge code and email address. Check both, or ask an "
              "organiser at any event to help")
TOO_MANY = N_("You have tried too many times. Wait an hour and try again, or ask an organiser")


def person_data(store: Store, person: Person) -> dict[str, Any]:
    """Everything the hub holds about one badge, as the person would download it."""
    standing = store.standing(person.badge)
    events = {e.id: e for e in store.events()}
    return {
        "about": "Everything the Turnout hub holds about this badge.",
        "generated_at": utc_now(),
        "badge": person.badge,
        "name": person.name,
        "organisation": person.org,
        "email": person.email,
        "junior": person.junior,
        "public_name_choice": person.consent,
        "shown_on_public_pages_as": person.public_name,
        "registered_at": person.created_at,
        "claimed_at": person.claimed_at,
        "erased_at": store.erased_at(person.badge),
        "results_email": person.results_email,
        "email_language": person.language,
        "badges_name_you_by": "your badge page" if person.badge_recipient == "page" else "your email (hashed)",
        "credentials": [{"id": c.id, "milestone": c.milestone, "issued_at": c.issued_at,
                         "revoked_at": c.revoked_at, "revoked_why": c.revoked_why}
                        for c in store.credentials_of(person.badge)],
        "points": standing.points,
        "events_attended": standing.attended,
        "volunteer_occasions": standing.volunteered,
        "roles": standing.roles,
        "milestones": [{"name": m.name, "reached_on": m.reached_on, "event": m.event}
                       for m in standing.milestones],
        "scans": [{"id": s["id"], "event": s["event"],
                   "event_name": events[s["event"]].name if s["event"] in events else None,
                   "role": s["role"], "kiosk": s["kiosk"], "scanned_at": s["ts"],
                   "received_at": s["received_at"], "status": s["status"],
                   "undone": bool(s["annulled"]), "undoes": s["annuls"]}
                  for s in store.scans(badge=person.badge)],
        "badges_merged_into_this_one": store.merged_from(person.badge),
        "privacy_requests": [{"kind": r.kind, "note": r.note, "requested_at": r.requested_at,
                              "resolved_at": r.resolved_at, "resolution": r.resolution}
                             for r in store.privacy_requests(person.badge, include_resolved=True)],
        "refused_scans_naming_this_badge": [
            {"received_at": q.received_at, "kiosk": q.kiosk, "reason": q.reason, "payload": q.payload}
            for q in store.quarantined_for(person.badge)],
    }


def data_download(store: Store, person: Person) -> Response:
    body = json.dumps(person_data(store, person), indent=2, ensure_ascii=False)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="turnout-{person.badge}.json"',
        "Cache-Control": "no-store"})


def _same_email(given: str, on_record: str | None) -> bool:
    if not on_record or not given:
        return False
    return hmac.compare_digest(given.strip().casefold().encode(), on_record.strip().casefold().encode())


def router(store: Store, templates: Jinja2Templates, settings) -> APIRouter:
    pages = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

    def show(request: Request, name: str, form: FormState, status_code: int = 200, **extra):
        return templates.TemplateResponse(request, name, {"form": form, **extra},
                                          status_code=status_code)

    def identify(request: Request, form) -> tuple[FormState, Person | None]:
        """Check the badge code and email together.

        Failures count against the address *and* the badge (so many addresses cannot share
        out the guesses at one person's email), and a success clears neither: looking up
        your own badge must not buy more guesses at someone else's.
        """
        security = request.app.state.security
        code = normalise_code(form.get("code"))
        email = clean_text(form.get("email"))
        state = FormState(values={"code": code or clean_text(form.get("code"))[:40], "email": email,
                                  "note": clean_text(form.get("note"))[:500]})
        key = client_key(request)
        if security.lookups.blocked(key) or security.lookups_by_badge.blocked(code):
            log.warning("privacy look-up for %s from %s refused: too many tries", code[:20], key)
            state.errors["code"] = TOO_MANY
            return state, None
        problem = code_problem(code)
        if problem:
            state.errors["code"] = problem
        if not email:
            state.errors["email"] = N_("Enter the email address you gave when you registered")
        if state.errors:
            return state, None
        person = store.person(code)
        if person is None or not person.claimed or store.erased_at(code) \
                or not _same_email(email, person.email):
            security.lookups.failed(key)
            security.lookups_by_badge.failed(code)  # a valid code: code_problem passed
            log.warning("privacy look-up for %s from %s did not match", code, key)
            state.errors["code"] = NO_MATCH
            return state, None
        return state, person

    @pages.get("/privacy/download")
    def download_form(request: Request):
        return show(request, "privacy_download.html", FormState())

    @pages.post("/privacy/download")
    async def download(request: Request):
        state, person = identify(request, await checked_form(request))
        if person is None:
            return show(request, "privacy_download.html", state, status_code=400)
        log.info("badge %s downloaded their data", person.badge)
        return data_download(store, person)

    @pages.get("/privacy/erase")
    def erase_form(request: Request):
        return show(request, "privacy_erase.html", FormState())

    @pages.post("/privacy/erase")
    async def erase(request: Request):
        state, person = identify(request, await checked_form(request))
        if person is None:
            return show(request, "privacy_erase.html", state, status_code=400)
        store.request_privacy(person.badge, "erase", state.values["note"])
        log.info("badge %s asked to be erased; waiting for an organiser", person.badge)
        return show(request, "privacy_requested.html", state)

    return pages
