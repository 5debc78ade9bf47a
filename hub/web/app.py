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
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.store import Store

log = logging.getLogger("turnout.hub.web")

HERE = Path(__file__).parent
SERVICE_NAME = "Turnout"
OGL = ("Open Government Licence v3.0",
       "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")

# Header navigation: (label, path). A page is "current" when its path starts with the item's.
NAV = (
    ("Events", "/events"),
    ("Leaderboard", "/leaderboard"),
    ("Impact", "/impact"),
    ("Open data", "/data"),
    ("Register", "/register"),
    ("Admin", "/admin"),
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
    """The Jinja environment every page uses (autoescape on for .html, as Starlette sets it)."""
    from hub.headers import is_noindex
    from hub.web.assets import Assets
    from hub.web.indexing import NOINDEX

    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    # Every sentence is marked for gettext; English until catalogues are installed (i18n).
    env.add_extension("jinja2.ext.i18n")
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(settings=settings, nav=NAV, service_name=settings.service_name,
                       static_url=(assets or Assets(HERE / "static")).url,
                       noindex=lambda path: is_noindex(path, NOINDEX))
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
                                          {"status": 400, "detail": "This address has a value the "
                                           "page cannot use.", "problems": problems}, status_code=400)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("error on %s %s", request.method, request.url.path)
        if _wants_json(request):
            return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
        try:
            return templates.TemplateResponse(request, "500.html", {}, status_code=500)
        except Exception:  # the error page itself must not fail
            return HTMLResponse("<h1>Sorry, there is a problem with the service</h1>", 500)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


# --- Template filters: plain words and numbers as a British reader expects them. -------------

def long_date(value: str | Date | None) -> str:
    """'Saturday 18 January 2025'."""
    if not value:
        return ""
    day = Date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_date(value: str | Date | None) -> str:
    """'18 Jan 2025'."""
    if not value:
        return ""
    day = Date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{day.day} {day:%b %Y}"


def month_name(value: str) -> str:
    """'2025-01' -> 'January 2025'."""
    year, month = value[:7].split("-")
    return f"{Date(int(year), int(month), 1):%B %Y}"


def number(value: Any, places: int | None = None) -> str:
    """'1,234'; a fraction keeps one decimal place ('10.5') unless ``places`` says otherwise."""
    if value is None:
        return ""
    if places is None:
        places = 0 if float(value).is_integer() else 1
    return f"{value:,.{places}f}"


def money(pence: int | float | None) -> str:
    """Pounds from pence: '£1,234' or '£2.50'."""
    if pence is None:
        return ""
    pounds = pence / 100
    return f"£{pounds:,.0f}" if float(pounds).is_integer() else f"£{pounds:,.2f}"
