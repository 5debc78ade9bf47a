"""Screenshots of each main page for docs/screenshots/ (run: python -m tests.hub.web.screenshots).

Also prints every axe-core finding per page, whatever its impact, for the closing notes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.hub.web.browser import CHROMIUM, CHROMIUM_ARGS, axe_source, run_axe, serve
from tests.hub.web.sitekit import sample_site

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
SHOTS = {  # file stem: (path, width)
    "home": ("/", 1024), "events": ("/events", 1024), "event": ("/events/{past}", 1024),
    "person": ("/people/{regular}", 1024), "leaderboard": ("/leaderboard", 1024),
    "impact": ("/impact", 1024), "impact-print": ("/impact/print", 1024), "data": ("/data", 1024),
    "privacy": ("/privacy", 1024), "not-found": ("/nothing-here", 1024),
    "home-320": ("/", 320), "event-320": ("/events/{past}", 320), "leaderboard-320": ("/leaderboard", 320),
    "impact-320": ("/impact", 320),
}
# The same pages in Welsh, chosen with the header's language link (/language/cy).
WELSH_SHOTS = {"person-cy": ("/people/{regular}", 1024), "home-cy": ("/", 1024),
               "event-cy": ("/events/{past}", 1024), "home-cy-320": ("/", 320)}


def main(out: Path = OUT) -> int:
    out.mkdir(parents=True, exist_ok=True)
    site = sample_site(Path(tempfile.mkdtemp()) / "hub.sqlite", people=120, events=12)
    axe = axe_source()
    with serve(site.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for stem, (path, width) in {**SHOTS, **WELSH_SHOTS}.items():
            url = base + path.format(past=site.events["past"], regular=site.badges["regular"])
            page = browser.new_page(viewport={"width": width, "height": 900})
            if stem in WELSH_SHOTS:
                page.goto(base + "/language/cy?next=/")
            page.goto(url)
            if stem == "impact-print":
                page.emulate_media(media="print")
            page.screenshot(path=str(out / f"{stem}.png"), full_page=True)
            found = run_axe(page, axe)
            print(f"{stem:18} {path:22} axe: " + (", ".join(f"{v['impact']} {v['id']}" for v in found)
                                                   or "no violations"))
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
