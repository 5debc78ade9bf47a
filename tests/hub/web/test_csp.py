"""Every page keeps working under the hub's Content-Security-Policy, in headless Chromium.

The hub runs for real (uvicorn on a free port) on the sample season with an admin password.
Each public and admin page loads with the policy in force, reports no CSP violation and no
console error at all (a missing favicon used to be one on every page), and the pygal charts
and the progress bar are still drawn in their colours from the static stylesheets.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.hub.web.browser import CHROMIUM, serve
from tests.hub.web.formkit import PASSWORD
from tests.hub.web.sitekit import sample_site

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")
if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
    pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)

PUBLIC = ["/", "/events", "/events/{past}", "/people/{regular}", "/leaderboard",
          "/leaderboard?season=abcd", "/impact", "/impact/print", "/data", "/privacy",
          "/privacy/download", "/privacy/erase", "/register", "/claim", "/docs", "/nothing-here",
          "/admin/login"]
ADMIN = ["/admin", "/admin/events", "/admin/events/new", "/admin/events/{past}", "/admin/kiosks",
         "/admin/quarantine", "/admin/people", "/admin/people/{regular}", "/admin/roles",
         "/admin/print", "/admin/export", "/admin/privacy"]
# Collects what the browser refused; an init script runs before the page's policy applies.
WATCH = ("window.__refused = [];"
         "document.addEventListener('securitypolicyviolation',"
         " e => window.__refused.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));")
BRAND = "rgb(0, 90, 116)"  # --brand, and pygal's first colour


@pytest.fixture(scope="module")
def site(hub_db_shared, tmp_path_factory):
    from hub.web.security import set_admin_password

    site = sample_site(hub_db_shared)
    set_admin_password(site.store, PASSWORD)
    return site


@pytest.fixture(scope="module")
def base_url(site):
    with serve(site.app) as url:
        yield url


def address(site, path: str) -> str:
    return path.format(past=site.events["past"], regular=site.badges["regular"])


def visit(context, url: str):
    """Open a page; returns it with its response and what went wrong while it loaded."""
    page = context.new_page()
    page.add_init_script(WATCH)
    errors: list[str] = []

    def console(message) -> None:
        # Chromium reports a page that is itself a 400 or 404 as a failed load: not an error here.
        if message.type == "error" and message.location.get("url") != url:
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(url)  # returns once the page and everything it links have loaded
    return page, response, errors


def check(page, response, errors) -> None:
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'none'" in policy and "frame-ancestors 'none'" in policy, policy
    assert "unsafe-inline" not in policy
    refused = page.evaluate("window.__refused")
    assert not refused, f"the policy refused: {refused}"
    assert not errors, f"console errors: {errors}"


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_load_under_the_policy_without_errors(browser, base_url, site, path):
    context = browser.new_context()
    try:
        page, response, errors = visit(context, base_url + address(site, path))
        assert response.status in (200, 400, 404)
        check(page, response, errors)
    finally:
        context.close()


def test_admin_pages_load_under_the_policy_without_errors(browser, base_url, site):
    context = browser.new_context()
    try:
        page, _, errors = visit(context, base_url + "/admin/login")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base_url + "/admin")
        assert not errors, "signing in (a form post and a redirect) is allowed"
        page.close()
        for path in ADMIN:
            page, response, errors = visit(context, base_url + address(site, path))
            assert response.status == 200, path
            check(page, response, errors)
            page.close()
    finally:
        context.close()


def test_the_charts_are_drawn_in_their_colours_from_the_static_stylesheet(browser, base_url, site):
    context = browser.new_context()
    try:
        page, _, errors = visit(context, base_url + "/impact")
        assert page.locator("svg.pygal-chart").count() == 4
        assert page.locator("svg.pygal-chart style").count() == 0, "no inline style left in a chart"
        fill = page.evaluate("getComputedStyle(document.querySelector('svg.pygal-chart .color-0 rect')).fill")
        assert fill == BRAND
        guide = page.evaluate("getComputedStyle(document.querySelector('svg.pygal-chart .guide.line'))"
                              ".strokeDasharray")
        assert guide == "4px, 4px", "pygal's dashed gridlines come from charts.css"
        height = page.evaluate("document.querySelector('svg.pygal-chart').getBoundingClientRect().height")
        assert height > 200
        page.close()
        page, _, errors = visit(context, base_url + address(site, "/people/{regular}"))
        bar = page.locator("svg.progress rect.progress__bar")
        if bar.count():  # the sample's top person may have no milestone left
            assert page.evaluate("getComputedStyle(document.querySelector('.progress__bar')).fill") == BRAND
        assert page.locator("svg.pygal-chart").count() == 1
        assert not errors
    finally:
        context.close()


def test_the_icons_are_there(browser, base_url):
    context = browser.new_context()
    try:
        page, _, _ = visit(context, base_url + "/")
        for selector in ("link[rel=icon][type='image/svg+xml']", "link[rel=apple-touch-icon]",
                         "link[rel=icon][sizes]"):
            href = page.get_attribute(selector, "href")
            answer = page.request.get(base_url + href)
            assert answer.status == 200 and answer.headers["content-type"].startswith("image/"), selector
    finally:
        context.close()
