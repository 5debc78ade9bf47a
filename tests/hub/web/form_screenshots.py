"""Screenshots of the register, badge, claim, privacy and admin pages for docs/screenshots/
(run: python -m tests.hub.web.form_screenshots). Prints axe-core's findings per page, any impact.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from hub.sample import seed_sample
from hub.web.security import set_admin_password
from tests.hub.web.browser import CHROMIUM, CHROMIUM_ARGS, axe_source, run_axe, serve
from tests.hub.web.formkit import PASSWORD, make_hub, scan

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def main(out: Path = OUT) -> int:
    out.mkdir(parents=True, exist_ok=True)
    hub = make_hub(Path(tempfile.mkdtemp()) / "hub.sqlite", password=False)
    store = hub.store
    seed_sample(store, people=60, events=8)
    set_admin_password(store, PASSWORD)
    events = store.events()
    store.add_outcome(events[-1].id, "service", "Council adopts the bin-day app",
                      "Three people met at the event and built it; the council now runs it.",
                      "https://example.org/bins")
    store.add_outcome(events[-1].id, "collaboration", "Two councils share one open data team")
    store.record_kiosk_status("door-1", "online", version="0.3.0", queued=0)
    store.record_kiosk_status("door-2", "offline", version="0.3.0", queued=14)
    [blank] = store.add_blank_badges(1)
    scan(store, "2099-01-01-wrong-event", store.people()[0].badge, kiosk="door-2")
    store.request_privacy(store.people()[3].badge, "erase", "I am moving away")
    axe = axe_source()
    with serve(hub.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1024, "height": 900}, accept_downloads=True)

        def shot(stem: str, path: str | None = None, width: int = 1024) -> None:
            page.set_viewport_size({"width": width, "height": 900})
            if path:
                page.goto(base + path)
            page.screenshot(path=str(out / f"{stem}.png"), full_page=True)
            found = run_axe(page, axe)
            print(f"{stem:22} {page.url[len(base):]:34} axe: "
                  + (", ".join(f"{v['impact']} {v['id']}" for v in found) or "no violations"))

        shot("register", "/register")
        page.click("#register-button")
        page.wait_for_load_state()
        shot("register-errors")
        page.fill("#name", "Ada Lovelace")
        page.fill("#organisation", "Analytical Engines")
        page.click("#register-button")
        page.wait_for_load_state()
        shot("badge-ready")
        shot("badge-ready-320", width=320)
        shot("register-320", "/register", width=320)
        page.goto(base + "/claim")
        page.fill("#code", blank[:-1] + str((int(blank[-1]) + 1) % 10))
        page.fill("#name", "Grace Hopper")
        page.click("#claim-button")
        page.wait_for_load_state()
        shot("claim-errors")
        shot("claim", "/claim")
        shot("privacy-download", "/privacy/download")
        shot("admin-login", "/admin/login")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        for stem, path in (("admin", "/admin"), ("admin-events", "/admin/events"),
                           ("admin-event", f"/admin/events/{events[-1].id}"),
                           ("admin-kiosks", "/admin/kiosks"), ("admin-quarantine", "/admin/quarantine"),
                           ("admin-people", "/admin/people"),
                           ("admin-person", f"/admin/people/{store.people()[3].badge}"),
                           ("admin-roles", "/admin/roles"), ("admin-print", "/admin/print"),
                           ("admin-privacy", "/admin/privacy")):
            shot(stem, path)
        shot("admin-kiosks-320", "/admin/kiosks", width=320)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
