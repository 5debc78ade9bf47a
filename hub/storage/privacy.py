"""People's requests about their data, and erasure."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hub.storage.base import StoreBase, blank_none, utc_now
from hub.storage.database import marks

# An erased person's scans are kept under a badge like this, one per event, linked to nothing.
ERASED_PREFIX = "anon-"


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


class PrivacyStore(StoreBase):
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
            self.lock_badges(badges)
            in_list = marks(badges)
            events = [r[0] for r in self.db.execute(
                f"SELECT DISTINCT event FROM scans WHERE badge IN ({in_list})", badges)]
            moved = 0
            for event_id in events:
                anonymous = ERASED_PREFIX + secrets.token_hex(8)
                moved += self.db.execute(
                    f"UPDATE scans SET badge = ? WHERE badge IN ({in_list}) AND event = ?",
                    (anonymous, *badges, event_id)).rowcount
            for table in ("standings", "milestones"):
                self.db.execute(f"DELETE FROM {table} WHERE badge IN ({in_list})", badges)
            self.db.execute(f"DELETE FROM pseudonyms WHERE badge IN ({in_list})", badges)
            self.db.execute(
                "UPDATE people SET name = NULL, org = NULL, email = NULL, junior = 0, results_email = 0,"
                " consent = 'hidden', claimed = 1, claimed_at = COALESCE(claimed_at, ?),"
                " claim_code = NULL WHERE badge = ?", (utc_now(), badge))
            # Their credentials are revoked and forgotten; no email still queued goes out.
            self.revoke_credentials(badges, "erased at the person's request", forget=True)
            self.drop_emails(badges, "erased")
            for each in badges:
                self.db.execute("UPDATE quarantine SET payload = REPLACE(payload, ?, '\"erased\"')"
                                " WHERE payload LIKE ?", (f'"{each}"', f'%"{each}"%'))
            self.db.execute("INSERT INTO erasures (badge, erased_at) VALUES (?, ?)"
                            " ON CONFLICT DO NOTHING", (badge, utc_now()))
            self.db.execute("UPDATE privacy_requests SET resolved_at = ?, resolution = 'erased'"
                            " WHERE badge = ? AND resolved_at IS NULL", (utc_now(), badge))
        return moved

    def forget_pseudonym(self, badge: str) -> None:
        """The next open-data download gives this badge a new random id, for all its rows.

        Called when someone withdraws consent: records published earlier keep the old id, and
        nothing here links it to the new one, so a later download cannot be joined to an
        earlier one (where the person was named) by ``person_id``.
        """
        self.db.execute("DELETE FROM pseudonyms WHERE badge = ?", (badge,))

    def erased_at(self, badge: str) -> str | None:
        row = self.db.execute("SELECT erased_at FROM erasures WHERE badge = ?", (badge,)).fetchone()
        return row["erased_at"] if row else None

    def request_privacy(self, badge: str, kind: str = "erase", note: str | None = None) -> int:
        """Record a person's request; one open request of a kind per badge."""
        with self.db.transaction():
            self.db.lock([f"privacy:{badge}"])
            row = self.db.execute("SELECT id FROM privacy_requests WHERE badge = ? AND kind = ?"
                                  " AND resolved_at IS NULL", (badge, kind)).fetchone()
            if row:
                return row["id"]
            return self.db.execute(
                "INSERT INTO privacy_requests (badge, kind, note, requested_at) VALUES (?, ?, ?, ?)"
                " RETURNING id", (badge, kind, blank_none(note), utc_now())).fetchone()[0]

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
