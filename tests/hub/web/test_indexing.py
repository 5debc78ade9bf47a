"""What search engines are told (hub.web.indexing): robots.txt, the sitemap, a description
for every page, and noindex on the admin, privacy and badge pages."""

from __future__ import annotations

import re
from html import unescape
from xml.etree import ElementTree

import pytest

from tests.hub.web.formkit import PASSWORD, token
from tests.hub.web.sitekit import small_site

PUBLIC = ["/", "/events", "/events/{spring}", "/events/{future}", "/people/{ann}", "/leaderboard",
          "/leaderboard?season=2025", "/impact", "/impact/print", "/data", "/register", "/claim"]


@pytest.fixture
def site(hub_db, tmp_path):
    from hub.web.security import set_admin_password

    site = small_site(hub_db)
    set_admin_password(site.store, PASSWORD)
    return site


def address(site, path: str) -> str:
    return path.format(**site.events, **site.badges)


def description(html: str) -> str:
    found = re.findall(r'<meta name="description" content="([^"]*)">', html)
    assert len(found) == 1
    return unescape(found[0])


def test_robots_txt_keeps_crawlers_out_of_admin_privacy_and_badges_only(site):
    text = site.client().get("/robots.txt")
    assert text.headers["content-type"].startswith("text/plain")
    lines = text.text.splitlines()
    assert lines[0] == "User-agent: *"
    assert {"Disallow: /admin", "Disallow: /privacy", "Disallow: /badges"} <= set(lines)
    assert not any(line in lines for line in ("Disallow: /", "Disallow: /events", "Disallow: /people"))
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_the_sitemap_lists_the_public_pages_and_every_event_but_no_person(site):
    answer = site.client().get("/sitemap.xml")
    assert answer.headers["content-type"].startswith("application/xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = [u.text for u in ElementTree.fromstring(answer.content).findall("s:url/s:loc", ns)]
    paths = [u.removeprefix("http://testserver") for u in urls]
    assert {"/", "/events", "/leaderboard", "/impact", "/data", "/register"} <= set(paths)
    assert {f"/events/{e}" for e in site.events.values()} <= set(paths)
    assert not [p for p in paths if p.startswith(("/people", "/admin", "/privacy", "/badges"))]


def test_a_configured_base_url_is_used_for_crawlers(hub_db, tmp_path):
    site = small_site(hub_db, base_url="https://turnout.example.gov.uk")
    assert "Sitemap: https://turnout.example.gov.uk/sitemap.xml" in site.client().get("/robots.txt").text
    assert "<loc>https://turnout.example.gov.uk/events</loc>" in site.client().get("/sitemap.xml").text


def test_every_public_page_has_its_own_description(site):
    """There was none on any page (Lighthouse SEO 90)."""
    client = site.client()
    seen = {}
    for path in PUBLIC:
        response = client.get(address(site, path))
        assert response.status_code == 200, path
        text = description(response.text)
        assert 40 <= len(text) <= 200, (path, text)
        assert '<meta name="robots"' not in response.text, f"{path} may be indexed"
        assert "x-robots-tag" not in response.headers, path
        assert text not in seen, f"{path} says the same as {seen.get(text)}"
        seen[text] = path
    event = description(client.get(address(site, "/events/{spring}")).text)
    assert event == "Spring camp, Saturday 1 March 2025 at Town Hall: 4 people came, 3 for the first time, and 1 helped."
    coming = description(client.get(address(site, "/events/{future}")).text)
    assert coming == ("Autumn camp; with, commas, Saturday 20 September 2025 at Hall, Room 2: coming up. "
                      "Everyone is welcome.")
    person = description(client.get(address(site, "/people/{ann}")).text)
    assert person == "Ann Abbott at Turnout events: 5 points from 3 events, helping out 1 time."


def test_admin_privacy_and_badge_pages_are_not_to_be_indexed(site):
    client = site.client()
    made = client.post("/register", data={"csrf_token": token(client.get("/register")),
                                          "name": "Dee Dent", "consent": "initial"})
    assert made.url.path.startswith("/badges/")
    pages = {"badge": made}
    for path in ("/admin/login", "/privacy", "/privacy/download", "/privacy/erase"):
        pages[path] = client.get(path)
    client.post("/admin/login", data={"csrf_token": token(client.get("/admin/login")), "password": PASSWORD})
    pages["/admin/events"] = client.get("/admin/events")
    for what, response in pages.items():
        assert response.status_code == 200, what
        assert response.headers["x-robots-tag"] == "noindex", what
        assert response.text.count('<meta name="robots" content="noindex">') == 1, what


def test_a_hostile_name_stays_text_in_the_description(site):
    html = site.client().get(address(site, "/people/{xss}")).text
    assert description(html).startswith("<script>alert(1)</script> at Turnout events")
    assert "<script>" not in html
