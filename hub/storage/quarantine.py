"""Messages the hub refused, with the reason, for organisers to read and put right."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from hub.storage.base import NotFound, StoreBase, utc_now

# Quarantined payloads are kept for reading and reassigning, not as an archive of floods.
MAX_QUARANTINE_PAYLOAD = 16 * 1024


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


def _quarantined(row: sqlite3.Row) -> Quarantined:
    return Quarantined(id=row["id"], scan_id=row["scan_id"], kiosk=row["kiosk"], topic=row["topic"],
                       payload=row["payload"], reason=row["reason"], received_at=row["received_at"],
                       resolved_at=row["resolved_at"], resolution=row["resolution"])


class QuarantineStore(StoreBase):
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

    def quarantined_for(self, badge: str) -> list[Quarantined]:
        """Refused messages that name this badge, for a person's copy of their data."""
        return [_quarantined(r) for r in self.db.execute(
            "SELECT * FROM quarantine WHERE payload LIKE ? ORDER BY id", (f'%"{badge}"%',))]
