"""Open data: events, per-event role counts and pseudonymous participation, as CSV and JSON.

Stable URIs under ``/data/v1/`` (the version changes only if a column's meaning does), CSV on the
Web metadata at ``/data/v1/csv-metadata.json`` (and a ``Link: rel="describedby"`` header on each
CSV), and the licence stated in the metadata, the JSON and the page. People appear only as a
random ``person_id`` that stays the same across downloads; never a badge code or an email.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.templating import Jinja2Templates

from hub.reports import Reports
from hub.store import Store
from hub.text import spreadsheet_safe
from turnout.i18n import N_

BASE = "/data/v1"
CSVW_CONTEXT = "http://www.w3.org/ns/csvw"


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    datatype: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class Dataset:
    name: str  # file stem: /data/v1/<name>.csv
    title: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]


DATASETS = (
    Dataset("events", N_("Events"),
            N_("Every event with its practical details, how many people came and how open it was."),
            (Column("id", N_("Event id"), "string", N_("Stable identifier of the event."), True),
             Column("name", N_("Name"), "string", N_("The event's name."), True),
             Column("date", N_("Date"), "date", N_("The day of the event (YYYY-MM-DD)."), True),
             Column("series", N_("Series"), "string", N_("The series the event belongs to, if any.")),
             Column("venue", N_("Venue"), "string", N_("Where it was held.")),
             Column("after_venue", N_("Afterwards"), "string", N_("The café or pub people went to afterwards.")),
             Column("hashtag", N_("Hashtag"), "string", N_("The event's hashtag.")),
             Column("notes_url", N_("Notes"), "anyURI", N_("Where the agenda and notes are published.")),
             Column("people_present", N_("People present"), "nonNegativeInteger",
                    N_("Different people whose badge was scanned at the event."), True),
             Column("first_timers", N_("First-timers"), "nonNegativeInteger",
                    N_("People for whom this was their first event."), True),
             Column("volunteers", N_("Volunteers"), "nonNegativeInteger",
                    N_("People who took on at least one role besides coming."), True),
             Column("openness_stars", N_("Openness stars"), "nonNegativeInteger",
                    N_("0 to 5: the unbroken run of openness steps organisers ticked."), True),
             Column("openness_ticks", N_("Openness ticks"), "string",
                    N_("The steps ticked, space-separated: agenda hashtag live remote ongoing.")),
             Column("cost_gbp", N_("Cost (GBP)"), "decimal", N_("What the event cost, where recorded."))),
            ("id",)),
    Dataset("event-roles", N_("People per role at each event"),
            N_("For each event and role, how many different people did it (attend = came)."),
            (Column("event_id", N_("Event id"), "string", N_("The event (see events.csv)."), True),
             Column("date", N_("Date"), "date", N_("The day of the event."), True),
             Column("role", N_("Role"), "string", N_("The role: attend, pitch, cake, tidy, organise or another."), True),
             Column("people", N_("People"), "nonNegativeInteger", N_("Different people who did this role."), True)),
            ("event_id", "role")),
    Dataset("participation", N_("Participation records"),
            N_("One row per person, event and role. People appear as a stable random id; a name only "
               "for people who chose to be shown by their full name."),
            (Column("person_id", N_("Person id"), "string",
                    N_("A random id for one person, the same in every download, never their badge code."), True),
             Column("event_id", N_("Event id"), "string", N_("The event (see events.csv)."), True),
             Column("date", N_("Date"), "date", N_("The day of the event."), True),
             Column("role", N_("Role"), "string", N_("What they did (attend = came)."), True),
             Column("name", N_("Name"), "string", N_("Only for people who chose to be shown by full name."))),
            ("person_id", "event_id", "role")),
)
BY_NAME = {d.name: d for d in DATASETS}


def router(store: Store, templates: Jinja2Templates, settings, reports: Reports) -> APIRouter:
    data = APIRouter(include_in_schema=False)

    def rows(name: str) -> Iterable[dict]:
        if name == "events":
            return reports.event_rows()
        if name == "event-roles":
            return reports.event_role_rows()
        return reports.participation_rows()

    @data.get("/data", response_class=HTMLResponse)
    def page(request: Request):
        return templates.TemplateResponse(request, "data.html", {"datasets": DATASETS, "base": BASE})

    @data.get(BASE + "/csv-metadata.json")
    def metadata(request: Request):
        return JSONResponse(csvw_metadata(str(request.base_url).rstrip("/"), settings),
                            media_type="application/csvm+json")

    @data.get(BASE + "/{name}.csv")
    def as_csv(name: str):
        dataset = _dataset(name)
        return StreamingResponse(
            csv_lines(dataset, rows(name)), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"',
                     "Link": f'<{BASE}/csv-metadata.json>; rel="describedby";'
                             ' type="application/csvm+json"'})

    @data.get(BASE + "/{name}.json")
    def as_json(name: str):
        dataset = _dataset(name)
        return StreamingResponse(
            json_chunks(dataset, rows(name), settings), media_type="application/json",
            headers={"Content-Disposition": f'inline; filename="{name}.json"'})

    return data


def _dataset(name: str) -> Dataset:
    if name not in BY_NAME:
        raise HTTPException(404, "There is no dataset with that name.")
    return BY_NAME[name]


def csv_lines(dataset: Dataset, rows: Iterable[dict], batch: int = 2000) -> Iterator[str]:
    """RFC 4180 CSV (CRLF line ends) with a header row of the column names, in batches.

    Every cell goes through ``spreadsheet_safe``: names and event details are typed by the
    public, and a downloaded CSV is opened in a spreadsheet that would run ``=HYPERLINK(…)``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    names = [c.name for c in dataset.columns]
    writer.writerow(names)
    for n, row in enumerate(rows, start=1):
        writer.writerow([spreadsheet_safe(row.get(k)) for k in names])
        if n % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(dataset: Dataset, rows: Iterable[dict], settings) -> Iterator[str]:
    """``{"licence": …, "rows": […]}``, streamed so a million rows never sit in memory at once."""
    head = {"dataset": dataset.name, "title": dataset.title, "description": dataset.description,
            "licence": {"name": settings.licence_name, "url": settings.licence_url},
            "publisher": settings.publisher}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": ['
    names = [c.name for c in dataset.columns]
    parts, first = [], True
    for row in rows:
        parts.append(("" if first else ",") + json.dumps({k: row.get(k) for k in names},
                                                          ensure_ascii=False))
        first = False
        if len(parts) >= 2000:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + "]}"


def csvw_metadata(base_url: str, settings) -> dict:
    """A CSVW table group describing every CSV (W3C "Metadata Vocabulary for Tabular Data")."""
    return {
        "@context": [CSVW_CONTEXT, {"@language": "en"}],
        "dc:title": f"{settings.service_name} open data",
        "dc:publisher": settings.publisher,
        "dc:license": {"@id": settings.licence_url},
        "dc:rights": settings.licence_name,
        "tables": [{
            "url": f"{base_url}{BASE}/{d.name}.csv",
            "dc:title": d.title,
            "dc:description": d.description,
            "dc:license": {"@id": settings.licence_url},
            "dialect": {"header": True, "encoding": "utf-8", "lineTerminators": ["\r\n", "\n"]},
            "tableSchema": {
                "columns": [{"name": c.name, "titles": c.title, "datatype": c.datatype,
                             "dc:description": c.description, "required": c.required}
                            for c in d.columns],
                "primaryKey": list(d.primary_key),
                **({"foreignKeys": [{"columnReference": "event_id",
                                     "reference": {"resource": f"{base_url}{BASE}/events.csv",
                                                   "columnReference": "id"}}]}
                   if "event_id" in [c.name for c in d.columns] else {}),
            },
        } for d in DATASETS],
    }
