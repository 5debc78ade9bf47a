"""What the public page tests share: a small hub whose every number is known, and a sample one.

``small_site`` holds four people at three past events and one to come, scanned through the real
intake. ``sample_site`` is ``seed-sample``'s season, for the browser and screenshot tests.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from hub.intake import Intake
from hub.store import Store
from hub.web import WebSettings, create_web_app
from tests.hub.kiosks import make_scan
from turnout.protocol import Topics

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

HOSTILE = "<script>alert(1)</script>"
TODAY = date(2025, 6, 15)


@dataclass
class Site:
    store: Store
    app: object
    settings: WebSettings
    badges: dict[str, str] = field(default_factory=dict)  # who -> badge
    events: dict[str, str] = field(default_factory=dict)  # short name -> event id

    def client(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=False)


def settings(**changes) -> WebSettings:
    """Fixed date, figures rebuilt on every request: tests see every change at once."""
    return WebSettings(today=changes.pop("today", TODAY), stats_min_interval=0,
                       stats_background=False, **changes)


class Scanner:
    """Scans as a kiosk sends them, through the hub's own intake."""

    def __init__(self, store: Store):
        self.topics = Topics()
        self.intake = Intake(store, self.topics)
        self.seq = 0

    def scan(self, event: str, badge: str, role: str = "attend") -> str:
        self.seq += 1
        scan = make_scan("door-1", event, badge, role=role, seq=self.seq)
        answer = self.intake.receive(self.topics.scan("door-1"), scan.to_json())
        assert answer.ack.status == "accepted", answer
        return scan.id


def small_site(hub_db, **changes) -> Site:
    store = Store(hub_db)
    site = Site(store, None, settings(**changes))
    spring = store.add_event("Spring camp", "2025-03-01", series="LocalGovCamp", venue="Town Hall",
                             after_venue="The Fox & Hounds", hashtag="#lgcspring",
                             notes_url="https://notes.example.org/spring", cost_pence=60000,
                             openness=["agenda", "hashtag", "live", "ongoing"])
    summer = store.add_event("Summer camp", "2025-06-01", series="LocalGovCamp", venue="Library",
                             cost_pence=30000, openness=["agenda"])
    hack = store.add_event("NHS hack day", "2024-11-20", series="NHS Hack Day", venue="Cardiff")
    future = store.add_event("Autumn camp; with, commas", "2025-09-20", series="LocalGovCamp",
                             venue="Hall, Room 2", hashtag="#lgcautumn")
    site.events = {"spring": spring.id, "summer": summer.id, "hack": hack.id, "future": future.id}
    ann = store.add_person("Ann Abbott", org="Leeds City Council", consent="full")
    bob = store.add_person("Bob Brown", org="Leeds City Council")
    cat = store.add_person("Cat Cole", org="NHS Wales", consent="hidden")
    xss = store.add_person(HOSTILE, consent="full")
    site.badges = {"ann": ann.badge, "bob": bob.badge, "cat": cat.badge, "xss": xss.badge}
    kiosk = Scanner(store)
    kiosk.scan(hack.id, ann.badge)
    for who in (ann, bob, cat, xss):
        kiosk.scan(spring.id, who.badge)
    kiosk.scan(spring.id, ann.badge, "cake")
    for who in (ann, bob, cat):
        kiosk.scan(summer.id, who.badge)
    kiosk.scan(summer.id, bob.badge, "tidy")
    kiosk.scan(summer.id, cat.badge, "organise")
    store.add_outcome(spring.id, "project", "A map of <b>warm spaces</b>", "Three councils shared lists.")
    site.app = create_web_app(store, settings=site.settings)
    return site


def sample_site(hub_db, people: int = 60, events: int = 8) -> Site:
    from hub.sample import seed_sample

    store = Store(hub_db)
    seed_sample(store, people=people, events=events)
    xss = store.add_person(HOSTILE, consent="full", org="<b>Org</b>")
    Scanner(store).scan(store.events()[-3].id, xss.badge)
    site = Site(store, None, settings(today=date.today()))
    site.badges = {"xss": xss.badge,
                   "regular": store.leaderboard(limit=1)[0][0].badge}
    site.events = {"past": store.events()[-3].id}
    site.app = create_web_app(store, settings=site.settings)
    return site
