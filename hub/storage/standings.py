"""Derived from the scans: each badge's standing (points, events) and the clubs awarded.

Everything here can be rebuilt from the scans with ``recompute()``."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from operator import itemgetter

from hub.scoring import (
    ClubChanges,
    CountedScan,
    Reached,
    Standing,
    club_changes,
    ranked,
    score_people,
    score_person,
)
from hub.storage.base import SCORING, StoreBase, utc_now
from hub.storage.database import Row, chunks
from hub.storage.events import event_filter
from hub.storage.people import Person


class StandingsStore(StoreBase):
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
        for chunk in chunks(list(awarded)):
            test, params = self.db.dialect.one_of("badge", chunk)
            for badge, name, kind, target, reached_on, event in self.db.execute(
                    f"SELECT badge, name, kind, target, reached_on, event FROM milestones WHERE {test}",
                    params):
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
        with self.db.transaction():
            self.lock_badges([badge])
            standing = self.standing(badge)
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
            self.db.lock([SCORING])  # batches being scored finish first; new ones wait
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
        where, params = event_filter(series, season, table="e.")
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
    def _standing_row(row: Row) -> Standing:
        return Standing(badge=row["badge"], points=row["points"], attended=row["attended"],
                        volunteered=row["volunteered"])

    def standings_by_badge(self) -> dict[str, Standing]:
        """Every kept standing (points, attended, volunteered), for exports."""
        return {r["badge"]: self._standing_row(r) for r in self.db.execute("SELECT * FROM standings")}
