"""The hub's JSON API, ``/api/v1``: stable, documented in docs/api.md, OpenAPI at /openapi.json.

``create_app(store)`` builds the FastAPI app; the web pages (step 3) add their routes to it.
Names follow each person's consent: people who asked not to be shown appear with no name.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI, HTTPException, Query
from pydantic import BaseModel

from hub import __version__
from hub.store import Store

API_PREFIX = "/api/v1"


class NextMilestoneOut(BaseModel):
    name: str
    kind: str
    target: int
    to_go: int


class MilestoneOut(BaseModel):
    name: str
    reached_on: str
    event: str


class PersonOut(BaseModel):
    badge: str
    name: str | None
    points: int
    attended: int
    volunteered: int
    roles: dict[str, int]
    milestones: list[MilestoneOut]
    next_milestone: NextMilestoneOut | None


class LeaderboardRow(BaseModel):
    badge: str
    name: str | None
    points: int
    attended: int
    volunteered: int


class PresentOut(BaseModel):
    badge: str
    name: str | None
    roles: list[str]
    first_time: bool


class EventOut(BaseModel):
    id: str
    name: str
    date: str
    series: str | None
    venue: str | None
    present: list[PresentOut]
    roles: dict[str, int]
    attended: int


class EventSummaryOut(BaseModel):
    id: str
    name: str
    date: str
    series: str | None
    venue: str | None


class KioskOut(BaseModel):
    id: str
    event: str | None
    state: str
    version: str | None
    queued: int
    last_seen: str | None


def create_app(store: Store, publish_config: Callable[[str], None] | None = None,
               title: str = "Turnout hub") -> FastAPI:
    """The hub's web app. ``publish_config(kiosk)`` is how pages tell a kiosk its new event."""
    app = FastAPI(title=title, version=__version__,
                  description="Points, milestones and turnout from Turnout kiosks.")
    app.state.store = store
    app.state.publish_config = publish_config
    app.include_router(api_router(store))
    return app


def api_router(store: Store) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, tags=["api v1"])

    @router.get("/people/{badge}", response_model=PersonOut)
    def person(badge: str) -> PersonOut:
        """A person's points, events, roles, milestones and next milestone."""
        found = store.person(badge)
        if found is None or not found.claimed:
            raise HTTPException(404, f"no registered badge {badge}")
        s = store.standing(badge)
        return PersonOut(
            badge=badge, name=found.public_name, points=s.points, attended=s.attended,
            volunteered=s.volunteered, roles=s.roles,
            milestones=[MilestoneOut(name=m.name, reached_on=m.reached_on, event=m.event)
                        for m in s.milestones],
            next_milestone=NextMilestoneOut(**vars(s.next_milestone)) if s.next_milestone else None)

    @router.get("/leaderboard", response_model=list[LeaderboardRow])
    def leaderboard(series: str | None = None,
                    season: str | None = Query(None, pattern=r"^\d{4}$",
                                               description="calendar year, e.g. 2025"),
                    limit: int = Query(50, ge=1, le=1000)) -> list[LeaderboardRow]:
        """People by points (then events attended). Only those who agreed to be shown."""
        return [LeaderboardRow(badge=p.badge, name=p.public_name, points=s.points,
                               attended=s.attended, volunteered=s.volunteered)
                for p, s in store.leaderboard(series=series or None, season=season, limit=limit)]

    @router.get("/events", response_model=list[EventSummaryOut])
    def events(series: str | None = None,
               season: str | None = Query(None, pattern=r"^\d{4}$")) -> list[EventSummaryOut]:
        """Every event in date order."""
        return [EventSummaryOut(id=e.id, name=e.name, date=e.date, series=e.series, venue=e.venue)
                for e in store.events(series=series or None, season=season)]

    @router.get("/events/{event_id}", response_model=EventOut)
    def event(event_id: str) -> EventOut:
        """An event with everyone present and the roles each did."""
        if store.event(event_id) is None:
            raise HTTPException(404, f"no event {event_id}")
        report = store.event_report(event_id)
        e = report.event
        return EventOut(id=e.id, name=e.name, date=e.date, series=e.series, venue=e.venue,
                        present=[PresentOut(badge=r.badge, name=r.name, roles=list(r.roles),
                                            first_time=r.first_time) for r in report.present],
                        roles=report.role_counts, attended=len(report.present))

    @router.get("/kiosks", response_model=list[KioskOut])
    def kiosks() -> list[KioskOut]:
        """Each kiosk's last status: online or offline, scans queued, last seen."""
        return [KioskOut(id=k.id, event=k.event, state=k.state, version=k.version,
                         queued=k.queued, last_seen=k.last_seen) for k in store.kiosks()]

    return router
