"""The hub's JSON API, ``/api/v1``: stable, documented in docs/api.md, OpenAPI at /openapi.json.

``create_app(store)`` builds the FastAPI app; the web pages (step 3) add their routes to it.
Names follow each person's consent: people who asked not to be shown are never listed by
badge (an event's roll counts them), and their own record carries no name.

Every status an endpoint can return is in the OpenAPI schema with its body: 200, 400 (a query
or path value it cannot use, saying which and why), 404 (no such badge or event) and 429 (too
many requests from one address, with Retry-After). Every response carries the headers and
compression of ``hub.headers``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from hub import __version__
from hub.bodylimit import BodyLimit
from hub.headers import Compression, SecurityHeaders, style_hash
from hub.ratelimit import RateLimit
from hub.store import Store
from turnout.codes import BADGE_PATTERN
from turnout.protocol import EVENT_ID, Topics

API_PREFIX = "/api/v1"
MAX_LEADERBOARD_ROWS = 1000
SEASON_PATTERN = r"^\d{4}$"
MAX_SERIES_LENGTH = 200
# What each parameter must be, in the words a 400 answer uses.
PARAMETER_RULES = {
    "badge": "a badge code: T and digits, like T397",
    "event_id": "an event id: letters, digits, dots, dashes and underscores, up to 64",
    "season": "a calendar year, like 2025",
    "series": f"a series name of up to {MAX_SERIES_LENGTH} characters",
    "limit": f"a whole number from 1 to {MAX_LEADERBOARD_ROWS}",
}


def reports_of(app: FastAPI, store: Store):
    """The statistics the web pages share (hub.web sets them up); an API-only app makes its
    own, always fresh."""
    reports = getattr(app.state, "reports", None)
    if reports is None:
        from hub.reports import Reports
        reports = app.state.reports = Reports(store, min_interval=0, background=False)
    return reports


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


class ErrorOut(BaseModel):
    """Why the request could not be answered."""

    model_config = _example({"detail": "no registered badge T5724"})
    detail: str = Field(description="what went wrong, in words")


class ParameterProblem(BaseModel):
    parameter: str
    location: Literal["query", "path"]
    problem: str = Field(description="what the parameter must be")


class BadRequestOut(ErrorOut):
    """A query or path value the API cannot use: each one, and what it must be."""

    model_config = _example({
        "detail": "season must be a calendar year, like 2025",
        "problems": [{"parameter": "season", "location": "query",
                      "problem": "season must be a calendar year, like 2025"}]})
    problems: list[ParameterProblem]


RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before asking again",
                               "schema": {"type": "integer", "minimum": 1}}}


def responses(*statuses: int, not_found: str = "") -> dict[int | str, dict[str, Any]]:
    """The error answers an endpoint can give, for the OpenAPI schema; ``not_found`` is the
    example 404's detail."""
    known: dict[int, dict[str, Any]] = {
        400: {"model": BadRequestOut, "description": "A query or path value it cannot use"},
        404: {"model": ErrorOut, "description": "No such record",
              "content": {"application/json": {"example": {"detail": not_found}}}},
        429: {"model": ErrorOut, "headers": RETRY_AFTER,
              "description": "Too many requests from this address: wait Retry-After seconds",
              "content": {"application/json": {"example": {
                  "detail": "too many requests from your address: try again in 2 seconds"}}}},
    }
    return {status: known[status] for status in statuses}


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
    model_config = _example({
        "badge": "T196", "name": "Siobhan M.", "points": 42, "attended": 11, "volunteered": 11,
        "roles": {"cake": 5, "organise": 3, "tidy": 3},
        "milestones": [{"name": "volunteer 10 club", "reached_on": "2025-10-12",
                        "event": "2025-10-12-citycamp-bristol-october-2025"}],
        "next_milestone": {"name": "25 club", "kind": "attend", "target": 25, "to_go": 14}})
    badge: str
    name: str | None
    points: int
    attended: int
    volunteered: int
    roles: dict[str, int]
    milestones: list[MilestoneOut]
    next_milestone: NextMilestoneOut | None


class LeaderboardRow(BaseModel):
    model_config = _example({"badge": "T397", "name": "Ava W.", "points": 48, "attended": 12,
                             "volunteered": 12})
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
    model_config = _example({
        "id": "2025-12-19-localgovcamp-north-december-2025", "name": "LocalGovCamp North December 2025",
        "date": "2025-12-19", "series": "LocalGovCamp North", "venue": "Leeds Central Library",
        "present": [{"badge": "T1007", "name": "Charlie W.", "roles": ["attend"], "first_time": True}],
        "not_shown": 6, "roles": {"attend": 47, "cake": 5, "organise": 2, "tidy": 5}, "attended": 47})
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
    model_config = _example({"id": "2025-03-14-localgovcamp-north", "name": "LocalGovCamp North",
                             "date": "2025-03-14", "series": "LocalGovCamp North",
                             "venue": "Leeds Central Library"})
    id: str
    name: str
    date: str
    series: str | None
    venue: str | None


class KioskOut(BaseModel):
    model_config = _example({"id": "door-1", "event": "2025-03-14-localgovcamp-north",
                             "reported_event": "2025-03-14-localgovcamp-north", "state": "online",
                             "version": "0.1.0", "queued": 0, "last_seen": "2025-03-14T09:41:07.123Z"})
    id: str
    event: str | None = Field(description="the event the hub assigned it")
    reported_event: str | None = Field(description="the event the kiosk says it counts for")
    state: str
    version: str | None
    queued: int
    last_seen: str | None


class HubApp(FastAPI):
    """FastAPI with ``hub.headers.SecurityHeaders`` around everything, Starlette's own
    server-error page included (it sits outside every middleware added the usual way)."""

    def build_middleware_stack(self):
        return SecurityHeaders(super().build_middleware_stack(),
                               style_hashes=self.state.inline_styles,
                               noindex=getattr(self.state, "noindex", ()))

    def openapi(self) -> dict[str, Any]:
        """FastAPI's schema without its 422: a value the API cannot use gets 400 here."""
        if self.openapi_schema is None:
            schema = super().openapi()
            for methods in schema.get("paths", {}).values():
                for operation in methods.values():
                    operation.get("responses", {}).pop("422", None)
            for unused in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(unused, None)
        return self.openapi_schema


def create_app(store: Store, publish_config: Callable[[str], None] | None = None,
               title: str = "Turnout hub", topics: Topics | None = None,
               rate_limit: RateLimit | None = None) -> FastAPI:
    """The hub's web app. ``publish_config(kiosk)`` is how pages tell a kiosk its new event;
    ``topics`` are the hub's MQTT topics (its ``--base-topic``), for scans moved out of quarantine;
    ``rate_limit`` bounds the API's requests per client address."""
    # FastAPI's own /docs loads Swagger UI from a CDN: blank on a venue network with no
    # internet. /docs here is a plain page drawn from the same OpenAPI schema.
    app = HubApp(title=title, version=__version__, docs_url=None, redoc_url=None,
                 description="Points, milestones and turnout from Turnout kiosks.")
    app.state.store = store
    app.state.publish_config = publish_config
    app.state.topics = topics or Topics()
    app.state.inline_styles = {style_hash(DOCS_STYLE)}
    app.state.api_rate = rate_limit or RateLimit()
    app.add_middleware(Compression)
    app.add_middleware(BodyLimit)  # outermost of the usual ones: before anything reads a body
    app.include_router(api_router(store))
    app.add_exception_handler(RequestValidationError, invalid_parameters)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs() -> str:
        return api_docs_page(app.openapi())

    return app


async def invalid_parameters(request: Request, exc: RequestValidationError) -> JSONResponse:
    """400, naming each query or path value the API cannot use and what it must be."""
    body = bad_request(exc)
    return JSONResponse(body.model_dump(), status_code=400)


def bad_request(exc: RequestValidationError) -> BadRequestOut:
    problems = []
    for error in exc.errors():
        where, name = (list(error.get("loc", ())) + ["query", "?"])[:2]
        rule = PARAMETER_RULES.get(str(name))
        problem = f"{name} must be {rule}" if rule else f"{name}: {error.get('msg', 'not valid')}"
        if not any(p.parameter == name for p in problems):
            problems.append(ParameterProblem(parameter=str(name), problem=problem,
                                             location="path" if where == "path" else "query"))
    return BadRequestOut(detail="; ".join(p.problem for p in problems) or "the request is not valid",
                         problems=problems)


def rate_limited(request: Request) -> None:
    """Every API request spends from its address's allowance (``hub.ratelimit``)."""
    address = request.client.host if request.client else "unknown"
    wait = request.app.state.api_rate.take(address)
    if wait:
        seconds = max(1, math.ceil(wait))
        raise HTTPException(429, f"too many requests from your address: try again in {seconds} "
                                 f"second{'s' if seconds != 1 else ''}",
                            headers={"Retry-After": str(seconds)})


DOCS_STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
              "line-height:1.5}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;"
              "padding:.5rem;text-align:left;vertical-align:top}code{font-size:1rem}")


def api_docs_page(spec: dict) -> str:
    """The API's endpoints as one self-contained HTML page (no scripts, no CDN; its one inline
    style is allowed by hash in the Content-Security-Policy)."""
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
        "<meta name='description' content='The hub&#39;s JSON API: its endpoints, their parameters "
        "and what they return.'>"
        f"<style>{DOCS_STYLE}</style></head><body><main>"
        f"<h1>{escape(info.get('title', 'API'))} JSON API {escape(str(info.get('version', '')))}</h1>"
        f"<p>{escape(info.get('description', ''))} The machine-readable description is "
        "<a href='/openapi.json'>/openapi.json</a> (OpenAPI); field-by-field documentation is in "
        "docs/api.md in the source.</p>"
        "<table><thead><tr><th scope='col'>Endpoint</th><th scope='col'>Parameters</th>"
        "<th scope='col'>What it returns</th></tr></thead><tbody>" + "".join(rows) +
        "</tbody></table><p><a href='/'>Back to the hub</a></p></main></body></html>")


def api_router(store: Store) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, tags=["api v1"], dependencies=[Depends(rate_limited)],
                       responses=responses(400, 429))

    @router.get("/people/{badge}", response_model=PersonOut,
                responses=responses(404, not_found="no registered badge T5724"))
    def person(badge: str = Path(pattern=BADGE_PATTERN, examples=["T397"],
                                 description="the badge code")) -> PersonOut:
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
    def leaderboard(request: Request,
                    series: str | None = Query(None, max_length=MAX_SERIES_LENGTH,
                                               examples=["LocalGovCamp North"],
                                               description="only events of this series count"),
                    season: str | None = Query(None, pattern=SEASON_PATTERN, examples=["2025"],
                                               description="calendar year, e.g. 2025"),
                    limit: int = Query(50, ge=1, le=MAX_LEADERBOARD_ROWS, examples=[10],
                                       description="how many rows")) -> list[LeaderboardRow]:
        """People by points (then events attended). Only those who agreed to be shown."""
        # From the statistics the pages share (rebuilt at most every few seconds), never by
        # scoring each row afresh: a public endpoint must cost the same however it is asked.
        rows = reports_of(request.app, store).leaderboard(season=season, series=series or None,
                                                           limit=limit)
        return [LeaderboardRow(badge=r.badge, name=r.name, points=r.points, attended=r.attended,
                               volunteered=r.volunteered) for r in rows]

    @router.get("/events", response_model=list[EventSummaryOut])
    def events(series: str | None = Query(None, max_length=MAX_SERIES_LENGTH,
                                          examples=["LocalGovCamp North"],
                                          description="only events of this series"),
               season: str | None = Query(None, pattern=SEASON_PATTERN, examples=["2025"],
                                          description="calendar year, e.g. 2025")) -> list[EventSummaryOut]:
        """Every event in date order."""
        return [EventSummaryOut(id=e.id, name=e.name, date=e.date, series=e.series, venue=e.venue)
                for e in store.events(series=series or None, season=season)]

    @router.get("/events/{event_id}", response_model=EventOut,
                responses=responses(404, not_found="no event 2019-01-01-no-such-camp"))
    def event(event_id: str = Path(pattern=EVENT_ID.pattern, examples=["2025-03-14-localgovcamp-north"],
                                   description="the event's id")) -> EventOut:
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
