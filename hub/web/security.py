"""Sessions, CSRF tokens, admin passwords and rate limits for the hub's forms and admin.

- **Sessions** live in one cookie, ``turnout_session``, signed (and timestamped) with
  itsdangerous: HttpOnly, SameSite=Lax, and Secure whenever the page came over HTTPS (or always,
  with ``TURNOUT_HUB_HTTPS_ONLY=1``). A cookie is only set once a page needs a session (a form),
  so the public pages set none. A visitor's session (a CSRF token, the badges this browser
  registered) lives in the cookie alone, so the public forms write nothing per visitor. A page
  that read or changed the session is sent ``Cache-Control: no-store``; the others may be cached.
- **Signed-in sessions** are kept on the hub too (``hub.storage.sessions``): the cookie carries
  a random session id, the database its hash. Signing out deletes the row, so a copied cookie
  stops working; a session ends 12 hours after signing in however busy it is, or after 8 hours
  unused; a new admin password ends them all; at most 50 are kept.
- **CSRF**: a synchroniser token kept in the session and sent as a hidden field by every form;
  a POST without the matching token (or from another site's Origin) gets a friendly 403 page.
- **Passwords**: the admin password is hashed with Argon2id (argon2-cffi) and kept in the
  database; ``turnout-hub admin set-password`` sets it, or ``TURNOUT_HUB_ADMIN_PASSWORD`` on a
  hub that has none yet.
- **Rate limits**: wrong admin passwords slow further tries from that address (a back-off of
  at most a minute, so organisers are never locked out for long); privacy look-ups and badge
  claims are refused after too many failures per address *and* per badge in the hour, and a
  success clears neither count.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import FastAPI, Request
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup, escape
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection

from hub.store import Store

log = logging.getLogger("turnout.hub.web")

SESSION_COOKIE = "turnout_session"
SESSION_IDLE = 8 * 60 * 60  # unused this long, a session ends (the cookie's Max-Age too)
SESSION_LIFETIME = 12 * 60 * 60  # a long event day, however busy, then sign in again
SESSION_TOUCH = 60  # how often a signed-in session's last use is written down
MAX_SESSIONS = 50  # signed-in sessions kept at once: the oldest end first
CSRF_FIELD = "csrf_token"
PASSWORD_SETTING = "admin_password_hash"
SECRET_SETTING = "session_secret"
ENV_PASSWORD = "TURNOUT_HUB_ADMIN_PASSWORD"
ENV_SECRET = "TURNOUT_HUB_SECRET"
ENV_HTTPS_ONLY = "TURNOUT_HUB_HTTPS_ONLY"
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


# --- Passwords ---------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the admin password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash or not password:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_admin_password(store: Store, password: str) -> None:
    """Set the password and end every signed-in session (a leaked one must not outlive it)."""
    store.set_setting(PASSWORD_SETTING, hash_password(password))
    ended = store.end_all_sessions()
    if ended:
        log.info("admin password changed: %d organiser sessions signed out", ended)


def admin_password_hash(store: Store) -> str | None:
    """The stored hash; on a hub with none, the one from TURNOUT_HUB_ADMIN_PASSWORD (then kept)."""
    stored = store.setting(PASSWORD_SETTING)
    if stored is None and os.environ.get(ENV_PASSWORD):
        set_admin_password(store, os.environ[ENV_PASSWORD])
        log.info("admin password set from %s (first run)", ENV_PASSWORD)
        stored = store.setting(PASSWORD_SETTING)
    return stored


# --- Rate limits -------------------------------------------------------------------------------

@dataclass
class Attempts:
    """Failures per key (a client address, a badge) in a sliding window; blocked past ``limit``.

    Bounded: past ``max_keys`` keys, expired ones are dropped, then those failing longest ago.
    """

    limit: int = 5
    window: float = 15 * 60
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 10_000
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        cutoff = self.clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def count(self, key: str) -> int:
        return len(self._recent(key))

    def blocked(self, key: str) -> bool:
        return self.count(key) >= self.limit

    def failed(self, key: str) -> None:
        self._recent(key)
        self._failures.setdefault(key, deque()).append(self.clock())
        if len(self._failures) > self.max_keys:
            self._shrink()

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _shrink(self) -> None:
        for key in list(self._failures):
            self._recent(key)
        excess = len(self._failures) - self.max_keys * 9 // 10
        if excess > 0:
            for key in sorted(self._failures, key=lambda k: self._failures[k][-1])[:excess]:
                del self._failures[key]


@dataclass
class Backoff(Attempts):
    """Failures per key; past ``limit`` in the window, each try must wait twice as long as the
    one before (``first_wait``, 2, 4 … seconds, never more than ``longest``) after the last."""

    first_wait: float = 1.0
    longest: float = 60.0

    def retry_after(self, key: str) -> float:
        """Seconds until this key may try again; 0 when it may now."""
        times = self._recent(key)
        over = len(times) - self.limit
        if over < 0:
            return 0.0
        wait = min(self.longest, self.first_wait * 2 ** min(over, 30))
        return max(0.0, times[-1] + wait - self.clock())

    def blocked(self, key: str) -> bool:
        return self.retry_after(key) > 0


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- Sessions ----------------------------------------------------------------------------------

class Session(dict):
    """The session's data; remembers whether a page changed it, so the cookie is re-sent only then,
    and whether it read it, so the page is not kept in any cache (``Cache-Control: no-store``)."""

    def __init__(self, data: dict[str, Any] | None = None):
        super().__init__(data or {})
        self.modified = False
        self.read = False

    def __getitem__(self, key: str) -> Any:
        self.read = True
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read = True
        return super().__contains__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read = True
        return super().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.modified = True

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.modified = True

    def pop(self, key: str, *default: Any) -> Any:
        self.read = True
        self.modified = self.modified or key in self
        return super().pop(key, *default)

    def clear(self) -> None:
        self.modified = self.modified or bool(self)
        super().clear()


class SessionCookies:
    """ASGI middleware: ``request.session`` from a signed cookie, written back when changed."""

    def __init__(self, app, secret: str, https_only: bool | None = None,
                 max_age: int = SESSION_IDLE):
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret, salt="turnout-session")
        self.https_only = https_only
        self.max_age = max_age

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        had_cookie = SESSION_COOKIE in connection.cookies
        session = Session(self._load(connection.cookies.get(SESSION_COOKIE)))
        scope["session"] = session
        secure = self.https_only if self.https_only is not None else scope.get("scheme") == "https"

        async def send_with_cookie(message) -> None:
            if message["type"] == "http.response.start" and (session.read or session.modified):
                # A form's token, an organiser's view, the badge this browser registered.
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            if message["type"] == "http.response.start" and session.modified:
                headers = MutableHeaders(scope=message)
                if session:
                    value = self.serializer.dumps(dict(session))
                    headers.append("Set-Cookie", _cookie(value, self.max_age, secure))
                elif had_cookie:
                    headers.append("Set-Cookie", _cookie("", 0, secure))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _load(self, value: str | None) -> dict[str, Any]:
        if not value:
            return {}
        try:
            data = self.serializer.loads(value, max_age=self.max_age)
        except (BadSignature, ValueError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}


def _cookie(value: str, max_age: int, secure: bool) -> str:
    parts = [f"{SESSION_COOKIE}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


# --- CSRF --------------------------------------------------------------------------------------

class CsrfFailed(Exception):
    """A form came back without this session's token (expired, forged, or cookies off)."""


def csrf_token(request: Request) -> str:
    session = request.session
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_field(request: Request) -> Markup:
    """The hidden input every form carries: ``{{ csrf_field(request) }}``."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD,
                                                                      escape(csrf_token(request)))


def check_csrf(request: Request, form) -> None:
    """Refuse a POST whose token does not match the session's, or that another site sent."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise CsrfFailed(f"form posted from another site ({origin})")
    expected = request.session.get("csrf")
    sent = form.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(sent, str) \
            or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfFailed("missing or wrong form token")


async def checked_form(request: Request):
    """The POSTed form, after the CSRF check: use as the first line of every POST handler."""
    form = await request.form()
    check_csrf(request, form)
    return form


# --- Admin sign-in -----------------------------------------------------------------------------

def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass
class Security:
    """What the forms and admin pages share: the password, sign-in and sessions, rate limits."""

    store: Store
    clock: Callable[[], float] = time.time  # wall clock: sessions outlive a restart
    logins: Backoff = field(default_factory=Backoff)
    lookups: Attempts = field(default_factory=lambda: Attempts(limit=10, window=60 * 60))
    lookups_by_badge: Attempts = field(default_factory=lambda: Attempts(limit=10, window=60 * 60))
    # A venue's wifi may put many people behind one address: more room per address than per badge.
    claims: Attempts = field(default_factory=lambda: Attempts(limit=30, window=60 * 60))
    claims_by_badge: Attempts = field(default_factory=lambda: Attempts(limit=10, window=60 * 60))

    def password_hash(self) -> str | None:
        return admin_password_hash(self.store)

    def sign_in(self, request: Request) -> None:
        """A new session on the hub, under a new id (never one the browser brought)."""
        now = self.clock()
        self.store.prune_sessions(now - SESSION_LIFETIME, now - SESSION_IDLE)
        session_id = secrets.token_urlsafe(32)
        self.store.start_session(_digest(session_id), now, keep=MAX_SESSIONS)
        session = request.session
        session.clear()
        session["csrf"] = secrets.token_urlsafe(32)  # a fresh token for the signed-in session
        session["sid"] = session_id

    def sign_out(self, request: Request) -> None:
        """End the session on the hub as well as in the browser: a copied cookie stops working."""
        session_id = request.session.get("sid")
        if isinstance(session_id, str):
            self.store.end_session(_digest(session_id))
        request.session.clear()

    def is_admin(self, request: Request) -> bool:
        """Signed in: the cookie names a session the hub still has, within its time limits."""
        session_id = request.session.get("sid")
        if not isinstance(session_id, str) or len(session_id) > 100:
            return False  # a visitor: no database read, let alone a write
        digest = _digest(session_id)
        times = self.store.session_times(digest)
        if times is None:
            return False
        created_at, last_seen = times
        now = self.clock()
        if now - created_at >= SESSION_LIFETIME or now - last_seen >= SESSION_IDLE:
            self.store.end_session(digest)
            log.info("an organiser's admin session ended after %s", "12 hours"
                     if now - created_at >= SESSION_LIFETIME else "8 hours unused")
            return False
        if now - last_seen >= SESSION_TOUCH:
            self.store.touch_session(digest, now)
            request.session.modified = True  # re-send the cookie, so its Max-Age restarts too
        return True


def session_secret(store: Store) -> str:
    """TURNOUT_HUB_SECRET, else a random secret made on first run and kept in the database."""
    if os.environ.get(ENV_SECRET):
        return os.environ[ENV_SECRET]
    secret = store.setting(SECRET_SETTING)
    if secret is None:
        secret = secrets.token_urlsafe(48)
        store.set_setting(SECRET_SETTING, secret)
    return secret


def https_only_from_env() -> bool | None:
    value = os.environ.get(ENV_HTTPS_ONLY, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None  # follow the request: Secure over HTTPS


def mount(app: FastAPI, store: Store, templates: Jinja2Templates, settings,
          https_only: bool | None = None) -> Security:
    """Sessions and CSRF for the app; called by ``hub.web.app.mount_web``."""
    secret = session_secret(store)
    security = Security(store)
    app.state.security = security
    app.add_middleware(SessionCookies, secret=secret,
                       https_only=https_only if https_only is not None else https_only_from_env())
    templates.env.globals["csrf_field"] = csrf_field

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed):
        log.warning("refused a form on %s from %s: %s", request.url.path, client_key(request), exc)
        return templates.TemplateResponse(request, "form_expired.html", {}, status_code=403)

    return security
