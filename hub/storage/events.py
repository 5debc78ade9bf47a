"""Events: their details, and who was present at each (the results roll)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date as Date
from typing import Any

from hub.scoring import CountedScan, event_roll
from hub.storage.base import NotFound, StoreBase, blank_none, utc_now
from hub.storage.database import Row, chunks, marks
from turnout.protocol import EVENT_ID


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    date: str  # YYYY-MM-DD
    series: str | None = None
    venue: str | None = None
    after_venue: str | None = None  # the café or pub afterwards
    hashtag: str | None = None
    notes_url: str | None = None
    cost_pence: int | None = None
    openness: tuple[str, ...] = ()  # what organisers ticked, for the openness stars
    created_at: str = ""
    closed_at: str | None = None  # closed: its results emails are (or are being) sent

    @property
    def season(self) -> str:
        return self.date[:4]


@dataclass(frozen=True)
class RollEntry:
    """One person at one event: who, what they did, and whether it was their first time."""

    badge: str
    name: str | None
    roles: tuple[str, ...]
    first_time: bool


@dataclass(frozen=True)
class EventReport:
    event: Event
    present: tuple[RollEntry, ...]
    role_counts: dict[str, int] = field(default_factory=dict)


def _event(row: Row) -> Event:
    return Event(id=row["id"], name=row["name"], date=row["date"], series=row["series"],
                 venue=row["venue"], after_venue=row["after_venue"], hashtag=row["hashtag"],
                 notes_url=row["notes_url"], cost_pence=row["cost_pence"],
                 openness=tuple(json.loads(row["openness"] or "[]")), created_at=row["created_at"],
                 closed_at=row["closed_at"])


def event_filter(series: str | None, season: str | None,
                  table: str = "") -> tuple[list[str], list[Any]]:
    where, params = [], []
    if series is not None:
        where.append(f"{table}series = ?")
        params.append(series)
    if season is not None:
        where.append(f"{table}date >= ? AND {table}date <= ?")
        params += [f"{season}-01-01", f"{season}-12-31"]
    return where, params


class EventsStore(StoreBase):
    def add_event(self, name: str, date: str, series: str | None = None, venue: str | None = None,
                  id: str | None = None, **details: Any) -> Event:
        """Create an event; its id is made from the date and name unless given."""
        name = name.strip()
        if not name:
            raise ValueError("an event needs a name")
        date = Date.fromisoformat(date).isoformat()
        allowed = {"after_venue", "hashtag", "notes_url", "cost_pence", "openness"}
        if set(details) - allowed:
            raise ValueError(f"unknown event details: {', '.join(sorted(set(details) - allowed))}")
        openness = json.dumps(sorted(details.pop("openness", ()) or ()))
        with self.db.transaction():
            self.db.lock(["events:ids"])
            event_id = id or self._new_event_id(date, name)
            if not EVENT_ID.fullmatch(event_id):
                raise ValueError(f"event id {event_id!r} may use letters, digits, '.', '_', '-'")
            self.db.execute(
                "INSERT INTO events (id, name, date, series, venue, after_venue, hashtag, notes_url,"
                " cost_pence, openness, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (event_id, name, date, blank_none(series), blank_none(venue),
                 details.get("after_venue"), details.get("hashtag"), details.get("notes_url"),
                 details.get("cost_pence"), openness, utc_now()))
        return self.event(event_id)

    def update_event(self, event_id: str, **changes: Any) -> Event:
        """Change an event's details; a new date moves milestones, so standings are refreshed."""
        allowed = {"name", "date", "series", "venue", "after_venue", "hashtag", "notes_url",
                   "cost_pence", "openness"}
        if set(changes) - allowed:
            raise ValueError(f"cannot change {', '.join(sorted(set(changes) - allowed))}")
        if "date" in changes:
            changes["date"] = Date.fromisoformat(changes["date"]).isoformat()
        if "openness" in changes:
            changes["openness"] = json.dumps(sorted(changes["openness"] or ()))
        with self.db.transaction():
            if self.event(event_id) is None:
                raise NotFound(f"no event {event_id}")
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                self.db.execute(f"UPDATE events SET {sets} WHERE id = ?", (*changes.values(), event_id))
        if "date" in changes:
            self.recompute()
        return self.event(event_id)

    def event(self, event_id: str) -> Event | None:
        row = self.db.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
        return _event(row) if row else None

    def has_event(self, event_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is not None

    def events(self, series: str | None = None, season: str | None = None,
               since: str | None = None, until: str | None = None) -> list[Event]:
        """Events in date order, optionally one series, one season (calendar year) or a date range."""
        where, params = event_filter(series, season)
        if since:
            where.append("date >= ?")
            params.append(since)
        if until:
            where.append("date <= ?")
            params.append(until)
        sql = "SELECT * FROM events" + (" WHERE " + " AND ".join(where) if where else "")
        return [_event(r) for r in self.db.execute(sql + " ORDER BY date, id", params)]

    def series(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT series FROM events WHERE series IS NOT NULL ORDER BY series")]

    def seasons(self) -> list[str]:
        return sorted({e.season for e in self.events()})

    def _new_event_id(self, date: str, name: str) -> str:
        slug = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
        slug = re.sub(r"[^a-z0-9]+", "-", slug).strip("-")[:40].strip("-") or "event"
        base = f"{date}-{slug}"
        candidate, n = base, 2
        while self.has_event(candidate):
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def event_date(self, event_id: str) -> str | None:
        return self.event_dates([event_id]).get(event_id)

    def event_dates(self, event_ids: Iterable[str]) -> dict[str, str]:
        """The dates of those of these events that exist, in one query per few hundred."""
        dates: dict[str, str] = {}
        for chunk in chunks(list(set(event_ids))):
            test, params = self.db.dialect.one_of("id", chunk)
            dates.update((r[0], r[1]) for r in self.db.execute(f"SELECT id, date FROM events WHERE {test}", params))
        return dates

    def event_report(self, event_id: str) -> EventReport:
        """Everyone present at an event with the roles they did, first-timers marked."""
        event = self.event(event_id)
        if event is None:
            raise NotFound(f"no event {event_id}")
        rows = self.db.execute("SELECT id, event, badge, role, annuls FROM scans WHERE event = ?",
                               (event_id,)).fetchall()
        roll = event_roll([CountedScan(r["id"], r["event"], r["badge"], r["role"], r["annuls"])
                           for r in rows], event_id)
        firsts = self._first_timers(event, list(roll))
        people = self.people_by_badge(roll)
        entries, counts = [], {}
        for badge, roles in roll.items():
            person = people.get(badge)
            entries.append(RollEntry(badge, person.public_name if person else None, tuple(roles),
                                     badge in firsts))
            for role in roles:
                counts[role] = counts.get(role, 0) + 1
        return EventReport(event, tuple(entries), dict(sorted(counts.items())))

    def _first_timers(self, event: Event, badges: list[str]) -> set[str]:
        """Badges with no counted scan at any earlier event."""
        if not badges:
            return set()
        in_list = marks(badges)
        earlier = {r[0] for r in self.db.execute(
            f"SELECT DISTINCT s.badge FROM scans s JOIN events e ON e.id = s.event"
            f" WHERE s.badge IN ({in_list}) AND s.annuls IS NULL AND s.annulled = 0"
            f" AND (e.date < ? OR (e.date = ? AND e.id < ?))",
            (*badges, event.date, event.date, event.id))}
        return set(badges) - earlier
