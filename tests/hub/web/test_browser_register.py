"""In headless Chromium against a real server: register with the keyboard alone, download the
badge, read its codes back from the PDF, and check the form and admin pages with axe-core."""

from __future__ import annotations

import os
import shutil

import pypdfium2 as pdfium
import pytest
from pyzbar import pyzbar

from tests.hub.web.browser import CHROMIUM, describe, run_axe, serve
from tests.hub.web.formkit import HOSTILE, PASSWORD, make_hub, scan

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")
if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
    pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def hub(hub_db_shared, tmp_path_factory):
    hub = make_hub(hub_db_shared)
    store = hub.store
    event = store.add_event("LocalGovCamp North", "2025-06-14", series="LocalGovCamp",
                            venue="Leeds Central Library", openness=["agenda", "hashtag"])
    store.add_outcome(event.id, "service", "Bins app adopted", "The council took it on.")
    store.add_kiosk("door-1")
    store.record_kiosk_status("door-1", "online", version="1.0", queued=2)
    hostile = store.add_person(HOSTILE[0], org=HOSTILE[1], email="x@example.org").badge
    scan(store, event.id, hostile)
    scan(store, "no-such-event", hostile)
    store.request_privacy(hostile, "erase", HOSTILE[1])
    hub.badges = {"hostile": hostile}
    hub.event = event.id
    return hub


@pytest.fixture(scope="module")
def base_url(hub):
    with serve(hub.app) as url:
        yield url




def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def tab_to(page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element has focus, as a keyboard user would."""
    for _ in range(limit):
        if focused_id(page) == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_register_with_the_keyboard_then_download_a_badge_that_scans_as_the_code_shown(
        browser, base_url, hub, tmp_path):
    page = browser.new_page(viewport={"width": 1024, "height": 900}, accept_downloads=True)
    try:
        page.goto(base_url + "/register")
        tab_to(page, "name")
        page.keyboard.type("Ada Lovelace")
        page.keyboard.press("Tab")
        assert focused_id(page) == "organisation"
        page.keyboard.type("Analytical Engines")
        page.keyboard.press("Tab")
        page.keyboard.type("ada@example.org")
        page.keyboard.press("Tab")
        assert focused_id(page) == "results_email"
        page.keyboard.press("Space")  # yes, email my results
        page.keyboard.press("Tab")
        assert focused_id(page) == "junior"
        page.keyboard.press("Tab")
        assert focused_id(page) == "consent"  # the chosen radio (first name and initial)
        page.keyboard.press("ArrowDown")  # full name
        tab_to(page, "register-button")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        shown = page.inner_text("#badge-code").strip()
        person = hub.store.person(shown)
        assert (person.name, person.org, person.email, person.consent, person.junior,
                person.results_email) == \
            ("Ada Lovelace", "Analytical Engines", "ada@example.org", "full", False, True)

        tab_to(page, "download-badge")
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        pdf = tmp_path / "badge.pdf"
        download.value.save_as(pdf)
        image = pdfium.PdfDocument(pdf.read_bytes())[0].render(scale=200 / 72).to_pil()
        read = sorted((r.type, r.data.decode()) for r in pyzbar.decode(image))
        assert read == [("CODE128", shown), ("QRCODE", shown)]
    finally:
        page.close()


def test_the_form_shows_errors_and_moves_nothing_without_javascript(browser, base_url, hub):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(base_url + "/claim")
        page.fill("#code", "T10")
        page.click("#claim-button")
        assert page.title().startswith("Error: ")
        assert page.inner_text(".error-summary").count("\n") >= 2
        page.click(".error-summary a[href='#code']")
        assert page.url.endswith("#code")
    finally:
        context.close()


def sign_in(page, base_url: str) -> None:
    page.goto(base_url + "/admin/login")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/admin")


FORM_PAGES = ["/register", "/claim", "/privacy/download", "/privacy/erase", "/admin/login"]
ADMIN_PAGES = ["/admin", "/admin/events", "/admin/events/new", "/admin/events/{event}",
               "/admin/kiosks", "/admin/quarantine", "/admin/people", "/admin/people/{hostile}",
               "/admin/roles", "/admin/print", "/admin/export", "/admin/privacy"]


def check_axe(page, axe, where: str) -> None:
    violations = run_axe(page, axe)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, f"{where}:\n{describe(serious)}"


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("path", FORM_PAGES)
def test_axe_finds_nothing_serious_on_the_forms_empty_with_errors_and_at_320px(
        browser, base_url, axe, path):
    page = browser.new_page(viewport={"width": 1024, "height": 900})
    try:
        page.goto(base_url + path)
        check_axe(page, axe, path)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert page.locator(".error-summary").count() == 1 or path == "/admin/login"
        check_axe(page, axe, path + " with errors")
        page.set_viewport_size({"width": 320, "height": 800})
        page.goto(base_url + path)
        assert fits(page, 320), f"{path} scrolls sideways at 320 px"
    finally:
        page.close()


def test_axe_finds_nothing_serious_on_the_badge_page(browser, base_url, axe):
    page = browser.new_page(viewport={"width": 1024, "height": 900})
    try:
        page.goto(base_url + "/register")
        page.fill("#name", "Grace Hopper")
        with page.expect_navigation():
            page.click("#register-button")
        check_axe(page, axe, "badge page")
        page.set_viewport_size({"width": 320, "height": 800})
        assert fits(page, 320), "the badge page scrolls sideways at 320 px"
    finally:
        page.close()


@pytest.fixture(scope="module")
def admin_page(browser, base_url):
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    sign_in(page, base_url)
    yield page
    context.close()


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_axe_finds_nothing_serious_on_the_admin_pages(admin_page, base_url, hub, axe, path):
    url = path.format(event=hub.event, hostile=hub.badges["hostile"])
    response = admin_page.goto(base_url + url)
    assert response.status == 200 and "/admin/login" not in admin_page.url
    check_axe(admin_page, axe, url)
    assert admin_page.evaluate("window.__xss === undefined")
    assert "<script>alert(1)</script>" not in admin_page.evaluate("document.body.innerHTML")


def test_hostile_text_never_runs_in_the_admin(admin_page, base_url, hub):
    dialogs = []
    admin_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in ("/admin/people", f"/admin/people/{hub.badges['hostile']}", "/admin/privacy",
                 "/admin/quarantine"):
        admin_page.goto(base_url + path)
        assert HOSTILE[0] in admin_page.inner_text("main") or path == "/admin/quarantine"
    assert dialogs == []
