"""Unsubscribe links: a signed badge code, so the link alone (no sign-in) stops the emails.

The key is a random secret kept in the database, made on first use and separate from the
session secret, so rotating one does not break the other.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeSerializer

SECRET_SETTING = "unsubscribe_secret"


def _serializer(store) -> URLSafeSerializer:
    secret = store.setting(SECRET_SETTING)
    if secret is None:
        secret = secrets.token_urlsafe(32)
        store.set_setting(SECRET_SETTING, secret)
    return URLSafeSerializer(secret, salt="turnout-unsubscribe")


def unsubscribe_token(store, badge: str) -> str:
    return _serializer(store).dumps(badge)


def badge_from_token(store, token: str) -> str | None:
    """The badge an unsubscribe token was made for, or None if it is not one of ours."""
    if len(token) > 200:
        return None
    try:
        badge = _serializer(store).loads(token)
    except BadSignature:
        return None
    return badge if isinstance(badge, str) else None
