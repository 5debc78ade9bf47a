"""Browser fixtures shared by the accessibility and registration tests (headless Chromium)."""

import pytest

from tests.hub.web.browser import CHROMIUM, CHROMIUM_ARGS, axe_source


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def axe():
    return axe_source()
