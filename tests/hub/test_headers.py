"""The headers every response carries and compression (hub.headers), on the whole hub: pages,
API, static files, errors, redirects and metrics; HSTS over HTTPS only, and behind a proxy
only when the proxy is trusted; gzip for text, never for what is compressed already or for
anyone with a session."""

from __future__ import annotations

import gzip
import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from hub.headers import Compression, style_hash
from tests.hub.hubproc import HubProcess
from tests.hub.web.formkit import PASSWORD, make_hub
from tests.hub.web.sitekit import small_site

SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
}


@pytest.fixture
def site(hub_db, tmp_path):
    from hub.web.security import set_admin_password

    site = small_site(hub_db)
    set_admin_password(site.store, PASSWORD)

    @site.app.get("/boom")
    def boom():
        raise RuntimeError("a fault in a page")
    return site


def assert_protected(response, what: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, f"{what}: {name}"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, what
    assert "strict-transport-security" not in response.headers, f"{what}: not over plain HTTP"


def test_every_kind_of_response_carries_the_security_headers(site):
    """Rule: no response without them. The admin login page could be framed by any site."""
    client = site.client()
    ann = site.badges["ann"]
    responses = {
        "home page": client.get("/"),
        "admin login": client.get("/admin/login"),
        "redirect to sign in": client.get("/admin", follow_redirects=False),
        "API answer": client.get(f"/api/v1/people/{ann}"),
        "API 404": client.get("/api/v1/events/nope"),
        "API 400": client.get("/api/v1/leaderboard?season=abcd"),
        "HTML 404": client.get("/no-such-page"),
        "server error": client.get("/boom"),
        "static file": client.get("/static/turnout.css"),
        "icon": client.get("/favicon.ico"),
        "open data": client.get("/data/v1/events.csv"),
        "calendar": client.get("/events.ics"),
        "robots.txt": client.get("/robots.txt"),
        "API docs": client.get("/docs"),
        "OpenAPI": client.get("/openapi.json"),
    }
    assert responses["redirect to sign in"].status_code == 303
    assert responses["server error"].status_code == 500
    for what, response in responses.items():
        assert_protected(response, what)


def test_the_policy_allows_the_hubs_own_origin_no_script_and_only_hashed_inline_style(site):
    from hub.api import DOCS_STYLE

    policy = site.client().get("/").headers["content-security-policy"]
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'none'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["img-src"] == "'self'"
    assert directives["style-src"] == f"'self' {style_hash(DOCS_STYLE)}"
    assert "unsafe" not in policy
    docs = site.client().get("/docs").text
    assert re.findall(r"<style>(.*?)</style>", docs) == [DOCS_STYLE], "the one inline style is hashed"


def test_strict_transport_security_only_over_https(hub_db, tmp_path):
    hub = make_hub(hub_db)
    assert "strict-transport-security" not in hub.client().get("/").headers
    secure = hub.client(https=True).get("/")
    assert secure.headers["strict-transport-security"] == "max-age=31536000"


def test_behind_a_proxy_https_is_believed_only_from_a_trusted_one(hub_db, tmp_path, broker):
    """turnout-hub serve: X-Forwarded-Proto from 127.0.0.1 (the default trusted_proxies) makes
    the page HTTPS; from a proxy not in trusted_proxies it is ignored."""
    proto = {"X-Forwarded-Proto": "https"}
    hub = HubProcess(hub_db, broker.url, tmp_path / "hub.log").start()
    try:
        base = f"http://127.0.0.1:{hub.port}"
        assert httpx.get(base + "/", headers=proto).headers["strict-transport-security"]
        assert "strict-transport-security" not in httpx.get(base + "/").headers
        metrics = httpx.get(base + "/metrics")
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
        assert metrics.headers["cache-control"] == "no-store"
        assert_protected(metrics, "metrics")
    finally:
        hub.kill()
    config = tmp_path / "hub.toml"
    config.write_text('trusted_proxies = "192.0.2.10"\n')
    hub = HubProcess(hub_db, broker.url, tmp_path / "hub2.log", config=config).start()
    try:
        answer = httpx.get(f"http://127.0.0.1:{hub.port}/", headers=proto)
        assert "strict-transport-security" not in answer.headers
    finally:
        hub.kill()


def raw(client, path: str, **headers):
    """The bytes as sent, not decoded by the client."""
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def test_text_is_gzipped_above_the_threshold(site):
    """The impact page was 84 KB on the wire instead of 11."""
    client = site.client()
    for path, kind in (("/impact", "text/html"), ("/openapi.json", "application/json"),
                       ("/data/v1/participation.csv", "text/csv"), ("/static/turnout.css", "text/css"),
                       ("/sitemap.xml", "application/xml")):
        response, body = raw(client, path, **{"Accept-Encoding": "gzip"})
        plain, plain_body = raw(client, path, **{"Accept-Encoding": "identity"})
        assert response.headers["content-type"].startswith(kind), path
        assert response.headers["content-encoding"] == "gzip", path
        assert "accept-encoding" in response.headers["vary"].lower(), path
        assert gzip.decompress(body) == plain_body, f"{path}: the same bytes, streamed CSV too"
        assert len(body) < len(plain_body) / 2, path
    page, body = raw(client, "/impact", **{"Accept-Encoding": "gzip"})
    assert len(body) < 15_000, "the impact page of the small site, gzipped"
    for small in ("/static/favicon.svg", "/robots.txt"):  # under 500 bytes: not worth it
        response, body = raw(client, small, **{"Accept-Encoding": "gzip"})
        assert "content-encoding" not in response.headers and len(body) < 500, small


def test_svg_is_compressed_and_compressed_formats_are_not_compressed_again():
    data = b"%PDF-1.4\n" + bytes(range(256)) * 20
    svg = b'<svg xmlns="http://www.w3.org/2000/svg">' + b'<rect width="1" height="1"/>' * 100 + b"</svg>"
    app = Compression(Starlette(routes=[
        Route("/badge.pdf", lambda request: Response(data, media_type="application/pdf")),
        Route("/icon.png", lambda request: Response(data, media_type="image/png")),
        Route("/chart.svg", lambda request: Response(svg, media_type="image/svg+xml"))]))
    from starlette.testclient import TestClient

    client = TestClient(app)
    for path in ("/badge.pdf", "/icon.png"):
        response, body = raw(client, path, **{"Accept-Encoding": "gzip"})
        assert "content-encoding" not in response.headers and body == data, path
    response, body = raw(client, "/chart.svg", **{"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip" and gzip.decompress(body) == svg


def test_nothing_is_compressed_for_someone_with_a_session(site):
    """BREACH: a page holding a form token or an organiser's view is never compressed beside
    text an attacker could have put in it."""
    client = site.client()
    client.get("/register")  # a form: this browser now has a session
    assert "turnout_session" in client.cookies
    response, _ = raw(client, "/impact", **{"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
    stranger, _ = raw(site.client(), "/impact", **{"Accept-Encoding": "gzip"})
    assert stranger.headers["content-encoding"] == "gzip"


def test_pages_holding_session_data_are_no_store_and_public_pages_are_not(site):
    from tests.hub.web.formkit import token

    visitor = site.client()
    for path in ("/", "/events", "/leaderboard", "/impact", f"/people/{site.badges['ann']}",
                 f"/events/{site.events['spring']}", "/api/v1/events"):
        assert "no-store" not in visitor.get(path).headers.get("cache-control", ""), path
    for path in ("/register", "/claim", "/privacy/download", "/admin/login"):
        assert visitor.get(path).headers["cache-control"] == "no-store", f"{path}: a form token"
    page = visitor.get("/register")
    made = visitor.post("/register", data={"csrf_token": token(page), "name": "Dee Dent",
                                            "consent": "initial"}, follow_redirects=True)
    assert made.url.path.startswith("/badges/") and made.headers["cache-control"] == "no-store"
    assert "no-store" not in visitor.get("/impact").headers.get("cache-control", ""), \
        "a public page stays cacheable for someone with a session"
