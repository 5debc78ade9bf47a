"""Static files addressed by content hash (hub.web.assets): a year's cache for the address a
page links, a fresh look for any other; the icons at their fixed addresses."""

from __future__ import annotations

import hashlib
import re

import pytest

from hub.web.app import HERE
from hub.web.assets import Assets
from tests.hub.web.sitekit import small_site


@pytest.fixture
def client(hub_db, tmp_path):
    return small_site(hub_db).client()


def test_pages_link_static_files_by_content_hash_and_those_are_kept_a_year(client):
    """Static files had no cache lifetime at all."""
    html = client.get("/").text
    links = re.findall(r'href="(/static/[^"?]+)\?v=([0-9a-f]{8})"', html)
    assert {name for name, _ in links} >= {"/static/turnout.css", "/static/print.css",
                                            "/static/favicon.svg", "/static/apple-touch-icon.png"}
    for name, version in links:
        content = (HERE / "static" / name.split("/")[-1]).read_bytes()
        assert version == hashlib.sha256(content).hexdigest()[:8]
        answer = client.get(f"{name}?v={version}")
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable", name


def test_any_other_address_of_a_static_file_is_checked_again(client):
    for path in ("/static/turnout.css", "/static/turnout.css?v=00000000"):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-cache", path
        assert answer.headers["etag"], "so the browser's check costs a 304, not the file"
    assert client.get("/static/nothing.css").status_code == 404


def test_a_changed_file_gets_a_new_address(tmp_path):
    (tmp_path / "site.css").write_text("body { color: black; }")
    assets = Assets(tmp_path)
    first = assets.url("site.css")
    (tmp_path / "site.css").write_text("body { color: navy; }  ")
    assert assets.url("site.css") != first and assets.url("site.css").startswith("/static/site.css?v=")
    with pytest.raises(FileNotFoundError):
        assets.url("missing.css")


def test_every_page_template_links_only_files_that_exist(client):
    for path in ("/", "/impact", "/register", "/admin/login", "/leaderboard", "/privacy/erase"):
        for href in re.findall(r'(?:href|src)="(/static/[^"]+)"', client.get(path).text):
            assert client.get(href).status_code == 200, href


def test_the_icons_browsers_ask_for_by_fixed_address(client):
    """There was no favicon: a console error on every page."""
    for path, kind in (("/favicon.ico", "image/"), ("/apple-touch-icon.png", "image/png")):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind), path
        assert answer.headers["cache-control"] == "public, max-age=86400"
    html = client.get("/").text
    assert '<link rel="icon" href="/favicon.ico"' in html
    assert re.search(r'<link rel="apple-touch-icon" href="/static/apple-touch-icon.png\?v=', html)
