"""The hub's JSON API, ``/api/v1``: stable, documented in docs/api.md, OpenAPI at /openapi.json.

``create_app(store)`` builds the FastAPI app; the web pages (step 3) add their routes to it.
Names follow each person's consent: people who asked not to be shown are never listed by
badge (an event's roll counts them), and their own record carries no name.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from hub import __version__
from hub.store import Store
from turnout.protocol import Topics

API_PREFIX = "/api/v1"
MAX_LEADERBOARD_ROWS = 1000


def reports_of(app: FastAPI, store: Store):
    """The statistics the web pages share (hub.web sets them up); an API-only app makes its
    own, always fresh."""
    reports = getattr(app.state, "reports", None)
    if reports is None:
        from hub.reports import Reports
        reports = app.state.reports = Reports(store, min_interval=0, background=False)
    return reports


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
    name: str
    roles: list[str]
    first_time: bool


class EventOut(BaseModel):
    id: str
    name: str
    date: str
    series: str | None
    venue: str | None
    present: list[PresentOut] = Field(description="the people present who agreed to be shown")
    not_shown: int = Field(description="people present who chose not to be shown (or have not "
                                       "claimed their badge yet): counted, never listed")
    roles: dict[str, int]
    attended: int = Field(description="everyone present, shown or not")


class EventSummaryOut(BaseModel):
    id: str
    name: str
    date: str
    series: str | None
    venue: str | None


class KioskOut(BaseModel):
    id: str
    event: str | None = Field(description="the event the hub assigned it")
    reported_event: str | None = Field(description="the event the kiosk says it counts for")
    state: str
    version: str | None
    queued: int
    last_seen: str | None


def create_app(store: Store, publish_config: Callable[[str], None] | None = None,
               title: str = "Turnout hub", topics: Topics | None = None) -> FastAPI:
    """The hub's web app. ``publish_config(kiosk)`` is how pages tell a kiosk its new event;
    ``topics`` are the hub's MQTT topics (its ``--base-topic``), for scans moved out of quarantine."""
    # FastAPI's own /docs loads Swagger UI from a CDN: blank on a venue network with no
    # internet. /docs here is a plain page drawn from the same OpenAPI schema.
    app = FastAPI(title=title, version=__version__, docs_url=None, redoc_url=None,
                  description="Points, milestones and turnout from Turnout kiosks.")
    app.state.store = store
    app.state.publish_config = publish_config
    app.state.topics = topics or Topics()
    app.include_router(api_router(store))

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs() -> str:
        return api_docs_page(app.openapi())

    return app


def api_docs_page(spec: dict) -> str:
    """The API's endpoints as one self-contained HTML page (no scripts, no CDN)."""
    rows = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params = ", ".join(p["name"] for p in op.get("parameters", []))
            summary = op.get("description") or op.get("summary") or ""
            rows.append(f"<tr><td><code>{escape(method.upper())} {escape(path)}</code></td>"
                        f"<td>{escape(params)}</td><td>{escape(summary)}</td></tr>")
    info = spec.get("info", {})
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(info.get('title', 'API'))} API</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;"
        "padding:.5rem;text-align:left;vertical-align:top}code{font-size:1rem}</style></head><body><main>"
        f"<h1>{escape(info.get('title', 'API'))} JSON API {escape(str(info.get('version', '')))}</h1>"
        f"<p>{escape(info.get('description', ''))} The machine-readable description is "
        "<a href='/openapi.json'>/openapi.json</a> (OpenAPI); field-by-field documentation is in "
        "docs/api.md in the source.</p>"
        "<table><thead><tr><th scope='col'>Endpoint</th><th scope='col'>Parameters</th>"
        "<th scope='col'>What it returns</th></tr></thead><tbody>" + "".join(rows) +
        "</tbody></table><p><a href='/'>Back to the hub</a></p></main></body></html>")


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
    def leaderboard(request: Request, series: str | None = Query(None, max_length=200),
                    season: str | None = Query(None, pattern=r"^\d{4}$",
                                               description="calendar year, e.g. 2025"),
                    limit: int = Query(50, ge=1, le=MAX_LEADERBOARD_ROWS)) -> list[LeaderboardRow]:
        """People by points (then events attended). Only those who agreed to be shown."""
        # From the statistics the pages share (rebuilt at most every few seconds), never by
        # scoring each row afresh: a public endpoint must cost the same however it is asked.
        rows = reports_of(request.app, store).leaderboard(season=season, series=series or None,
                                                           limit=limit)
        return [LeaderboardRow(badge=r.badge, name=r.name, points=r.points, attended=r.attended,
                               volunteered=r.volunteered) for r in rows]

    @router.get("/events", response_model=list[EventSummaryOut])
    def events(series: str | None = None,
               season: str | None = Query(None, pattern=r"^\d{4}$")) -> list[EventSummaryOut]:
        """Every event in date order."""
        return [EventSummaryOut(id=e.id, name=e.name, date=e.date, series=e.series, venue=e.venue)
                for e in store.events(series=series or None, season=season)]

    @router.get("/events/{event_id}", response_model=EventOut)
    def event(event_id: str) -> EventOut:
        """An event: who was present and agreed to be shown, how many others, the roles done."""
        if store.event(event_id) is None:
            raise HTTPException(404, f"no event {event_id}")
        report = store.event_report(event_id)
        e = report.event
        # A badge at an event says who was there: only people with a public name are listed.
        shown = [r for r in report.present if r.name is not None]
        return EventOut(id=e.id, name=e.name, date=e.date, series=e.series, venue=e.venue,
                        present=[PresentOut(badge=r.badge, name=r.name, roles=list(r.roles),
                                            first_time=r.first_time) for r in shown],
                        not_shown=len(report.present) - len(shown),
                        roles=report.role_counts, attended=len(report.present))

    @router.get("/kiosks", response_model=list[KioskOut])
    def kiosks() -> list[KioskOut]:
        """Each kiosk's last status: online or offline, scans queued, last seen."""
        return [KioskOut(id=k.id, event=k.event, reported_event=k.reported_event, state=k.state,
                         version=k.version, queued=k.queued, last_seen=k.last_seen)
                for k in store.kiosks()]

    return router
