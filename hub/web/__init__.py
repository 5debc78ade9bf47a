"""The hub's web pages: server-rendered HTML that works without JavaScript.

``create_web_app(store)`` is the JSON API app from ``hub.api.create_app`` with the pages, static
files and friendly error pages added by ``hub.web.app.mount_web``. ``turnout-hub serve`` uses it.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from hub.store import Store
from hub.web.app import WebSettings, mount_web
from turnout.protocol import Topics

__all__ = ["WebSettings", "create_web_app", "mount_web"]


def create_web_app(store: Store, publish_config: Callable[[str], None] | None = None,
                   settings: WebSettings | None = None, topics: Topics | None = None,
                   rate_limit=None, issuer=None, email_worker=None) -> FastAPI:
    """The JSON API plus every web page, as ``turnout-hub serve`` runs it; ``rate_limit`` (a
    ``hub.ratelimit.RateLimit``) replaces the API's allowance per address, e.g. for a fuzzer.
    ``issuer`` signs milestone badges (``hub.badges.issuer``; default: one for the settings'
    address) and ``email_worker`` is nudged when an organiser closes an event."""
    from hub.api import create_app

    app = create_app(store, publish_config=publish_config, topics=topics, rate_limit=rate_limit)
    app.state.issuer = issuer
    app.state.email_worker = email_worker
    mount_web(app, store, settings or WebSettings())
    return app
