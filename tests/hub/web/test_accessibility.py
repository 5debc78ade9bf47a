"""WCAG 2.2 AA in a real browser: axe-core in headless Chromium reports no serious or critical
violations on any public page; every page reflows at 320 px; the skip link works by keyboard.

The hub runs for real (uvicorn on a free port) on a seeded sample SQLite database.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.hub.web.browser import CHROMIUM, describe, run_axe, serve
from tests.hub.web.sitekit import sample_site

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("axe_playwright_python", reason="axe-core comes from axe-playwright-python")
if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
    pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)

PAGES = {
    "home": "/",
    "events": "/events",
    "event": "/events/{past}",
    "person": "/people/{regular}",
    "person-escaped": "/people/{xss}",
    "leaderboard": "/leaderboard",
    "leaderboard-season": "/leaderboard?season={season}",
    "impact": "/impact",
    "impact-print": "/impact/print",
    "data": "/data",
    "privacy": "/privacy",
    "not-found": "/events/no-such-event",
    "verify": "/verify",
}


@pytest.fixture(scope="module")
def site(hub_db_shared, tmp_path_factory):
    return sample_site(hub_db_shared)


@pytest.fixture(scope="module")
def base_url(site):
    with serve(site.app) as url:
        yield url




def url_of(site, name: str) -> str:
    return PAGES[name].format(past=site.events["past"], regular=site.badges["regular"],
                              xss=site.badges["xss"], season=site.store.seasons()[-1])


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_or_critical_violations(browser, base_url, site, axe, name):
    page = browser.new_page(viewport={"width": 1024, "height": 800})
    try:
        response = page.goto(base_url + url_of(site, name))
        assert response.status == (404 if name == "not-found" else 200)
        violations = run_axe(page, axe)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, describe(serious)
    finally:
        page.close()


@pytest.mark.parametrize("name", ["home", "event", "person", "leaderboard", "impact", "data"])
def test_pages_reflow_at_320_pixels(browser, base_url, site, name):
    """WCAG 1.4.10: no sideways scrolling of the page at 320 CSS px (wide tables scroll alone)."""
    page = browser.new_page(viewport={"width": 320, "height": 640})
    try:
        page.goto(base_url + url_of(site, name))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{name} is {width}px wide at a 320px viewport"
        font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font >= 16, "body text stays at least 16px on a small screen"
    finally:
        page.close()


def test_keyboard_reaches_the_skip_link_and_the_menu(browser, base_url):
    page = browser.new_page()
    try:
        page.goto(base_url + "/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
        assert page.evaluate("getComputedStyle(document.activeElement).position") == "static"
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main-content"
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.closest('main') !== null")
        assert focused, "after the skip link, Tab moves into the main content"
        page.goto(base_url + "/")
        for _ in range(3):
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "/events"
        outline = page.evaluate("getComputedStyle(document.activeElement).backgroundColor")
        assert outline == "rgb(255, 221, 0)", "focused links are highlighted in yellow"
    finally:
        page.close()


def test_a_hostile_name_stays_text_in_the_browser(browser, base_url, site):
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(base_url + url_of(site, "person-escaped"))
        assert page.locator("h1").inner_text() == "<script>alert(1)</script>"
        page.goto(base_url + url_of(site, "leaderboard"))
        assert not dialogs
    finally:
        page.close()


def test_the_leaderboards_fit_a_375_pixel_phone_without_scrolling_sideways(browser, base_url, site):
    """Every column of the people's tables, "Times helped" included, is in view on a common
    phone's width (the organisations' table, with longer names, may still scroll alone)."""
    page = browser.new_page(viewport={"width": 375, "height": 800})
    try:
        page.goto(base_url + url_of(site, "leaderboard"))
        wraps = page.evaluate("[...document.querySelectorAll('.table-wrap')].slice(0, 2)"
                              ".map(w => [w.scrollWidth, w.clientWidth])")
        assert wraps and all(scroll <= client for scroll, client in wraps), wraps
    finally:
        page.close()
