"""Scans as kiosks sent them, kept forever; the batch reads intake needs to answer and score them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from hub.scoring import CountedScan
from hub.storage.base import StoreBase
from hub.storage.database import chunks
from turnout.protocol import Scan


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


class ScansStore(StoreBase):
    def stored_scans(self, scan_ids: Iterable[str]) -> dict[str, StoredScan]:
        """Those of these scan ids already stored (under whatever badge), as stored."""
        found: dict[str, StoredScan] = {}
        for chunk in chunks(list(set(scan_ids))):
            test, params = self.db.dialect.one_of("id", chunk)
            for row in self.db.execute(
                    f"SELECT id, badge, event, role, annuls, annulled, status, milestone FROM scans WHERE {test}",
                    params):
                found[row[0]] = StoredScan(row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7])
        return found

    def undone_scans(self, scan_ids: Iterable[str]) -> set[tuple[str, str]]:
        """(scan id, badge) for each of these ids that an undo already stored names."""
        undone: set[tuple[str, str]] = set()
        for chunk in chunks(list(set(scan_ids))):
            test, params = self.db.dialect.one_of("annuls", chunk)
            undone.update((annuls, badge) for annuls, badge in self.db.execute(
                f"SELECT annuls, badge FROM scans WHERE {test}", params))
        return undone

    def badge_tallies(self, badges: Iterable[str]) -> dict[str, Tally]:
        """For each badge, how many scans that still count it has per (event, role), and those
        events' dates: all scoring needs, in one query for a whole batch of badges."""
        tallies = {badge: Tally() for badge in badges}
        for chunk in chunks(list(tallies)):
            test, params = self.db.dialect.one_of("s.badge", chunk)
            for badge, event, role, count, date in self.db.execute(
                    "SELECT s.badge, s.event, s.role, COUNT(*), e.date FROM scans s"
                    " JOIN events e ON e.id = s.event"
                    f" WHERE {test} AND s.annuls IS NULL AND s.annulled = 0"
                    " GROUP BY s.badge, s.event, s.role, e.date", params):
                tallies[badge].counts[(event, role)] = count
                tallies[badge].dates[event] = date
        return tallies

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
