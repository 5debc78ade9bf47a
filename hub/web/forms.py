"""Register, claim a pre-printed badge, and download the badge: the public forms.

Every form is a GOV.UK-style page: labels and hints, an error summary at the top linking to
each field, the error beside the field, and the values kept so nothing has to be typed twice.
A badge page and its PDF are shown only to the browser that registered or claimed the badge
(it is remembered in the session) and to signed-in organisers: badge codes are sequential, so
anyone could guess one, and the badge carries the full name.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from hub.claims import claim_code_matches, normalise_claim_code
from hub.people import CONSENTS, DEFAULT_CONSENT, FULL, HIDDEN, INITIAL
from hub.printing.badges import BadgeSpec, badges_pdf
from hub.store import Person, Store
from hub.text import one_line
from hub.web.i18n import N_, current_language, gettext as _
from hub.web.security import checked_form, client_key
from turnout.codes import damm_valid, is_badge

log = logging.getLogger("turnout.hub.web")

MAX_NAME = 100  # as the store allows
MAX_ORG = 120
MAX_EMAIL = 254
REMEMBERED_BADGES = 10  # badges a browser may reopen after registering them

# Messages here are English message ids (N_): the form templates say them in the page's language.
CONSENT_CHOICES = (
    (INITIAL, N_("My first name and the first letter of my last name"),
     N_("For example, Ada L. This is what we do if you do not choose.")),
    (FULL, N_("My full name"), N_("As you type it above.")),
    (HIDDEN, N_("Do not show my name"),
     N_("Your points still count, and the kiosk still greets you, but no public page names you.")),
)
ALREADY_CLAIMED = N_("That badge has already been claimed. If it is yours, ask an organiser to help")
NO_CLAIM_CODE = N_("Enter the claim code printed on your badge")
WRONG_CLAIM_CODE = N_("That claim code does not match the badge. Check it against your badge")
TOO_MANY_CLAIMS = N_("You have tried too many times. Wait an hour and try again, or ask an organiser")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CODE_SHAPE = re.compile(r"^T[0-9]{2,18}$")


@dataclass
class FormState:
    """What was typed, and what is wrong with it (field id -> message, in page order)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- Validation (pure) ---------------------------------------------------------------------------

def clean_text(value: Any) -> str:
    """Any letters are welcome; control and invisible formatting characters are not (hub.text)."""
    return one_line(value)


def read_person(form) -> FormState:
    """The name, organisation, email, junior and consent fields shared by register and claim."""
    state = FormState()
    name = clean_text(form.get("name"))
    org = clean_text(form.get("organisation"))
    email = clean_text(form.get("email"))
    consent = form.get("consent") or DEFAULT_CONSENT
    state.values.update(name=name, organisation=org, email=email,
                        junior=form.get("junior") == "yes", consent=consent,
                        results_email=form.get("results_email") == "yes")
    if not name:
        state.errors["name"] = N_("Enter your name or a nickname")
    elif len(name) > MAX_NAME:
        state.errors["name"] = _("Name must be %(most)s characters or fewer") % {"most": MAX_NAME}
    if len(org) > MAX_ORG:
        state.errors["organisation"] = _("Organisation must be %(most)s characters or fewer") % {"most": MAX_ORG}
    if email and (len(email) > MAX_EMAIL or not _EMAIL.match(email)):
        state.errors["email"] = N_("Enter an email address in the correct format, like name@example.com")
    if state.values["results_email"] and not email and "email" not in state.errors:
        state.errors["results_email"] = N_("Enter your email address above to get results emails")
    if consent not in CONSENTS:
        state.errors["consent"] = N_("Choose how your name appears on public pages")
        state.values["consent"] = DEFAULT_CONSENT
    return state


def normalise_code(text: Any) -> str:
    """What people type from a badge: spaces and dashes dropped, a lower-case t, or no T at all."""
    code = re.sub(r"[\s-]+", "", str(text or "")).upper()
    return "T" + code if code.isdigit() else code


def code_problem(code: str) -> str | None:
    """Why a typed code cannot be a badge: empty, the wrong shape, or a typo (Damm check)."""
    if not code:
        return N_("Enter the code printed on your badge")
    if not _CODE_SHAPE.match(code):
        return N_("A badge code is the letter T followed by numbers, like T10019")
    if not damm_valid(code[1:]):
        return N_("That code has a typo: check each number against your badge")
    return None


def claim_problems(person: Person | None, typed_claim: str) -> dict[str, str]:
    """Why this badge cannot be claimed at /claim with this claim code; empty when it can.

    Badge codes are sequential, so the code alone would let anyone claim a stack of blank
    badges by counting: the claim code printed on the badge (``hub.claims``) shows it was
    handed to them. Badges printed before claim codes have none: only an organiser claims those.
    """
    if person is None:
        return {"code": N_("We have no badge with that code. Check it against your badge, "
                           "or register for a new badge")}
    if person.claimed:
        return {"code": ALREADY_CLAIMED}
    if person.claim_code is None:
        return {"code": N_("This badge was printed before badges had claim codes. "
                           "Ask an organiser to claim it for you")}
    if not typed_claim:
        return {"claim_code": NO_CLAIM_CODE}
    if not claim_code_matches(typed_claim, person.claim_code):
        return {"claim_code": WRONG_CLAIM_CODE}
    return {}


# --- Pages -------------------------------------------------------------------------------------

def remember_badge(request: Request, code: str) -> None:
    badges = [b for b in request.session.get("badges", []) if isinstance(b, str) and b != code]
    request.session["badges"] = (badges + [code])[-REMEMBERED_BADGES:]


def may_see_badge(request: Request, code: str) -> bool:
    security = request.app.state.security
    return code in request.session.get("badges", []) or security.is_admin(request)


def router(store: Store, templates: Jinja2Templates) -> APIRouter:
    pages = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

    def show(request: Request, name: str, context: dict[str, Any], status_code: int = 200):
        context.setdefault("consent_choices", CONSENT_CHOICES)
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    @pages.get("/register")
    def register_form(request: Request):
        return show(request, "register.html", {"form": FormState(values={"consent": DEFAULT_CONSENT})})

    @pages.post("/register")
    async def register(request: Request):
        form = await checked_form(request)
        state = read_person(form)
        if not state.ok:
            return show(request, "register.html", {"form": state}, status_code=400)
        v = state.values
        person = store.add_person(v["name"], junior=v["junior"], org=v["organisation"],
                                  email=v["email"], consent=v["consent"],
                                  results_email=v["results_email"],
                                  language=current_language())  # the language the form was in
        log.info("registered badge %s at /register", person.badge)
        remember_badge(request, person.badge)
        return RedirectResponse(f"/badges/{person.badge}?new=1", status_code=303)

    @pages.get("/claim")
    def claim_form(request: Request):
        return show(request, "claim.html", {"form": FormState(values={"consent": DEFAULT_CONSENT})})

    @pages.post("/claim")
    async def claim(request: Request):
        """A blank badge becomes someone's only with its claim code (see ``claim_problems``).

        Refusals are counted: a wrong claim code against the address and the badge, a badge
        that cannot be claimed against the address; past either limit, no tries for the hour.
        """
        form = await checked_form(request)
        security = request.app.state.security
        key = client_key(request)
        state = read_person(form)
        code = normalise_code(form.get("code"))
        typed_claim = normalise_claim_code(form.get("claim_code"))
        state.values["code"] = code or clean_text(form.get("code"))[:40]
        state.values["claim_code"] = clean_text(form.get("claim_code"))[:40]
        problem = code_problem(code)
        if problem is not None:  # a typo: nothing looked up, nothing counted
            problems = {"code": problem, **({} if typed_claim else {"claim_code": NO_CLAIM_CODE})}
        elif security.claims.blocked(key) or security.claims_by_badge.blocked(code):
            log.warning("claim of badge %s from %s refused: too many tries", code, key)
            state.errors = {"code": TOO_MANY_CLAIMS, **state.errors}
            return show(request, "claim.html", {"form": state}, status_code=429)
        else:
            problems = claim_problems(store.person(code), typed_claim)
            wrong_claim_code = problems.get("claim_code") == WRONG_CLAIM_CODE
            if wrong_claim_code:
                security.claims_by_badge.failed(code)
            if wrong_claim_code or "code" in problems:
                security.claims.failed(key)
                log.warning("claim of badge %s from %s refused: %s", code, key,
                            "wrong claim code" if wrong_claim_code else problems["code"])
        state.errors = {**problems, **state.errors}
        if not state.ok:
            return show(request, "claim.html", {"form": state}, status_code=400)
        v = state.values
        try:
            person = store.claim(code, v["name"], junior=v["junior"], org=v["organisation"],
                                 email=v["email"], consent=v["consent"],
                                 results_email=v["results_email"], language=current_language())
        except ValueError:  # claimed by someone else a moment ago
            state.errors = {"code": ALREADY_CLAIMED, **state.errors}
            return show(request, "claim.html", {"form": state}, status_code=400)
        log.info("badge %s claimed at /claim", person.badge)
        remember_badge(request, person.badge)
        return RedirectResponse(f"/badges/{person.badge}?claimed=1", status_code=303)

    @pages.get("/badges/{code}.pdf")
    def badge_pdf(request: Request, code: str):
        person = store.person(code) if is_badge(code) else None
        if person is None or not person.claimed or not may_see_badge(request, code):
            raise HTTPException(404, _("No badge to download here"))
        out = io.BytesIO()
        badges_pdf(out, [BadgeSpec(person.badge, person.name, person.org, junior=person.junior)],
                   layout="single")
        return Response(out.getvalue(), media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="badge-{person.badge}.pdf"',
            "Cache-Control": "no-store"})

    @pages.get("/badges/{code}")
    def badge_ready(request: Request, code: str, new: int = 0, claimed: int = 0):
        person = store.person(code) if is_badge(code) else None
        if person is None or not person.claimed or not may_see_badge(request, code):
            raise HTTPException(404, _("No badge here"))
        standing = store.standing(code) if claimed else None
        return show(request, "badge_ready.html", {"person": person, "new": bool(new),
                                                  "claimed": bool(claimed), "standing": standing})

    return pages


def mount(app: FastAPI, store: Store, templates: Jinja2Templates, settings) -> None:
    """Add the register, claim, badge and privacy forms; called by ``hub.web.app.mount_web``."""
    from hub.web import privacy

    app.include_router(router(store, templates))
    app.include_router(privacy.router(store, templates, settings))
