"""A person's results-email choice and badge naming: RFC 8058 one-click unsubscribe, the
unsubscribe page an email links to, and the settings form on the person's own page (shown only
to the browser that registered or claimed the badge, and to organisers).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from hub.store import RECIPIENT_CHOICES, Store
from hub.unsubscribe import badge_from_token
from hub.web.forms import may_see_badge
from hub.web.i18n import gettext as _
from hub.web.security import checked_form
from turnout.codes import is_badge
from turnout.i18n import LANGUAGES

log = logging.getLogger("turnout.hub.web")


def router(store: Store, templates: Jinja2Templates) -> APIRouter:
    pages = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

    def badge_or_404(token: str) -> str:
        badge = badge_from_token(store, token)
        if badge is None or store.person(badge) is None:
            raise HTTPException(404, _("That unsubscribe link is not one of ours. Check it was "
                                       "copied whole."))
        return badge

    @pages.get("/unsubscribe/{token}")
    def unsubscribe_page(request: Request, token: str):
        badge = badge_or_404(token)
        person = store.person(badge)
        return templates.TemplateResponse(request, "unsubscribe.html", {
            "token": token, "subscribed": bool(person and person.results_email), "done": False})

    @pages.post("/unsubscribe/{token}")
    async def unsubscribe(request: Request, token: str):
        """RFC 8058: the mail provider posts ``List-Unsubscribe=One-Click`` here with no cookie
        or form token, so the signed link alone is the authority (no CSRF check on purpose)."""
        badge = badge_or_404(token)
        if store.unsubscribe(badge):
            log.info("badge %s unsubscribed from results emails", badge)
        if "text/html" not in request.headers.get("accept", ""):
            return Response(status_code=204)  # a mail provider: nothing to show
        return templates.TemplateResponse(request, "unsubscribe.html",
                                          {"token": token, "subscribed": False, "done": True})

    @pages.post("/people/{badge}/settings")
    async def settings(request: Request, badge: str):
        form = await checked_form(request)
        person = store.person(badge) if is_badge(badge) else None
        if person is None or not person.claimed or not may_see_badge(request, badge):
            raise HTTPException(404, _("There is no registered badge with that code."))
        wants = form.get("results_email") == "yes"
        recipient = form.get("badge_recipient") or person.badge_recipient
        if recipient not in RECIPIENT_CHOICES:
            raise HTTPException(400, _("Choose how your badges name you."))
        language = form.get("language") or person.language
        if language not in LANGUAGES:
            raise HTTPException(400, _("Choose a language for your emails."))
        if wants and not person.email:
            return RedirectResponse(f"/people/{badge}?settings=no-email#settings", status_code=303)
        store.update_person(badge, results_email=wants, badge_recipient=recipient, language=language)
        return RedirectResponse(f"/people/{badge}?settings=saved#settings", status_code=303)

    return pages


def mount(app: FastAPI, store: Store, templates: Jinja2Templates, settings) -> None:
    app.include_router(router(store, templates))
