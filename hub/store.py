"""The hub's database: the only module that speaks SQL.

SQLite by default (WAL, one connection per thread). The SQL is plain and portable (``?``
placeholders, ``ON CONFLICT``, ``RETURNING``) so a PostgreSQL backend can be added beside
``SQLiteDatabase`` without touching scoring or ingest: only the DDL and the placeholder style differ.

Scans are kept forever, exactly as the kiosk sent them; everything else about a person's points
(standings, milestones awarded) is derived and can be rebuilt with ``recompute()``.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date as Date, datetime, timezone
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from hub.people import CONSENTS, DEFAULT_CONSENT, first_name, public_name
from hub.rules import Rules, default_rules
from hub.scoring import (ClubChanges, CountedScan, Reached, Standing, club_changes, event_roll,
                         ranked, score_people, score_person)
from turnout.codes import badge_code, badge_number, is_badge
from turnout.protocol import EVENT_ID, KioskConfig, Scan, is_kiosk_id

SCHEMA_VERSION = 2

# How to bring an older database up to SCHEMA_VERSION: the statements for each version.
MIGRATIONS = {
    2: ["ALTER TABLE kiosks ADD COLUMN reported_event TEXT",
        "ALTER TABLE kiosks ADD COLUMN config_sent TEXT"],
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS people (
    badge TEXT PRIMARY KEY,
    number BIGINT NOT NULL UNIQUE,  -- badge numbers run to 10^17
    name TEXT,
    org TEXT,
    email TEXT,
    junior INTEGER NOT NULL DEFAULT 0,
    consent TEXT NOT NULL DEFAULT 'initial',
    claimed INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    claimed_at TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    date TEXT NOT NULL,
    series TEXT,
    venue TEXT,
    after_venue TEXT,
    hashtag TEXT,
    notes_url TEXT,
    cost_pence INTEGER,
    openness TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_date ON events (date);
CREATE TABLE IF NOT EXISTS roles (
    name TEXT PRIMARY KEY,
    points INTEGER NOT NULL,
    hours REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS kiosks (
    id TEXT PRIMARY KEY,
    event TEXT,  -- the event the hub assigned
    state TEXT NOT NULL DEFAULT 'unknown',
    version TEXT,
    queued INTEGER NOT NULL DEFAULT 0,
    last_seen TEXT,
    created_at TEXT NOT NULL,
    reported_event TEXT,  -- the event the kiosk says it counts for (its status)
    config_sent TEXT  -- the retained config last published to it (JSON); NULL: never
);
CREATE TABLE IF NOT EXISTS scans (
    id TEXT PRIMARY KEY,
    kiosk TEXT NOT NULL,
    event TEXT NOT NULL,
    badge TEXT NOT NULL,
    role TEXT NOT NULL,
    ts TEXT NOT NULL,
    seq BIGINT NOT NULL,  -- a kiosk's own counter, 64-bit
    clock_ok INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    annuls TEXT,
    annulled INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    milestone TEXT
);
CREATE INDEX IF NOT EXISTS scans_by_badge ON scans (badge);
CREATE INDEX IF NOT EXISTS scans_by_event ON scans (event, badge, role);
DROP INDEX IF EXISTS scans_by_annuls;
-- Only undos name another scan: a partial index keeps the common insert free of it.
CREATE INDEX IF NOT EXISTS scans_undoing ON scans (annuls) WHERE annuls IS NOT NULL;
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    scan_id TEXT,
    kiosk TEXT,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    received_at TEXT NOT NULL,
    resolved_at TEXT,
    resolution TEXT
);
CREATE INDEX IF NOT EXISTS quarantine_by_scan ON quarantine (scan_id);
CREATE TABLE IF NOT EXISTS milestones (
    badge TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    target INTEGER NOT NULL,
    reached_on TEXT NOT NULL,
    event TEXT NOT NULL,
    awarded_at TEXT NOT NULL,
    PRIMARY KEY (badge, name)
);
CREATE TABLE IF NOT EXISTS standings (
    badge TEXT PRIMARY KEY,
    points INTEGER NOT NULL,
    attended INTEGER NOT NULL,
    volunteered INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS standings_by_points ON standings (points DESC, attended DESC);
CREATE TABLE IF NOT EXISTS outcomes (
    id INTEGER PRIMARY KEY,
    event TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    story TEXT,
    link TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outcomes_by_event ON outcomes (event);
CREATE TABLE IF NOT EXISTS merges (
    badge TEXT PRIMARY KEY,
    into_badge TEXT NOT NULL,
    merged_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS erasures (
    badge TEXT PRIMARY KEY,
    erased_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pseudonyms (
    badge TEXT PRIMARY KEY,
    pid TEXT NOT NULL UNIQUE  -- a stable random id per badge, for open participation records
);
CREATE TABLE IF NOT EXISTS privacy_requests (
    id INTEGER PRIMARY KEY,
    badge TEXT NOT NULL,
    kind TEXT NOT NULL,
    note TEXT,
    requested_at TEXT NOT NULL,
    resolved_at TEXT,
    resolution TEXT
);
"""

# An erased person's scans are kept under a badge like this, one per event, linked to nothing.
ERASED_PREFIX = "anon-"

# Quarantined payloads are kept for reading and reassigning, not as an archive of floods.
MAX_QUARANTINE_PAYLOAD = 16 * 1024


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class NotFound(LookupError):
    """No such person, event, kiosk or quarantined message."""


# --- What the rest of the hub gets back: plain values, never rows. --------------------------

@dataclass(frozen=True)
class Person:
    badge: str
    number: int
    name: str | None
    org: str | None = None
    email: str | None = None
    junior: bool = False
    consent: str = DEFAULT_CONSENT
    claimed: bool = False
    created_at: str = ""
    claimed_at: str | None = None

    @property
    def public_name(self) -> str | None:
        return public_name(self.name, self.consent) if self.claimed else None

    @property
    def first_name(self) -> str:
        return first_name(self.name) if self.claimed else ""


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

    @property
    def season(self) -> str:
        return self.date[:4]


@dataclass(frozen=True)
class Kiosk:
    id: str
    event: str | None
    state: str  # online, offline, or unknown until it first reports
    version: str | None
    queued: int
    last_seen: str | None
    created_at: str
    reported_event: str | None = None  # what the kiosk itself says it counts for


class StoredScan(NamedTuple):
    """A scan the hub has stored: what it says, and how it was answered (a tuple: there is one
    per scan in a batch)."""

    badge: str
    event: str
    role: str
    annuls: str | None
    annulled: bool
    status: str
    milestone: str | None


@dataclass(slots=True)
class NewScan:
    """A scan on its way into the table, with how the hub answered it."""

    scan: Scan
    received_at: str
    status: str
    annulled: bool = False
    milestone: str | None = None


@dataclass
class Tally:
    """One badge's scans that still count, as a count per (event, role), with the events' dates."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)

    def add(self, event: str, role: str, date: str) -> None:
        self.counts[(event, role)] = self.counts.get((event, role), 0) + 1
        self.dates[event] = date

    def remove(self, event: str, role: str) -> None:
        left = self.counts.get((event, role), 0) - 1
        if left > 0:
            self.counts[(event, role)] = left
        else:
            self.counts.pop((event, role), None)


@dataclass(frozen=True)
class Quarantined:
    id: int
    scan_id: str | None
    kiosk: str | None
    topic: str
    payload: str
    reason: str
    received_at: str
    resolved_at: str | None
    resolution: str | None


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


# What came of an event, as organisers tell it: shown as stories beside the numbers.
OUTCOME_KINDS = {
    "project": "A project started",
    "service": "A service changed",
    "collaboration": "A collaboration formed",
    "other": "Something else",
}


@dataclass(frozen=True)
class Outcome:
    id: int
    event: str
    kind: str  # a key of OUTCOME_KINDS
    title: str
    story: str | None
    link: str | None
    created_at: str


@dataclass(frozen=True)
class PrivacyRequest:
    """A person's request about their data (``erase``), waiting for an organiser to confirm."""

    id: int
    badge: str
    kind: str
    note: str | None
    requested_at: str
    resolved_at: str | None
    resolution: str | None


# --- The connection abstraction. ------------------------------------------------------------

class SQLiteDatabase:
    """One SQLite file in WAL mode, a connection per thread, ``?`` placeholders."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: an acked scan must survive a power cut, not only a crash.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.connection().execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> int:
        """Run ``sql`` once per row; how many rows it changed in all."""
        return self.connection().executemany(sql, [tuple(r) for r in rows]).rowcount

    def script(self, sql: str) -> None:
        self.connection().executescript(sql)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self.connection()
        if conn.in_transaction:  # nested: the outer transaction commits
            yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo just this part of a transaction if it fails (one bad message, not the batch)."""
        conn = self.connection()
        conn.execute("SAVEPOINT one_message")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK TO SAVEPOINT one_message")
            conn.execute("RELEASE SAVEPOINT one_message")
            raise
        conn.execute("RELEASE SAVEPOINT one_message")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


def open_database(location: str | Path) -> SQLiteDatabase:
    """A database from a path (SQLite). Step 6 adds ``postgresql://…`` here."""
    text = str(location)
    if text.startswith(("postgres://", "postgresql://")):
        raise NotImplementedError("PostgreSQL storage arrives in step 6; use a SQLite path")
    return SQLiteDatabase(text)


# --- The store. -----------------------------------------------------------------------------

class Store:
    """Everything the hub keeps. Thread-safe: each thread gets its own connection."""

    def __init__(self, location: str | Path, rules: Rules | None = None):
        self.db = open_database(location)
        self.file_rules = rules or default_rules()  # its clubs; roles live in the database
        self._rules: Rules | None = None
        self._rules_version: str | None = None
        self.db.script(SCHEMA)
        self._init_schema()

    def _init_schema(self) -> None:
        with self.db.transaction():
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                                (str(SCHEMA_VERSION),))
                # A new hub starts with the rules file's roles; after that, roles live here.
                self.db.executemany(
                    "INSERT INTO roles (name, points, hours) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    [(r, p, self.file_rules.hours.get(r, 0)) for r, p in self.file_rules.roles.items()])
                return
            for version in range(int(row["value"]) + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    self.db.execute(statement)
                self.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.transaction():
            yield

    # -- rules and roles --

    def rules(self) -> Rules:
        """The rules file's clubs with the roles and points kept in the database. Roles changed
        by another process (``turnout-hub role set`` beside a running hub) show at once: each
        call looks at a version stamp, one tiny query, and re-reads the roles when it moved."""
        version = self.db.execute("SELECT value FROM meta WHERE key = 'roles_version'").fetchone()
        version = version[0] if version else None
        if self._rules is None or version != self._rules_version:
            rows = self.db.execute("SELECT name, points, hours FROM roles ORDER BY name").fetchall()
            self._rules = self.file_rules.with_roles({r["name"]: r["points"] for r in rows},
                                                      {r["name"]: r["hours"] for r in rows})
            self._rules_version = version
        return self._rules

    def reload_rules(self) -> Rules:
        self._rules = None
        return self.rules()

    def set_role(self, name: str, points: int, hours: float | None = None) -> None:
        from turnout.codes import is_role_name
        if not is_role_name(name):
            raise ValueError(f"role name {name!r} must be lower-case letters, digits, _ or -")
        if points < 0:
            raise ValueError("points cannot be negative")
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO roles (name, points, hours) VALUES (?, ?, ?) ON CONFLICT (name) "
                "DO UPDATE SET points = excluded.points, hours = excluded.hours",
                (name, points, hours if hours is not None else self.rules().hours.get(name, 0)))
            self.db.execute("INSERT INTO meta (key, value) VALUES ('roles_version', ?) ON CONFLICT (key)"
                            " DO UPDATE SET value = excluded.value", (secrets.token_hex(8),))
        self._rules = None

    # -- people --

    def add_person(self, name: str, junior: bool = False, org: str | None = None,
                   email: str | None = None, consent: str = DEFAULT_CONSENT) -> Person:
        """Register someone and give them the next badge number."""
        name = _clean_name(name)
        _check_consent(consent)
        now = utc_now()
        with self.db.transaction():
            number = self._next_number()
            self.db.execute(
                "INSERT INTO people (badge, number, name, org, email, junior, consent, claimed,"
                " created_at, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (badge_code(number), number, name, _blank_none(org), _blank_none(email),
                 int(junior), consent, now, now))
        return self.person(badge_code(number))

    def add_blank_badges(self, count: int) -> list[str]:
        """Badge codes for pre-printed badges, claimed later by whoever is handed one."""
        now = utc_now()
        with self.db.transaction():
            start = self._next_number()
            codes = [badge_code(n) for n in range(start, start + count)]
            self.db.executemany(
                "INSERT INTO people (badge, number, created_at) VALUES (?, ?, ?)",
                [(code, n, now) for n, code in zip(range(start, start + count), codes)])
        return codes

    def claim(self, badge: str, name: str, junior: bool = False, org: str | None = None,
              email: str | None = None, consent: str = DEFAULT_CONSENT) -> Person:
        """Give a pre-printed (or already scanned) badge to a person. Its earlier scans count now."""
        if not is_badge(badge):
            raise ValueError(f"{badge} is not a valid badge code (check the digits)")
        name = _clean_name(name)
        _check_consent(consent)
        now = utc_now()
        with self.db.transaction():
            existing = self.person(badge)
            if existing is not None and existing.claimed:
                raise ValueError(f"badge {badge} is already claimed by {existing.name}")
            if existing is None:  # only badges this hub issued: numbering stays the hub's own
                raise NotFound(f"badge {badge} was not issued by this hub "
                               "(print blank badges with `turnout-hub badges --blank N`)")
            self.db.execute(
                "UPDATE people SET name = ?, org = ?, email = ?, junior = ?, consent = ?, claimed = 1,"
                " claimed_at = ? WHERE badge = ?",
                (name, _blank_none(org), _blank_none(email), int(junior), consent, now, badge))
            self.refresh_person(badge, award=True)
        return self.person(badge)

    def update_person(self, badge: str, **changes: Any) -> Person:
        allowed = {"name", "org", "email", "junior", "consent"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
        if "consent" in changes:
            _check_consent(changes["consent"])
        if "name" in changes:
            changes["name"] = _clean_name(changes["name"])
        if "junior" in changes:
            changes["junior"] = int(bool(changes["junior"]))
        if not changes:
            return self._person_or_raise(badge)
        with self.db.transaction():
            self._person_or_raise(badge)
            sets = ", ".join(f"{k} = ?" for k in changes)
            self.db.execute(f"UPDATE people SET {sets} WHERE badge = ?", (*changes.values(), badge))
            self.refresh_person(badge, award=True)
        return self.person(badge)

    def person(self, badge: str) -> Person | None:
        row = self.db.execute("SELECT * FROM people WHERE badge = ?", (badge,)).fetchone()
        return _person(row) if row else None

    def people(self, claimed: bool | None = True, limit: int | None = None, offset: int = 0,
               org: str | None = None) -> list[Person]:
        """People in badge-number order; ``claimed=None`` includes unclaimed badges too."""
        where, params = [], []
        if claimed is not None:
            where.append("claimed = ?")
            params.append(int(claimed))
        if org is not None:
            where.append("org = ?")
            params.append(org)
        sql = "SELECT * FROM people" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY number"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [_person(r) for r in self.db.execute(sql, params)]

    def count_people(self, claimed: bool | None = True) -> int:
        if claimed is None:
            return self.db.execute("SELECT COUNT(*) FROM people").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM people WHERE claimed = ?",
                               (int(claimed),)).fetchone()[0]

    def ensure_badge(self, badge: str) -> None:
        """Remember a badge seen at a kiosk before anyone registered it, so numbers never clash."""
        self.db.execute("INSERT INTO people (badge, number, created_at) VALUES (?, ?, ?)"
                        " ON CONFLICT DO NOTHING", (badge, badge_number(badge), utc_now()))

    def _next_number(self) -> int:
        return (self.db.execute("SELECT MAX(number) FROM people").fetchone()[0] or 0) + 1

    def _person_or_raise(self, badge: str) -> Person:
        person = self.person(badge)
        if person is None:
            raise NotFound(f"no badge {badge}")
        return person

    # -- events --

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
            event_id = id or self._new_event_id(date, name)
            if not EVENT_ID.fullmatch(event_id):
                raise ValueError(f"event id {event_id!r} may use letters, digits, '.', '_', '-'")
            self.db.execute(
                "INSERT INTO events (id, name, date, series, venue, after_venue, hashtag, notes_url,"
                " cost_pence, openness, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (event_id, name, date, _blank_none(series), _blank_none(venue),
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
        where, params = _event_filter(series, season)
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

    # -- kiosks --

    def add_kiosk(self, kiosk_id: str) -> Kiosk:
        if not is_kiosk_id(kiosk_id):
            raise ValueError(f"kiosk id {kiosk_id!r} may use letters, digits, '_' and '-' (up to 32)")
        with self.db.transaction():
            self.ensure_kiosk(kiosk_id)
        return self.kiosk(kiosk_id)

    def ensure_kiosk(self, kiosk_id: str) -> None:
        self.db.execute("INSERT INTO kiosks (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        (kiosk_id, utc_now()))

    def kiosk(self, kiosk_id: str) -> Kiosk | None:
        row = self.db.execute("SELECT * FROM kiosks WHERE id = ?", (kiosk_id,)).fetchone()
        return _kiosk(row) if row else None

    def kiosks(self) -> list[Kiosk]:
        return [_kiosk(r) for r in self.db.execute("SELECT * FROM kiosks ORDER BY id")]

    def assign_kiosk(self, kiosk_id: str, event_id: str | None) -> KioskConfig:
        """Point a kiosk at an event (None: no event). Returns the config to publish to it."""
        if not is_kiosk_id(kiosk_id):
            raise ValueError(f"kiosk id {kiosk_id!r} may use letters, digits, '_' and '-' (up to 32)")
        with self.db.transaction():
            if event_id is not None and not self.has_event(event_id):
                raise NotFound(f"no event {event_id}")
            self.ensure_kiosk(kiosk_id)
            self.db.execute("UPDATE kiosks SET event = ? WHERE id = ?", (event_id, kiosk_id))
        return self.kiosk_config(kiosk_id)

    def kiosk_config(self, kiosk_id: str) -> KioskConfig:
        kiosk = self.kiosk(kiosk_id)
        event = self.event(kiosk.event) if kiosk and kiosk.event else None
        return KioskConfig(event=event.id if event else None, event_name=event.name if event else None,
                           roles=tuple(self.rules().roles))

    def record_kiosk_status(self, kiosk_id: str, state: str, version: str | None = None,
                            queued: int | None = None, seen_at: str | None = None,
                            event: str | None = None) -> None:
        """What a kiosk last said about itself (its retained status, or its last will)."""
        with self.db.transaction():
            self.ensure_kiosk(kiosk_id)
            self.db.execute(
                "UPDATE kiosks SET state = ?, version = COALESCE(?, version),"
                " queued = COALESCE(?, queued), last_seen = ?, reported_event = ? WHERE id = ?",
                (state, version, queued, seen_at or utc_now(), event, kiosk_id))

    def configs_to_send(self, everything: bool = False) -> dict[str, KioskConfig]:
        """Kiosks whose config differs from the one last published to them (an organiser
        assigned an event, from any process, or the roles changed); with ``everything``, every
        kiosk that has been sent one or has an event (after the broker may have lost them)."""
        rules = self.rules()
        rows = self.db.execute(
            "SELECT k.id, k.event, e.name, k.config_sent FROM kiosks k"
            " LEFT JOIN events e ON e.id = k.event ORDER BY k.id").fetchall()
        due = {}
        for kiosk_id, event, name, sent in rows:
            config = KioskConfig(event=event if name is not None else None, event_name=name,
                                 roles=tuple(rules.roles))
            if sent is None and config.event is None:
                continue  # never assigned: it may be counting for a set-up card's event
            if everything or sent != config.to_json().decode():
                due[kiosk_id] = config
        return due

    def config_sent(self, kiosk_id: str, config: KioskConfig) -> None:
        self.db.execute("UPDATE kiosks SET config_sent = ? WHERE id = ?",
                        (config.to_json().decode(), kiosk_id))

    def kiosk_seen(self, kiosk_id: str, seen_at: str) -> None:
        self.db.execute("UPDATE kiosks SET last_seen = ? WHERE id = ?", (seen_at, kiosk_id))

    # -- scans (used by hub.intake inside one transaction per batch) --

    def stored_scans(self, scan_ids: Iterable[str]) -> dict[str, StoredScan]:
        """Those of these scan ids already stored (under whatever badge), as stored."""
        found: dict[str, StoredScan] = {}
        for chunk in _chunks(list(set(scan_ids))):
            for row in self.db.execute(
                    "SELECT id, badge, event, role, annuls, annulled, status, milestone FROM scans"
                    f" WHERE id IN ({_marks(chunk)})", chunk):
                found[row[0]] = StoredScan(row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7])
        return found

    def stored_scan(self, scan_id: str) -> StoredScan | None:
        return self.stored_scans([scan_id]).get(scan_id)

    def undone_scans(self, scan_ids: Iterable[str]) -> set[tuple[str, str]]:
        """(scan id, badge) for each of these ids that an undo already stored names."""
        undone: set[tuple[str, str]] = set()
        for chunk in _chunks(list(set(scan_ids))):
            undone.update((annuls, badge) for annuls, badge in self.db.execute(
                f"SELECT annuls, badge FROM scans WHERE annuls IN ({_marks(chunk)})", chunk))
        return undone

    def badge_tallies(self, badges: Iterable[str]) -> dict[str, Tally]:
        """For each badge, how many scans that still count it has per (event, role), and those
        events' dates: all scoring needs, in one query for a whole batch of badges."""
        tallies = {badge: Tally() for badge in badges}
        for chunk in _chunks(list(tallies)):
            for badge, event, role, count, date in self.db.execute(
                    "SELECT s.badge, s.event, s.role, COUNT(*), e.date FROM scans s"
                    " JOIN events e ON e.id = s.event"
                    f" WHERE s.badge IN ({_marks(chunk)}) AND s.annuls IS NULL AND s.annulled = 0"
                    " GROUP BY s.badge, s.event, s.role, e.date", chunk):
                tallies[badge].counts[(event, role)] = count
                tallies[badge].dates[event] = date
        return tallies

    def is_counted(self, event: str, badge: str, role: str) -> bool:
        """Does a scan that still counts already record this badge doing this role here?"""
        return self.db.execute(
            "SELECT 1 FROM scans WHERE event = ? AND badge = ? AND role = ? AND annuls IS NULL"
            " AND annulled = 0 LIMIT 1", (event, badge, role)).fetchone() is not None

    def insert_scan(self, scan: Scan, received_at: str, status: str, annulled: bool = False,
                    milestone: str | None = None) -> bool:
        """Store a scan (or an undo); False if its id is already stored."""
        return self.insert_scans([NewScan(scan, received_at, status, annulled, milestone)]) == 1

    def insert_scans(self, new: list[NewScan]) -> int:
        """Store scans (and undos) in one go; how many were not stored already. An undo marks
        its target; ``annulled`` stores a scan whose undo arrived first as undone already."""
        inserted = self.db.executemany(
            "INSERT INTO scans (id, kiosk, event, badge, role, ts, seq, clock_ok, received_at,"
            " annuls, annulled, status, milestone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            [(n.scan.id, n.scan.kiosk, n.scan.event, n.scan.badge, n.scan.role, n.scan.ts, n.scan.seq,
              int(n.scan.clock_ok), n.received_at, n.scan.annuls, int(n.annulled), n.status, n.milestone)
             for n in new]) if new else 0
        self.db.executemany("UPDATE scans SET annulled = 1 WHERE id = ? AND badge = ?",
                            [(n.scan.annuls, n.scan.badge) for n in new if n.scan.annuls is not None])
        return inserted

    def set_scan_milestone(self, scan_id: str, milestone: str) -> None:
        self.db.execute("UPDATE scans SET milestone = ? WHERE id = ?", (milestone, scan_id))

    def event_date(self, event_id: str) -> str | None:
        row = self.db.execute("SELECT date FROM events WHERE id = ?", (event_id,)).fetchone()
        return row[0] if row else None

    def person_scans(self, badge: str) -> tuple[list[CountedScan], dict[str, str]]:
        """A badge's scans and the dates of their events, for scoring one person."""
        rows = self.db.execute(
            "SELECT s.id, s.event, s.badge, s.role, s.annuls, e.date FROM scans s"
            " JOIN events e ON e.id = s.event WHERE s.badge = ?", (badge,)).fetchall()
        return ([CountedScan(r["id"], r["event"], r["badge"], r["role"], r["annuls"]) for r in rows],
                {r["event"]: r["date"] for r in rows})

    def scans(self, event: str | None = None, badge: str | None = None) -> list[dict[str, Any]]:
        """Stored scans as the kiosk sent them, plus status, for exports and audits."""
        where, params = [], []
        if event is not None:
            where.append("event = ?")
            params.append(event)
        if badge is not None:
            where.append("badge = ?")
            params.append(badge)
        sql = "SELECT * FROM scans" + (" WHERE " + " AND ".join(where) if where else "")
        return [dict(r) for r in self.db.execute(sql + " ORDER BY received_at, id", params)]

    def count_scans(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM scans").fetchone()[0]

    # -- quarantine --

    def quarantine(self, topic: str, payload: bytes, reason: str, received_at: str,
                   kiosk: str | None = None, scan_id: str | None = None) -> int:
        """Keep a refused message with its reason. A re-sent copy is not kept twice."""
        text = payload[:MAX_QUARANTINE_PAYLOAD].decode("utf-8", errors="replace")
        if scan_id is not None:
            row = self.db.execute(
                "SELECT id FROM quarantine WHERE scan_id = ? AND reason = ? AND payload = ?"
                " AND resolved_at IS NULL", (scan_id, reason, text)).fetchone()
            if row:
                return row["id"]
        return self.db.execute(
            "INSERT INTO quarantine (scan_id, kiosk, topic, payload, reason, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (scan_id, kiosk, topic, text, reason, received_at)).fetchone()[0]

    def quarantined(self, include_resolved: bool = False, limit: int = 1000) -> list[Quarantined]:
        sql = "SELECT * FROM quarantine"
        if not include_resolved:
            sql += " WHERE resolved_at IS NULL"
        return [_quarantined(r) for r in self.db.execute(sql + " ORDER BY id DESC LIMIT ?", (limit,))]

    def quarantined_item(self, item_id: int) -> Quarantined:
        row = self.db.execute("SELECT * FROM quarantine WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise NotFound(f"nothing in quarantine with number {item_id}")
        return _quarantined(row)

    def resolve_quarantined(self, item_id: int, resolution: str) -> None:
        self.db.execute("UPDATE quarantine SET resolved_at = ?, resolution = ? WHERE id = ?",
                        (utc_now(), resolution, item_id))

    # -- derived: standings and milestones --

    def standing(self, badge: str, person: Person | None = None) -> Standing:
        """A person's points, clubs and next milestone, scored from their stored scans now."""
        person = person or self.person(badge)
        scans, dates = self.person_scans(badge)
        return score_person(badge, scans, dates, self.rules(), junior=bool(person and person.junior))

    def awarded(self, badge: str) -> dict[str, Reached]:
        return self.awarded_by_badge([badge])[badge]

    def awarded_by_badge(self, badges: Iterable[str]) -> dict[str, dict[str, Reached]]:
        """The clubs already awarded to each of these badges, by name (empty for none)."""
        awarded: dict[str, dict[str, Reached]] = {badge: {} for badge in badges}
        for chunk in _chunks(list(awarded)):
            for badge, name, kind, target, reached_on, event in self.db.execute(
                    "SELECT badge, name, kind, target, reached_on, event FROM milestones"
                    f" WHERE badge IN ({_marks(chunk)})", chunk):
                awarded[badge][name] = Reached(name, kind, target, reached_on, event)
        return awarded

    def award(self, badge: str, reached: Iterable[Reached]) -> None:
        """Record clubs reached. One already awarded keeps the time it was first awarded but
        takes the new date and event (a late scan from an earlier event moves them)."""
        now = utc_now()
        self.db.executemany(
            "INSERT INTO milestones (badge, name, kind, target, reached_on, event, awarded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (badge, name) DO UPDATE SET"
            " kind = excluded.kind, target = excluded.target, reached_on = excluded.reached_on,"
            " event = excluded.event",
            [(badge, m.name, m.kind, m.target, m.reached_on, m.event, now) for m in reached])

    def unaward(self, badge: str, names: Iterable[str]) -> None:
        """Clubs no longer reached (an undo took the person back below them)."""
        self.db.executemany("DELETE FROM milestones WHERE badge = ? AND name = ?",
                            [(badge, name) for name in names])

    def save_standing(self, standing: Standing) -> None:
        self.save_standings([standing])

    def save_standings(self, standings: Iterable[Standing]) -> None:
        """Keep these standings; one with nothing counted (all undone) is no standing at all."""
        now = utc_now()
        standings = list(standings)
        self.db.executemany("DELETE FROM standings WHERE badge = ?",
                            [(s.badge,) for s in standings if not s.attended])
        standings = [s for s in standings if s.attended]
        self.db.executemany(
            "INSERT INTO standings (badge, points, attended, volunteered, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (badge) DO UPDATE SET points = excluded.points,"
            " attended = excluded.attended, volunteered = excluded.volunteered,"
            " updated_at = excluded.updated_at",
            [(s.badge, s.points, s.attended, s.volunteered, now) for s in standings])

    def refresh_person(self, badge: str, award: bool = False) -> Standing:
        """Re-score one badge and keep its standing (and, if asked, its new clubs) up to date."""
        standing = self.standing(badge)
        with self.db.transaction():
            self.save_standing(standing)
            if award:
                person = self.person(badge)
                if person and person.claimed:
                    self.settle_clubs(badge, club_changes(standing, self.awarded(badge)))
        return standing

    def settle_clubs(self, badge: str, changes: ClubChanges) -> None:
        """Make the clubs on record for a badge match its standing."""
        self.award(badge, changes.fresh + changes.moved)
        self.unaward(badge, changes.lost)

    def recompute(self) -> int:
        """Rebuild every standing and milestone from the stored scans. Returns people scored.

        Scans are read once, in badge order, and each badge is scored by the pure scoring
        functions; only rows that differ are written, so a second run changes nothing and a
        club keeps the time it was first awarded. One transaction: scans arriving meanwhile wait.
        """
        rules = self.reload_rules()
        q = self.db.execute
        with self.db.transaction():
            dates = dict(q("SELECT id, date FROM events").fetchall())
            people = {b: (bool(junior), bool(claimed))
                      for b, junior, claimed in q("SELECT badge, junior, claimed FROM people")}
            old_standings = {r[0]: tuple(r[1:]) for r in q(
                "SELECT badge, points, attended, volunteered FROM standings")}
            old_clubs = {(r[0], r[1]): tuple(r[2:]) for r in q(
                "SELECT badge, name, kind, target, reached_on, event FROM milestones")}
            standings, clubs, flips = {}, {}, []
            # Sorted, not read through the badge index: that order jumps all over the file (2x slower).
            scans = q("SELECT badge, id, event, role, annuls, annulled FROM scans ORDER BY badge || ''")
            for badge, rows in groupby(scans, key=itemgetter(0)):
                rows = list(rows)
                undone = {r[4] for r in rows if r[4]}  # an undo only ever undoes its own badge's scan
                flips += [(int(r[1] in undone), r[1]) for r in rows if (r[1] in undone) != bool(r[5])]
                junior, claimed = people.get(badge, (False, False))
                standing = score_person(badge, [CountedScan(i, e, badge, role, a)
                                                for _, i, e, role, a, _ in rows if e in dates],
                                        dates, rules, junior)
                if not standing.attended:  # nothing counts: no standing, as score_people
                    continue
                standings[badge] = (standing.points, standing.attended, standing.volunteered)
                if claimed:
                    clubs.update({(badge, m.name): (m.kind, m.target, m.reached_on, m.event)
                                  for m in standing.milestones})
            now = utc_now()
            self.db.executemany("UPDATE scans SET annulled = ? WHERE id = ?", flips)
            self.db.executemany("DELETE FROM standings WHERE badge = ?",
                                [(b,) for b in old_standings.keys() - standings.keys()])
            self.db.executemany(
                "INSERT INTO standings (badge, points, attended, volunteered, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (badge) DO UPDATE SET points = excluded.points,"
                " attended = excluded.attended, volunteered = excluded.volunteered,"
                " updated_at = excluded.updated_at",
                [(b, *s, now) for b, s in standings.items() if old_standings.get(b) != s])
            self.db.executemany("DELETE FROM milestones WHERE badge = ? AND name = ?",
                                old_clubs.keys() - clubs.keys())
            self.db.executemany(
                "INSERT INTO milestones (badge, name, kind, target, reached_on, event, awarded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (badge, name) DO UPDATE SET"
                " kind = excluded.kind, target = excluded.target, reached_on = excluded.reached_on,"
                " event = excluded.event",  # awarded_at stays: when the club was first awarded
                [(*key, *club, now) for key, club in clubs.items() if old_clubs.get(key) != club])
        return len(standings)

    # -- what pages and the API read --

    def leaderboard(self, series: str | None = None, season: str | None = None,
                    limit: int | None = 50, org: str | None = None,
                    include_hidden: bool = False) -> list[tuple[Person, Standing]]:
        """Claimed people by points. With a series or season, only those events count.

        People who chose not to be shown publicly are left out unless ``include_hidden``.
        """
        people = {p.badge: p for p in self.people(claimed=True, org=org)
                  if include_hidden or p.public_name is not None}
        if series is None and season is None:
            rows = self.db.execute("SELECT * FROM standings ORDER BY points DESC, attended DESC,"
                                   " badge").fetchall()
            standings = [self._standing_row(r) for r in rows if r["badge"] in people]
            chosen = ranked(standings, limit)
            full = {s.badge: self.standing(s.badge) for s in chosen}
            return [(people[s.badge], full[s.badge]) for s in chosen]
        where, params = _event_filter(series, season, table="e.")
        rows = self.db.execute(
            "SELECT s.id, s.event, s.badge, s.role, s.annuls, e.date FROM scans s"
            " JOIN events e ON e.id = s.event WHERE " + " AND ".join(where),
            params).fetchall()
        scans = [CountedScan(r["id"], r["event"], r["badge"], r["role"], r["annuls"])
                 for r in rows if r["badge"] in people]
        dates = {r["event"]: r["date"] for r in rows}
        juniors = [b for b, p in people.items() if p.junior]
        standings = score_people(scans, dates, self.rules(), juniors)
        return [(people[s.badge], s) for s in ranked(standings.values(), limit)]

    @staticmethod
    def _standing_row(row: sqlite3.Row) -> Standing:
        return Standing(badge=row["badge"], points=row["points"], attended=row["attended"],
                        volunteered=row["volunteered"])

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
        marks = _marks(badges)
        earlier = {r[0] for r in self.db.execute(
            f"SELECT DISTINCT s.badge FROM scans s JOIN events e ON e.id = s.event"
            f" WHERE s.badge IN ({marks}) AND s.annuls IS NULL AND s.annulled = 0"
            f" AND (e.date < ? OR (e.date = ? AND e.id < ?))",
            (*badges, event.date, event.date, event.id))}
        return set(badges) - earlier

    def people_by_badge(self, badges: Iterable[str]) -> dict[str, Person]:
        """The people (claimed or not) holding these badges; unknown badges are left out."""
        people: dict[str, Person] = {}
        for chunk in _chunks(list(set(badges))):
            people.update((r["badge"], _person(r)) for r in self.db.execute(
                f"SELECT * FROM people WHERE badge IN ({_marks(chunk)})", chunk))
        return people

    # -- organisers' records: settings, outcomes, merged badges, privacy --

    def setting(self, key: str) -> str | None:
        """A hub-wide setting kept in the database (e.g. the admin password hash)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (f"setting:{key}",)).fetchone()
        return row["value"] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key)"
                        " DO UPDATE SET value = excluded.value", (f"setting:{key}", value))

    def add_outcome(self, event_id: str, kind: str, title: str, story: str | None = None,
                    link: str | None = None) -> Outcome:
        if kind not in OUTCOME_KINDS:
            raise ValueError(f"an outcome is one of {', '.join(OUTCOME_KINDS)}")
        title = " ".join((title or "").split())
        if not title:
            raise ValueError("an outcome needs a title")
        with self.db.transaction():
            if not self.has_event(event_id):
                raise NotFound(f"no event {event_id}")
            outcome_id = self.db.execute(
                "INSERT INTO outcomes (event, kind, title, story, link, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (event_id, kind, title, _blank_none(story), _blank_none(link), utc_now())).fetchone()[0]
        return self.outcome(outcome_id)

    def outcome(self, outcome_id: int) -> Outcome:
        row = self.db.execute("SELECT * FROM outcomes WHERE id = ?", (outcome_id,)).fetchone()
        if row is None:
            raise NotFound(f"no outcome {outcome_id}")
        return Outcome(**dict(row))

    def outcomes(self, event_id: str | None = None) -> list[Outcome]:
        """Outcomes of one event, or of all events (newest event first)."""
        if event_id is not None:
            rows = self.db.execute("SELECT * FROM outcomes WHERE event = ? ORDER BY id", (event_id,))
        else:
            rows = self.db.execute("SELECT o.* FROM outcomes o JOIN events e ON e.id = o.event"
                                   " ORDER BY e.date DESC, o.id")
        return [Outcome(**dict(r)) for r in rows]

    def delete_outcome(self, outcome_id: int) -> None:
        self.db.execute("DELETE FROM outcomes WHERE id = ?", (outcome_id,))

    def merge_badges(self, keep: str, gone: str) -> Person:
        """Two badges of one person become one: ``gone``'s scans count for ``keep`` from now on.

        ``gone`` keeps its row (so its number is never reused) with no name, and is noted in
        ``merges``; scans it makes later still count for it, so the old badge should be retired.
        """
        if keep == gone:
            raise ValueError("choose two different badges")
        with self.db.transaction():
            kept, merged = self._person_or_raise(keep), self._person_or_raise(gone)
            if not kept.claimed:
                raise ValueError(f"badge {keep} is not claimed by anyone yet: keep the claimed badge")
            if self.merged_into(keep):
                raise ValueError(f"badge {keep} was itself merged into {self.merged_into(keep)}")
            self.db.execute("UPDATE scans SET badge = ? WHERE badge = ?", (keep, gone))
            self.db.execute("DELETE FROM standings WHERE badge = ?", (gone,))
            self.db.execute("DELETE FROM milestones WHERE badge = ?", (gone,))
            self.db.execute(
                "UPDATE people SET name = NULL, org = NULL, email = NULL, consent = 'hidden',"
                " claimed = 1, claimed_at = COALESCE(claimed_at, ?) WHERE badge = ?",
                (utc_now(), gone))
            self.db.execute("INSERT INTO merges (badge, into_badge, merged_at) VALUES (?, ?, ?)",
                            (gone, keep, utc_now()))
            if merged.junior and not kept.junior:
                self.db.execute("UPDATE people SET junior = 1 WHERE badge = ?", (keep,))
            self.refresh_person(keep, award=True)
        return self.person(keep)

    def merged_into(self, badge: str) -> str | None:
        row = self.db.execute("SELECT into_badge FROM merges WHERE badge = ?", (badge,)).fetchone()
        return row["into_badge"] if row else None

    def merged_from(self, badge: str) -> list[str]:
        """The badges that were merged into this one."""
        return [r[0] for r in self.db.execute(
            "SELECT badge FROM merges WHERE into_badge = ? ORDER BY merged_at", (badge,))]

    def erase_person(self, badge: str) -> int:
        """Remove a person's name and contact; keep their scans only as anonymous counts.

        Each event's scans move to a fresh random id, different at every event, so the event
        totals stay right but nothing links them to each other or to the badge. Badges merged
        into this one are the same person and go the same way, and their open-data pseudonyms
        are forgotten: records already published keep an id that nothing here leads to, and a
        badge scanned again gets a new one. Returns how many scans were anonymised.
        """
        with self.db.transaction():
            self._person_or_raise(badge)
            badges = [badge]
            for known in badges:  # and badges merged into those, however deep
                badges += [b for b in self.merged_from(known) if b not in badges]
            marks = _marks(badges)
            events = [r[0] for r in self.db.execute(
                f"SELECT DISTINCT event FROM scans WHERE badge IN ({marks})", badges)]
            moved = 0
            for event_id in events:
                anonymous = ERASED_PREFIX + secrets.token_hex(8)
                moved += self.db.execute(
                    f"UPDATE scans SET badge = ? WHERE badge IN ({marks}) AND event = ?",
                    (anonymous, *badges, event_id)).rowcount
            for table in ("standings", "milestones"):
                self.db.execute(f"DELETE FROM {table} WHERE badge IN ({marks})", badges)
            self.db.execute(f"DELETE FROM pseudonyms WHERE badge IN ({marks})", badges)
            self.db.execute(
                "UPDATE people SET name = NULL, org = NULL, email = NULL, junior = 0,"
                " consent = 'hidden', claimed = 1, claimed_at = COALESCE(claimed_at, ?)"
                " WHERE badge = ?", (utc_now(), badge))
            for each in badges:
                self.db.execute("UPDATE quarantine SET payload = REPLACE(payload, ?, '\"erased\"')"
                                " WHERE payload LIKE ?", (f'"{each}"', f'%"{each}"%'))
            self.db.execute("INSERT INTO erasures (badge, erased_at) VALUES (?, ?)"
                            " ON CONFLICT DO NOTHING", (badge, utc_now()))
            self.db.execute("UPDATE privacy_requests SET resolved_at = ?, resolution = 'erased'"
                            " WHERE badge = ? AND resolved_at IS NULL", (utc_now(), badge))
        return moved

    def erased_at(self, badge: str) -> str | None:
        row = self.db.execute("SELECT erased_at FROM erasures WHERE badge = ?", (badge,)).fetchone()
        return row["erased_at"] if row else None

    def request_privacy(self, badge: str, kind: str = "erase", note: str | None = None) -> int:
        """Record a person's request; one open request of a kind per badge."""
        with self.db.transaction():
            row = self.db.execute("SELECT id FROM privacy_requests WHERE badge = ? AND kind = ?"
                                  " AND resolved_at IS NULL", (badge, kind)).fetchone()
            if row:
                return row["id"]
            return self.db.execute(
                "INSERT INTO privacy_requests (badge, kind, note, requested_at) VALUES (?, ?, ?, ?)"
                " RETURNING id", (badge, kind, _blank_none(note), utc_now())).fetchone()[0]

    def privacy_requests(self, badge: str | None = None,
                         include_resolved: bool = False) -> list[PrivacyRequest]:
        where, params = [], []
        if badge is not None:
            where.append("badge = ?")
            params.append(badge)
        if not include_resolved:
            where.append("resolved_at IS NULL")
        sql = "SELECT * FROM privacy_requests" + (" WHERE " + " AND ".join(where) if where else "")
        return [PrivacyRequest(**dict(r)) for r in self.db.execute(sql + " ORDER BY id", params)]

    def resolve_privacy_request(self, request_id: int, resolution: str) -> None:
        self.db.execute("UPDATE privacy_requests SET resolved_at = ?, resolution = ? WHERE id = ?",
                        (utc_now(), resolution, request_id))

    def find_people(self, text: str = "", limit: int = 50, offset: int = 0) -> list[Person]:
        """Badges whose code, name, organisation or email contains ``text`` (any case), newest first."""
        sql, params = "SELECT * FROM people", []
        if text:
            like = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sql += (" WHERE LOWER(badge) LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\'"
                    " OR LOWER(org) LIKE ? ESCAPE '\\' OR LOWER(email) LIKE ? ESCAPE '\\'")
            params = [like] * 4
        return [_person(r) for r in self.db.execute(sql + " ORDER BY number DESC LIMIT ? OFFSET ?",
                                                    (*params, limit, offset))]

    def standings_by_badge(self) -> dict[str, Standing]:
        """Every kept standing (points, attended, volunteered), for exports."""
        return {r["badge"]: self._standing_row(r) for r in self.db.execute("SELECT * FROM standings")}

    def quarantined_for(self, badge: str) -> list[Quarantined]:
        """Refused messages that name this badge, for a person's copy of their data."""
        return [_quarantined(r) for r in self.db.execute(
            "SELECT * FROM quarantine WHERE payload LIKE ? ORDER BY id", (f'%"{badge}"%',))]


# Bound parameters per IN (...) list: well inside SQLite's and PostgreSQL's limits.
_IN_CHUNK = 500


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start:start + _IN_CHUNK]


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


# --- Rows to values. ------------------------------------------------------------------------

def _person(row: sqlite3.Row) -> Person:
    return Person(badge=row["badge"], number=row["number"], name=row["name"], org=row["org"],
                  email=row["email"], junior=bool(row["junior"]), consent=row["consent"],
                  claimed=bool(row["claimed"]), created_at=row["created_at"],
                  claimed_at=row["claimed_at"])


def _event(row: sqlite3.Row) -> Event:
    return Event(id=row["id"], name=row["name"], date=row["date"], series=row["series"],
                 venue=row["venue"], after_venue=row["after_venue"], hashtag=row["hashtag"],
                 notes_url=row["notes_url"], cost_pence=row["cost_pence"],
                 openness=tuple(json.loads(row["openness"] or "[]")), created_at=row["created_at"])


def _kiosk(row: sqlite3.Row) -> Kiosk:
    return Kiosk(id=row["id"], event=row["event"], state=row["state"], version=row["version"],
                 queued=row["queued"], last_seen=row["last_seen"], created_at=row["created_at"],
                 reported_event=row["reported_event"])


def _quarantined(row: sqlite3.Row) -> Quarantined:
    return Quarantined(id=row["id"], scan_id=row["scan_id"], kiosk=row["kiosk"], topic=row["topic"],
                       payload=row["payload"], reason=row["reason"], received_at=row["received_at"],
                       resolved_at=row["resolved_at"], resolution=row["resolution"])


def _event_filter(series: str | None, season: str | None,
                  table: str = "") -> tuple[list[str], list[Any]]:
    where, params = [], []
    if series is not None:
        where.append(f"{table}series = ?")
        params.append(series)
    if season is not None:
        where.append(f"{table}date >= ? AND {table}date <= ?")
        params += [f"{season}-01-01", f"{season}-12-31"]
    return where, params


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValueError("a person needs a name (a nickname is fine)")
    if len(name) > 100:
        raise ValueError("names are limited to 100 characters")
    return name


def _check_consent(consent: str) -> None:
    if consent not in CONSENTS:
        raise ValueError(f"consent must be one of {', '.join(CONSENTS)}")


def _blank_none(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else value
