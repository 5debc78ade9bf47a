"""Mount the web pages on the hub's FastAPI app: templates, static files, friendly errors.

``mount_web(app, store, settings)`` adds the public pages (``hub.web.pages``), the open data
(``hub.web.opendata``), the calendar feed (``hub.web.ics``), robots.txt and the sitemap
(``hub.web.indexing``), ``/static`` and the icons (``hub.web.assets``) and HTML 400/404/500
pages (the JSON API under ``/api`` keeps its JSON errors). Forms and admin (``hub.web.forms``,
``hub.web.admin``) are mounted the same way when present: each offers ``mount(app, store,
templates, settings)``.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.store import Store
from hub.web import i18n
from hub.web.i18n import N_, gettext as _

log = logging.getLogger("turnout.hub.web")

HERE = Path(__file__).parent
SERVICE_NAME = "Turnout"
OGL = ("Open Government Licence v3.0",
       "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")

# Header navigation: (label, path). A page is "current" when its path starts with the item's.
NAV = (
    (N_("Events"), "/events"),
    (N_("Leaderboard"), "/leaderboard"),
    (N_("Impact"), "/impact"),
    (N_("Open data"), "/data"),
    (N_("Register"), "/register"),
    (N_("Admin"), "/admin"),
)

# Optional modules built beside the public pages; each has mount(app, store, templates, settings).
EXTRA_MODULES = ("hub.web.security", "hub.web.forms", "hub.web.admin", "hub.web.badges",
                 "hub.web.subscriptions")


@dataclass(frozen=True)
class WebSettings:
    """What a hub's operator may change about its public pages."""

    service_name: str = SERVICE_NAME
    licence_name: str = OGL[0]
    licence_url: str = OGL[1]
    publisher: str = "Turnout organisers"
    # Hours per role for the impact page; roles left out use the rules file's [hours].
    hours_per_role: dict[str, float] = field(default_factory=dict)
    # How long personal data is kept, as the privacy notice says it.
    retention: str = "for as long as you keep your badge, or until you ask us to remove it"
    contact: str = "the organisers at any event"
    # For the calendar feed's UIDs; empty means the host the request came to.
    base_url: str = ""
    # Fixed "today" for tests and screenshots; None means the real date.
    today: Date | None = None
    # Statistics pages reuse their figures for this many seconds after the data changes,
    # rebuilding them in the background (results and personal pages are always live).
    stats_min_interval: float = 10.0
    stats_background: bool = True

    def now(self) -> Date:
        return self.today or Date.today()


def make_templates(settings: WebSettings, assets=None) -> Jinja2Templates:
    """The Jinja environment every page uses (autoescape on for .html, as Starlette sets it).

    Its words come from the ``hub`` catalogue in the request's language (``hub.web.i18n``):
    ``{{ _("…") }}`` and ``{% trans %}`` in templates, newstyle (placeholders by name, escaped)."""
    from hub.headers import is_noindex
    from hub.web.assets import Assets
    from hub.web.indexing import NOINDEX

    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.policies["ext.i18n.trimmed"] = True  # a message's line breaks and indents are not part of it
    env.globals.update(settings=settings, nav=NAV, service_name=settings.service_name,
                       static_url=(assets or Assets(HERE / "static")).url,
                       noindex=lambda path: is_noindex(path, NOINDEX),
                       languages=i18n.LANGUAGES, language=i18n.current_language,
                       language_tag=i18n.language_tag, switch_url=i18n.switch_url,
                       role_name=i18n.role_name, percent=i18n.percent,
                       milestone_name=i18n.milestone_name,
                       translated=i18n.gettext)  # a message id from Python, no %-formatting
    env.filters.update(long_date=long_date, short_date=short_date, month_name=month_name,
                       number=number, money=money)
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates


def mount_web(app: FastAPI, store: Store, settings: WebSettings | None = None) -> Jinja2Templates:
    """Add the HTML pages, static files and HTML error pages to the API app; returns templates."""
    from hub.reports import Reports
    from hub.web import assets as static, ics, indexing, opendata, pages

    settings = settings or WebSettings()
    assets = static.Assets(HERE / "static")
    templates = make_templates(settings, assets)
    reports = Reports(store, min_interval=settings.stats_min_interval,
                      background=settings.stats_background)
    app.state.templates = templates
    app.state.web_settings = settings
    app.state.reports = reports
    if settings.stats_background:
        reports.warm()
    app.state.noindex = indexing.NOINDEX
    app.mount("/static", static.VersionedStaticFiles(assets), name="static")
    app.include_router(static.router(assets))
    app.include_router(i18n.router())
    app.add_middleware(i18n.LanguageMiddleware)
    app.include_router(indexing.router(settings, reports))
    app.include_router(pages.router(store, templates, settings, reports))
    app.include_router(opendata.router(store, templates, settings, reports))
    app.include_router(ics.router(store, settings))
    for name in EXTRA_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise
            continue
        if hasattr(module, "mount"):
            module.mount(app, store, templates, settings)
    _error_pages(app, templates)
    return templates


def _error_pages(app: FastAPI, templates: Jinja2Templates) -> None:
    """Friendly HTML for people, JSON for the API; never a stack trace."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        template = "404.html" if exc.status_code == 404 else "error.html"
        return templates.TemplateResponse(request, template,
                                          {"status": exc.status_code, "detail": exc.detail},
                                          status_code=exc.status_code,
                                          headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_address(request: Request, exc: RequestValidationError) -> Response:
        """A query value a page cannot use: say which, never ignore it (the API says it in JSON)."""
        from hub.api import bad_request, invalid_parameters

        if _wants_json(request):
            return await invalid_parameters(request, exc)
        problems = [p.problem for p in bad_request(exc).problems]
        return templates.TemplateResponse(request, "error.html",
                                          {"status": 400, "detail": _("This address has a value the "
                                                        "page cannot use."), "problems": problems}, status_code=400)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("error on %s %s", request.method, request.url.path)
        if _wants_json(request):
            return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
        token = i18n.use_language_of(request.headers)  # made outside LanguageMiddleware
        try:
            return templates.TemplateResponse(request, "500.html", {}, status_code=500)
        except Exception:  # the error page itself must not fail
            return HTMLResponse("<h1>Sorry, there is a problem with the service</h1>", 500)
        finally:
            i18n.reset_language(token)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


# Template filters: dates and numbers in the request's language (hub.web.i18n, with Babel).
long_date, short_date, month_name = i18n.long_date, i18n.short_date, i18n.month_name
number, money = i18n.number, i18n.money
