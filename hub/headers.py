"""The headers every response carries, and compression: one place for both.

``hub.api.HubApp`` wraps its whole app in ``SecurityHeaders`` (outside even Starlette's own
server-error handler, so a 500 page has them too) and adds ``Compression`` as a middleware.

- **Content-Security-Policy**: everything from the hub's own origin only, no script at all (no
  page needs any), inline styles only by hash (the API's ``/docs`` page), framing by no one.
- ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``; ``nosniff``;
  ``Referrer-Policy: same-origin`` (a person's address never leaves for another site);
  ``Permissions-Policy`` turning off camera, microphone, geolocation, payment and USB;
  ``Cross-Origin-Opener-Policy: same-origin``.
- **Strict-Transport-Security** only on responses served over HTTPS: directly, or behind a proxy
  uvicorn trusts to say so (``X-Forwarded-Proto`` from ``trusted_proxies`` in hub.toml).
- ``X-Robots-Tag: noindex`` on the pages search engines should leave alone (``hub.web.indexing``).
- **Compression**: gzip for text (HTML, JSON, CSV, SVG, CSS, calendars) of 500 bytes or more;
  not for what is compressed already (PDF, PNG), and not for anyone with a session cookie, so a
  page holding a form token or an organiser's view is never compressed beside text an attacker
  chose (BREACH).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000"  # a year; no includeSubDomains: a council's other hosts are not ours
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
COMPRESS_FROM = 500  # bytes: below this gzip's own header costs more than it saves
COMPRESS_LEVEL = 6  # nearly level 9's size for much less of a Pi's time
# Compressed already: gzip would spend time to gain nothing.
NOT_COMPRESSED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf")


def style_hash(css: str) -> str:
    """The CSP source that lets exactly this inline ``<style>`` text apply."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


def content_security_policy(style_hashes: Iterable[str] = ()) -> str:
    styles = " ".join(["'self'", *sorted(set(style_hashes))])
    return "; ".join([
        "default-src 'self'", "script-src 'none'", f"style-src {styles}", "img-src 'self'",
        "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ])


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response, whatever made it."""

    def __init__(self, app: ASGIApp, style_hashes: Iterable[str] = (),
                 noindex: tuple[str, ...] = ()):
        self.app = app
        self.noindex = noindex
        self.headers = [
            ("Content-Security-Policy", content_security_policy(style_hashes)),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            ("Permissions-Policy", PERMISSIONS),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        hidden = is_noindex(scope.get("path", ""), self.noindex)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if hidden:
                    headers.setdefault("X-Robots-Tag", "noindex")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def is_noindex(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in prefixes)


class Compression:
    """gzip (Starlette's GZipMiddleware) for visitors without a session cookie."""

    def __init__(self, app: ASGIApp, session_cookie: str = "turnout_session"):
        self.app = app
        self.session_cookie = session_cookie
        self.gzip = GZipMiddleware(app, minimum_size=COMPRESS_FROM, compresslevel=COMPRESS_LEVEL,
                                   exclude_content_types=NOT_COMPRESSED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.session_cookie in Headers(scope=scope).get("cookie", ""):
            await self.app(scope, receive, send)
        else:
            await self.gzip(scope, receive, send)
