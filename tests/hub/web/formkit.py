"""What the form, admin and privacy tests share: a hub on a temporary database, a client that
keeps its session cookie, the CSRF token from a page, scans sent through the real intake."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from hub.intake import Intake
from hub.store import Store
from tests.hub.kiosks import make_scan
from turnout.protocol import Topics

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

from hub.web import create_web_app  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402

from hub.web import security  # noqa: E402
from hub.web.security import set_admin_password  # noqa: E402

# Argon2 with its recommended cost takes ~0.25 s here per hash or check; tests sign in dozens of
# times, so they use the same algorithm (argon2id) at its lowest cost.
security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

PASSWORD = "correct horse battery staple"
HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


class Clock:
    """A clock for rate limits and sessions that a test moves by hand (never by sleeping)."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Hub:
    store: Store
    app: object
    published: list[str] = field(default_factory=list)

    def client(self, https: bool = False, address: str = "testclient") -> TestClient:
        """A browser; ``address`` is where the hub sees it come from (rate limits count by it)."""
        base = "https://testserver" if https else "http://testserver"
        return TestClient(self.app, base_url=base, raise_server_exceptions=False,
                          client=(address, 50000))

    def admin(self) -> TestClient:
        client = self.client()
        page = client.get("/admin/login")
        response = client.post("/admin/login", data={"csrf_token": token(page), "password": PASSWORD},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
        return client


def make_hub(hub_db, password: bool = True, publish=None, topics: Topics | None = None) -> Hub:
    store = Store(hub_db)
    if password:
        set_admin_password(store, PASSWORD)
    hub = Hub(store, None)
    hub.app = create_web_app(store, publish_config=publish or hub.published.append, topics=topics)
    return hub


def token(page) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def post_form(client: TestClient, page_path: str, data: dict, action: str | None = None,
              **kwargs):
    """Open a form's page, then send it back with its CSRF token, as a browser would."""
    page = client.get(page_path)
    return client.post(action or page_path, data={"csrf_token": token(page), **data}, **kwargs)


def scan(store: Store, event: str, badge: str, role: str = "attend", kiosk: str = "door-1",
         topics: Topics | None = None):
    """One scan through the real intake, as if a kiosk had sent it."""
    topics = topics or Topics()
    s = make_scan(kiosk, event, badge, role=role)
    return Intake(store, topics).receive(topics.scan(kiosk), s.to_json())


def errors_in(page) -> list[str]:
    """The error summary's links, as (href) text pairs flattened to 'href message'."""
    block = re.search(r'<div class="error-summary".*?</ul>', page.text, re.S)
    if not block:
        return []
    return [f"{href} {text}" for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(0))]
