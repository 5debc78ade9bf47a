"""The web pages in Welsh or English: which language a request gets, and words, dates and
numbers in it.

A visitor chooses with the switcher in every page's header (a plain link to ``/language/<code>``,
no script): the choice is kept in the ``turnout_lang`` cookie for a year. Without that cookie the
browser's ``Accept-Language`` decides, then English. ``LanguageMiddleware`` settles the language
once per request and keeps it in a context variable, so templates (Jinja's i18n extension), form
errors and messages in Python, and the date and number filters all read the same one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date as Date
from typing import Any
from urllib.parse import quote

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from turnout.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, milestone_name as _milestone_name, translations

__all__ = ["N_", "gettext", "ngettext", "current_language"]

COOKIE = "turnout_lang"
COOKIE_MAX_AGE = 365 * 24 * 60 * 60
# The language's tag for lang="" and Babel's locale for dates and numbers.
TAGS = {"en": "en-GB", "cy": "cy"}
LOCALES = {"en": "en_GB", "cy": "cy_GB"}
MAX_ACCEPT_LANGUAGE = 512  # characters of the header read; browsers send far fewer

_language: ContextVar[str] = ContextVar("turnout_language", default=DEFAULT_LANGUAGE)


def current_language() -> str:
    return _language.get()


def language_tag() -> str:
    return TAGS[_language.get()]


def gettext(message: str) -> str:
    if not message:  # gettext("") would be the catalogue's header
        return message or ""
    return translations("hub", _language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations("hub", _language.get()).ngettext(singular, plural, n)


# The default roles' names (rules.default.toml), so pages can say them in Welsh; a role an
# organiser adds is shown as its own name.
ROLE_NAMES = (N_("Attend"), N_("Pitch"), N_("Cake"), N_("Tidy"), N_("Organise"))


def role_name(role: str) -> str:
    """'cake' -> 'Cake' ('Cacen' in Welsh)."""
    return gettext(role.replace("_", " ").capitalize())


def milestone_name(name: str) -> str:
    """'25 club' -> 'Clwb 25' in Welsh (names the rules made; others as they are)."""
    return _milestone_name(name, gettext)


def from_accept_language(header: str) -> str | None:
    """The language the browser prefers most among ours ("cy-GB,cy;q=0.9,en;q=0.8" -> "cy")."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(header[:MAX_ACCEPT_LANGUAGE].split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        code = tag.strip().lower().split("-")[0]
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if code in LANGUAGES and quality > 0 and (best is None or (-quality, position) < best[:2]):
            best = (-quality, position, code)
    return best[2] if best else None


def choose(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    return from_accept_language(accept_language or "") or DEFAULT_LANGUAGE


def language_of(headers: Headers) -> str:
    """The language a request asks for: its cookie, else its Accept-Language, else English."""
    return choose(cookie_parser(headers.get("cookie", "")).get(COOKIE), headers.get("accept-language"))


def use_language_of(headers: Headers):
    """Set the request's language where LanguageMiddleware has not (the server-error page is
    made outside it); returns the token to reset it with."""
    return _language.set(language_of(headers))


def reset_language(token) -> None:
    _language.reset(token)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Words, dates and numbers in ``language`` outside a request: a results email is in its
    recipient's language, whoever's request or thread composes it."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    token = _language.set(language)
    try:
        yield
    finally:
        _language.reset(token)


class LanguageMiddleware:
    """Settles each request's language (see the module's docstring)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = use_language_of(Headers(scope=scope))

        async def send_varying(message: Message) -> None:
            # A page's words depend on both: no cache may hand a Welsh page to an English reader.
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                if response_headers.get("content-type", "").startswith("text/html"):
                    response_headers.add_vary_header("Cookie")
                    response_headers.add_vary_header("Accept-Language")
            await send(message)

        try:
            await self.app(scope, receive, send_varying)
        finally:
            _language.reset(token)


def safe_next(path: str | None) -> str:
    """Back to a page on this site only: a path, never another host ("//evil", "https:…")."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def switch_url(code: str, path: str, query: str = "") -> str:
    """The switcher's link: choose ``code`` and come back to this page."""
    here = path + (f"?{query}" if query else "")
    return f"/language/{code}?next={quote(here, safe='/')}"


def router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/language/{code}")
    def choose_language(request: Request, code: str, next: str = "/"):
        response = RedirectResponse(safe_next(next), status_code=303)
        if code in LANGUAGES:
            response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, httponly=True, samesite="lax",
                                secure=request.url.scheme == "https")
        return response

    return pages


# --- Dates and numbers as a reader of the page's language expects them. ---------------------

def _day(value: str | Date) -> Date:
    return Date.fromisoformat(value[:10]) if isinstance(value, str) else value


def long_date(value: str | Date | None) -> str:
    """'Saturday 18 January 2025'; 'Dydd Sadwrn 18 Ionawr 2025'."""
    return format_date(_day(value), "EEEE d MMMM y", locale=LOCALES[_language.get()]) if value else ""


def short_date(value: str | Date | None) -> str:
    """'18 Jan 2025'; '18 Ion 2025'."""
    return format_date(_day(value), "d MMM y", locale=LOCALES[_language.get()]) if value else ""


def month_name(value: str) -> str:
    """'2025-01' -> 'January 2025'; 'Ionawr 2025'."""
    year, month = value[:7].split("-")
    return format_date(Date(int(year), int(month), 1), "LLLL y", locale=LOCALES[_language.get()])


def short_month(value: str) -> str:
    """'2025-01' -> 'Jan 25' (a chart's axis)."""
    year, month = value[:7].split("-")
    return format_date(Date(int(year), int(month), 1), "LLL yy", locale=LOCALES[_language.get()])


def month_only(value: str, short: bool = False) -> str:
    """'2025-01' -> 'January' ('Jan' when short); 'Ionawr' ('Ion')."""
    year, month = value[:7].split("-")
    return format_date(Date(int(year), int(month), 1), "LLL" if short else "LLLL",
                       locale=LOCALES[_language.get()])


def percent(fraction: float) -> str:
    """0.42 -> '42%'."""
    return format_percent(fraction, "#,##0%", locale=LOCALES[_language.get()])


def number(value: Any, places: int | None = None) -> str:
    """'1,234'; a fraction keeps one decimal place ('10.5') unless ``places`` says otherwise."""
    if value is None:
        return ""
    if places is None:
        places = 0 if float(value).is_integer() else 1
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, pattern, locale=LOCALES[_language.get()])


def money(pence: int | float | None) -> str:
    """Pounds from pence: '£1,234' or '£2.50'."""
    if pence is None:
        return ""
    pounds = pence / 100
    pattern = "¤#,##0" if float(pounds).is_integer() else "¤#,##0.00"
    return format_currency(pounds, "GBP", pattern, locale=LOCALES[_language.get()],
                           currency_digits=False)
