"""Read-side figures for the web pages and open data: totals, leaderboards, impact, exports.

Everything here reads through the Store's connection abstraction (``store.db``) with plain SQL.
Aggregates over every scan (per-event counts, first visits, season leaderboards) are taken
together as a ``Snapshot`` and reused until the data changes, at most once every
``min_interval`` seconds; a newer snapshot is built in a background thread while pages keep
serving the last one. Results and personal pages read live from the store instead.

The module also keeps a partial index of its own, of the scans that count, and fills the
store's table of pseudonyms (a stable random id per badge) for the open participation records.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date as Date
from typing import Any

from hub.openness import stars
from hub.people import HIDDEN, public_name
from hub.storage.database import Dialect
from hub.store import Event, RollEntry, Store

log = logging.getLogger("turnout.hub.reports")

COUNTED = "annuls IS NULL AND annulled = 0"


def events_key(dialect: Dialect) -> str:
    """Every event field in one string: cheap for hundreds of events, and it changes with any edit."""
    fields = ("id || '|' || date || '|' || name || '|' || COALESCE(series, '') || '|'"
              " || COALESCE(venue, '') || '|' || COALESCE(after_venue, '') || '|'"
              " || COALESCE(hashtag, '') || '|' || COALESCE(notes_url, '') || '|'"
              " || COALESCE(CAST(cost_pence AS TEXT), '') || '|' || openness")
    return f"SELECT COUNT(*), {dialect.group_concat(fields, '/')} FROM events"

REPORTS_SCHEMA = """
CREATE INDEX IF NOT EXISTS scans_counted ON scans (event, badge, role)
    WHERE annuls IS NULL AND annulled = 0;
CREATE INDEX IF NOT EXISTS standings_by_updated ON standings (updated_at);
"""


@dataclass(frozen=True)
class Row:
    """One line of a leaderboard: a standing, with the name shown only by consent."""

    badge: str
    name: str | None
    points: int
    attended: int
    volunteered: int
    position: int = 0


@dataclass(frozen=True)
class OrgRow:
    org: str
    people: int
    attended: int
    volunteered: int
    points: int


@dataclass
class Snapshot:
    """Aggregates over every counted scan, as of one moment."""

    fingerprint: tuple
    taken_at: float
    present: dict[str, int]  # event -> people present
    volunteers: dict[str, int]  # event -> people who did a role other than attend
    roles: dict[str, dict[str, int]]  # event -> role -> people
    first_seen: dict[str, tuple[str, str]]  # badge -> (date, event) of their first event
    visits: Counter  # badge -> events present
    people: dict[str, tuple[str | None, str | None]]  # badge -> (public name or None, org)
    build_seconds: float = 0.0
    cache: dict[Any, Any] = field(default_factory=dict)  # scoped leaderboards, charts
    lock: threading.RLock = field(default_factory=threading.RLock)

    def memo(self, key: Any, make) -> Any:
        """Compute something from this snapshot once (pages share it until the next one)."""
        try:
            return self.cache[key]
        except KeyError:
            pass
        with self.lock:
            if key not in self.cache:
                self.cache[key] = make()
            return self.cache[key]


class Reports:
    def __init__(self, store: Store, min_interval: float = 10.0, background: bool = True):
        self.store = store
        self.db = store.db
        self._events_key = events_key(self.db.dialect)
        self.min_interval = min_interval
        self.background = background
        self._snapshot: Snapshot | None = None
        self._events: tuple[tuple, list[Event], dict[str, Event]] | None = None
        self._refreshing = threading.Lock()  # held while a snapshot is being built
        self._wanted: tuple | None = None  # the fingerprint the rebuild thread should build
        self._wake = threading.Event()
        self._rebuilder: threading.Thread | None = None
        self.db.script(REPORTS_SCHEMA)

    # -- the snapshot --

    def fingerprint(self) -> tuple:
        """Cheap facts that change whenever anything the aggregates use changes."""
        q = self.db.execute
        newest = self.db.dialect.newest_row
        return (q(f"SELECT {newest} FROM scans").fetchone()[0],
                tuple(q("SELECT COUNT(*), MAX(updated_at) FROM standings").fetchone()),
                tuple(q(f"SELECT COUNT(*), {newest} FROM people").fetchone()),
                tuple(q(self._events_key).fetchone()))

    def snapshot(self) -> Snapshot:
        current = self._snapshot
        if current is not None and time.monotonic() - current.taken_at < self._interval(current):
            return current
        fingerprint = self.fingerprint()
        if current is not None and current.fingerprint == fingerprint:
            current.taken_at = time.monotonic()
            return current
        if current is not None and self.background:
            if self._refreshing.acquire(blocking=False):
                self._rebuild_in_background(fingerprint)
            return current
        with self._refreshing:  # waits for a build already under way (the warm-up) and uses it
            if self._snapshot is None or self._snapshot.fingerprint != fingerprint:
                self._snapshot = self._take(fingerprint)
        return self._snapshot

    def _interval(self, snap: Snapshot) -> float:
        """Background rebuilds take at most a tenth of the time (a big hub rebuilds less often)."""
        return max(self.min_interval, 10 * snap.build_seconds) if self.background else self.min_interval

    def warm(self) -> None:
        """Build the first snapshot in the background, so the first visitor need not wait."""
        if self._snapshot is None and self._refreshing.acquire(blocking=False):
            self._rebuild_in_background(self.fingerprint())

    def _rebuild_in_background(self, fingerprint: tuple) -> None:
        """Hand a rebuild (the caller holds ``_refreshing``) to the one rebuild thread. One
        long-lived thread, not a thread per rebuild: each new thread opened a database connection
        of its own, and a busy hub rebuilds every few seconds."""
        self._wanted = fingerprint
        if self._rebuilder is None or not self._rebuilder.is_alive():
            self._rebuilder = threading.Thread(target=_rebuild_loop, args=(weakref.ref(self), self._wake),
                                               daemon=True, name="reports-rebuild")
            self._rebuilder.start()
        self._wake.set()

    def _rebuild_wanted(self) -> None:
        fingerprint, self._wanted = self._wanted, None
        if fingerprint is None:
            return
        try:
            self._snapshot = self._take(fingerprint)
        except Exception:
            log.exception("could not refresh the statistics; pages keep the last figures")
        finally:
            self._refreshing.release()

    def _take(self, fingerprint: tuple) -> Snapshot:
        started = time.perf_counter()
        q = self.db.execute
        known = {r[0] for r in q("SELECT id FROM events")}
        attend = self.store.rules().attend_role
        present, volunteers = {}, {}
        roles: dict[str, dict[str, int]] = defaultdict(dict)
        for event, role, people in q(
                f"SELECT event, role, COUNT(DISTINCT badge) FROM scans WHERE {COUNTED}"
                " GROUP BY event, role"):
            if event in known:
                roles[event][role] = people
        for event, people, helping in q(
                f"SELECT event, COUNT(*), SUM(helped) FROM (SELECT event, badge,"
                f" MAX(CASE WHEN role <> ? THEN 1 ELSE 0 END) AS helped FROM scans WHERE {COUNTED}"
                " GROUP BY event, badge) AS per_badge GROUP BY event", (attend,)):
            if event in known:
                present[event], volunteers[event] = people, helping or 0
        first_seen, visits = {}, Counter()
        for badge, first, count in q(
                f"SELECT c.badge, MIN(e.date || ' ' || e.id), COUNT(*) FROM"
                f" (SELECT DISTINCT event, badge FROM scans WHERE {COUNTED}) c"
                " JOIN events e ON e.id = c.event GROUP BY c.badge"):
            day, _, event = first.partition(" ")
            first_seen[badge] = (day, event)
            visits[badge] = count
        people = {badge: (public_name(name, consent) if claimed and consent != HIDDEN else None, org)
                  for badge, name, consent, claimed, org in q(
                      "SELECT badge, name, consent, claimed, org FROM people"
                      " WHERE claimed = 1 AND (org IS NOT NULL OR consent <> ?)", (HIDDEN,))}
        took = time.perf_counter() - started
        log.info("statistics rebuilt in %.0f ms", took * 1000)
        return Snapshot(fingerprint, time.monotonic(), present, volunteers, dict(roles),
                        first_seen, visits, people, build_seconds=took)

    # -- headline numbers --

    def events(self) -> list[Event]:
        """Every event in date order, live (re-read only when any event changed)."""
        return self._events_now()[1]

    def events_by_id(self) -> dict[str, Event]:
        return self._events_now()[2]

    def _events_now(self) -> tuple[tuple, list[Event], dict[str, Event]]:
        key = tuple(self.db.execute(self._events_key).fetchone())
        cached = self._events
        if cached is None or cached[0] != key:
            events = self.store.events()
            cached = self._events = (key, events, {e.id: e for e in events})
        return cached

    def totals(self) -> dict[str, Any]:
        snap = self.snapshot()
        return snap.memo("totals", lambda: self._totals(snap))

    def _totals(self, snap: Snapshot) -> dict[str, Any]:
        held = [e for e in self.events() if snap.present.get(e.id)]
        unique = len(snap.first_seen)
        returning = sum(1 for n in snap.visits.values() if n >= 2)
        return {
            "events_held": len(held),
            "attendances": sum(snap.present.values()),
            "unique_people": unique,
            "returning": returning,
            "returning_rate": returning / unique if unique else 0.0,
            "volunteer_occasions": sum(snap.volunteers.values()),
            "organisations": len(self.organisations()),
        }

    def event_counts(self, event_id: str) -> tuple[int, int, int]:
        """(present, volunteers, first-timers) at one event, from the snapshot."""
        snap = self.snapshot()
        firsts = snap.memo("firsts_by_event", lambda: Counter(e for _, e in snap.first_seen.values()))
        return snap.present.get(event_id, 0), snap.volunteers.get(event_id, 0), firsts.get(event_id, 0)

    def event_roll(self, event_id: str) -> list[RollEntry]:
        """Everyone present at an event with their roles, live, in one query.

        First-timers come from the snapshot's first visits; a badge the snapshot has not seen
        yet (scanned since it was taken) is new by definition.
        """
        snap = self.snapshot()
        roll = []
        for badge, roles, name, consent, claimed in self.db.execute(
                f"SELECT s.badge, {self.db.dialect.group_concat('s.role', ',', distinct=True)},"
                " p.name, p.consent, p.claimed"
                " FROM scans s LEFT JOIN people p ON p.badge = s.badge"
                f" WHERE s.event = ? AND s.{COUNTED.replace(' AND ', ' AND s.')}"
                " GROUP BY s.badge, p.name, p.consent, p.claimed", (event_id,)):
            first = snap.first_seen.get(badge)
            roll.append(RollEntry(badge, public_name(name, consent) if claimed else None,
                                  tuple(sorted(roles.split(","))), first is None or first[1] == event_id))
        return roll

    # -- leaderboards --

    def leaderboard(self, season: str | None = None, series: str | None = None,
                    limit: int = 50, by: str = "points") -> list[Row]:
        """People who agreed to be shown, by points (or by volunteer occasions with by='helped').

        Positions count only the people shown: nobody appears, even as a number, without consent.
        """
        snap = self.snapshot()
        rows = snap.memo(("board", season, series, by), lambda: self._board(snap, season, series, by))
        return rows[:limit]

    def _board(self, snap: Snapshot, season: str | None, series: str | None, by: str) -> list[Row]:
        standings = self.scoped_standings(season, series)
        shown = [(b, p, a, v) for b, p, a, v in standings if snap.people.get(b, (None, None))[0]]
        if by == "helped":
            shown = [s for s in shown if s[3] > 0]
            shown.sort(key=lambda s: (-s[3], -s[2], s[0]))
            key = lambda s: s[3]  # noqa: E731
        else:
            shown.sort(key=lambda s: (-s[1], -s[2], s[0]))
            key = lambda s: (s[1], s[2])  # noqa: E731
        rows, position, last = [], 0, None
        for n, s in enumerate(shown, start=1):
            if key(s) != last:
                position, last = n, key(s)
            rows.append(Row(s[0], snap.people[s[0]][0], s[1], s[2], s[3], position))
        return rows

    def scoped_standings(self, season: str | None = None,
                         series: str | None = None) -> list[tuple[str, int, int, int]]:
        """(badge, points, attended, volunteered) for everyone, counting one season or series."""
        snap = self.snapshot()
        return snap.memo(("standings", season, series), lambda: self._standings(season, series))

    def _standings(self, season: str | None, series: str | None,
                   kept: bool = True) -> list[tuple[str, int, int, int]]:
        """From the kept standings table for all time (``kept``), else scored here in SQL."""
        if season is None and series is None and kept:
            return [tuple(r) for r in self.db.execute(
                "SELECT badge, points, attended, volunteered FROM standings WHERE attended > 0")]
        rules = self.store.rules()
        where, params = ["s.annuls IS NULL", "s.annulled = 0"], []
        if season is not None:
            where.append("e.date >= ? AND e.date <= ?")
            params += [f"{season}-01-01", f"{season}-12-31"]
        if series is not None:
            where.append("e.series = ?")
            params.append(series)
        attend = rules.attend_role
        sql = (
            "SELECT c.badge, COUNT(DISTINCT c.event) * ? + COALESCE(SUM(CASE WHEN c.role <> ? THEN"
            " COALESCE(r.points, 0) ELSE 0 END), 0), COUNT(DISTINCT c.event),"
            " COUNT(DISTINCT CASE WHEN c.role <> ? THEN c.event END)"
            " FROM (SELECT DISTINCT s.event, s.badge, s.role FROM scans s"
            " JOIN events e ON e.id = s.event WHERE " + " AND ".join(where) + ") c"
            " LEFT JOIN roles r ON r.name = c.role GROUP BY c.badge")
        return [(b, int(p), a, v) for b, p, a, v in self.db.execute(
            sql, (rules.points(attend), attend, attend, *params))]

    def organisations(self, season: str | None = None, series: str | None = None) -> list[OrgRow]:
        """Which organisations turn up and help most, over everyone (names are not needed)."""
        snap = self.snapshot()

        def make() -> list[OrgRow]:
            totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
            for badge, points, attended, volunteered in self.scoped_standings(season, series):
                org = snap.people.get(badge, (None, None))[1]
                if org and attended:
                    t = totals[org]
                    t[0] += 1
                    t[1] += attended
                    t[2] += volunteered
                    t[3] += points
            rows = [OrgRow(org, *t) for org, t in totals.items()]
            return sorted(rows, key=lambda r: (-r.attended, -r.volunteered, r.org))
        return snap.memo(("orgs", season, series), make)

    def first_timers(self, month: str) -> tuple[list[tuple[str, str, str]], int]:
        """People whose first event was in ``month`` (YYYY-MM): (badge, name, event) of those
        shown by consent, and how many others there were."""
        snap = self.snapshot()
        return snap.memo(("first_timers", month), lambda: self._first_timers(snap, month))

    @staticmethod
    def _first_timers(snap: Snapshot, month: str) -> tuple[list[tuple[str, str, str]], int]:
        shown, others = [], 0
        for badge, (day, event) in snap.first_seen.items():
            if day.startswith(month):
                name = snap.people.get(badge, (None, None))[0]
                if name:
                    shown.append((badge, name, event))
                else:
                    others += 1
        shown.sort(key=lambda r: (r[1].lower(), r[0]))
        return shown, others

    # -- impact --

    def by_month(self) -> list[dict[str, Any]]:
        """Per calendar month with events: events, attendances, new people, volunteer occasions."""
        snap = self.snapshot()

        def make() -> list[dict[str, Any]]:
            months: dict[str, dict[str, Any]] = {}
            new = Counter(day[:7] for day, _ in snap.first_seen.values())
            for e in self.events():
                if e.id not in snap.present:
                    continue
                m = months.setdefault(e.date[:7], {"month": e.date[:7], "events": 0,
                                                   "attendances": 0, "volunteers": 0, "stars": 0})
                m["events"] += 1
                m["attendances"] += snap.present[e.id]
                m["volunteers"] += snap.volunteers.get(e.id, 0)
                m["stars"] += stars(e.openness)
            out, cumulative = [], 0
            for key in sorted(months):
                m = months[key]
                m["new_people"] = new.get(key, 0)
                cumulative += m["new_people"]
                m["people_so_far"] = cumulative
                m["average_stars"] = m["stars"] / m["events"]
                out.append(m)
            return out
        return snap.memo("by_month", make)

    def by_season(self) -> list[dict[str, Any]]:
        snap = self.snapshot()

        def make() -> list[dict[str, Any]]:
            seasons: dict[str, dict[str, Any]] = {}
            for e in self.events():
                if e.id not in snap.present:
                    continue
                s = seasons.setdefault(e.season, {"season": e.season, "events": 0, "attendances": 0,
                                                  "volunteers": 0, "stars": 0, "cost_pence": 0,
                                                  "costed_attendances": 0})
                s["events"] += 1
                s["attendances"] += snap.present[e.id]
                s["volunteers"] += snap.volunteers.get(e.id, 0)
                s["stars"] += stars(e.openness)
                if e.cost_pence is not None:
                    s["cost_pence"] += e.cost_pence
                    s["costed_attendances"] += snap.present[e.id]
            new = Counter(day[:4] for day, _ in snap.first_seen.values())
            out = []
            for key in sorted(seasons):
                s = seasons[key]
                s["new_people"] = new.get(key, 0)
                s["average_stars"] = s["stars"] / s["events"]
                s["cost_per_attendance"] = (s["cost_pence"] / s["costed_attendances"]
                                            if s["costed_attendances"] else None)
                out.append(s)
            return out
        return snap.memo("by_season", make)

    def role_occasions(self) -> dict[str, int]:
        """Volunteer occasions by role (people doing that role, summed over events)."""
        snap = self.snapshot()

        def make() -> dict[str, int]:
            attend = self.store.rules().attend_role
            total: Counter = Counter()
            for counts in snap.roles.values():
                for role, people in counts.items():
                    if role != attend:
                        total[role] += people
            return dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))
        return snap.memo("role_occasions", make)

    def volunteer_hours(self, hours_per_role: dict[str, float]) -> list[tuple[str, int, float, float]]:
        """(role, occasions, hours each, hours) with the configured hours per role."""
        rows = []
        for role, occasions in self.role_occasions().items():
            each = float(hours_per_role.get(role, 0))
            rows.append((role, occasions, each, occasions * each))
        return rows

    def costs(self) -> list[tuple[Event, int, int]]:
        """(event, cost in pence, attendances) for events whose organisers entered a cost."""
        snap = self.snapshot()
        return [(e, e.cost_pence, snap.present.get(e.id, 0)) for e in self.events()
                if e.cost_pence is not None and snap.present.get(e.id)]

    # -- open data --

    def event_rows(self) -> list[dict[str, Any]]:
        snap = self.snapshot()
        rows = []
        for e in self.events():
            present, helping, firsts = self.event_counts(e.id)
            rows.append({"id": e.id, "name": e.name, "date": e.date, "series": e.series,
                         "venue": e.venue, "after_venue": e.after_venue, "hashtag": e.hashtag,
                         "notes_url": e.notes_url, "people_present": present if e.id in snap.present else 0,
                         "first_timers": firsts, "volunteers": helping,
                         "openness_stars": stars(e.openness), "openness_ticks": " ".join(e.openness),
                         "cost_gbp": None if e.cost_pence is None else round(e.cost_pence / 100, 2)})
        return rows

    def event_role_rows(self) -> list[dict[str, Any]]:
        snap = self.snapshot()
        rows = []
        for e in self.events():
            for role, people in sorted(snap.roles.get(e.id, {}).items()):
                rows.append({"event_id": e.id, "date": e.date, "role": role, "people": people})
        return rows

    def ensure_pseudonyms(self) -> None:
        """Give every badge with a counted scan a random id of its own, once and for good."""
        missing = [r[0] for r in self.db.execute(
            f"SELECT DISTINCT s.badge FROM scans s WHERE s.{COUNTED.replace(' AND ', ' AND s.')}"
            " AND NOT EXISTS (SELECT 1 FROM pseudonyms p WHERE p.badge = s.badge)")]
        if not missing:
            return
        with self.store.transaction():
            self.db.executemany("INSERT INTO pseudonyms (badge, pid) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                [(badge, "p-" + secrets.token_hex(8)) for badge in missing])

    def participation_rows(self) -> Iterator[dict[str, Any]]:
        """One row per person, event and role that counted; a pseudonym instead of the badge.

        A name appears only for people who chose to be shown by their full name.
        """
        self.ensure_pseudonyms()
        cursor = self.db.execute(
            "SELECT p.pid, s.event, e.date, s.role, pe.name, pe.consent, pe.claimed FROM"
            f" (SELECT DISTINCT event, badge, role FROM scans WHERE {COUNTED}) s"
            " JOIN events e ON e.id = s.event JOIN pseudonyms p ON p.badge = s.badge"
            " LEFT JOIN people pe ON pe.badge = s.badge ORDER BY e.date, s.event, p.pid, s.role")
        for pid, event, day, role, name, consent, claimed in cursor:
            yield {"person_id": pid, "event_id": event, "date": day, "role": role,
                   "name": name if claimed and consent == "full" else None}

    # -- one person --

    def history_by_month(self, event_ids: tuple[str, ...], year: int) -> list[tuple[str, int, int]]:
        """(month name, events this year, events the year before) for a person's events."""
        events = self.events_by_id()
        this, last = Counter(), Counter()
        for event in event_ids:
            day = events[event].date if event in events else None
            if day and day.startswith(str(year)):
                this[int(day[5:7])] += 1
            elif day and day.startswith(str(year - 1)):
                last[int(day[5:7])] += 1
        return [(f"{Date(year, m, 1):%B}", this[m], last[m]) for m in range(1, 13)]


def _rebuild_loop(reports_ref: "weakref.ref[Reports]", wake: threading.Event) -> None:
    """The rebuild thread: build each snapshot asked for; end once its Reports is gone."""
    while True:
        woken = wake.wait(timeout=30)
        reports = reports_ref()
        if reports is None:
            return
        if woken:
            wake.clear()
            reports._rebuild_wanted()
        del reports  # hold no reference while waiting, so the Reports can be collected
