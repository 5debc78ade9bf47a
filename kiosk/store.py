"""The kiosk's durable store: every scan in SQLite before the OK tone, kept until acked.

WAL with ``synchronous=FULL``: a committed scan survives a power cut. Rows are never deleted
(acked scans stay as the kiosk's own record), so ``seq`` keeps counting across restarts.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from turnout.protocol import KioskConfig, Scan


def _import_sqlite_utils():
    """sqlite-utils imports numpy and pandas whenever they are installed, only to store their
    number types, which the kiosk never has. numpy alone is 12 MB of a Pi Zero's 512 (measured:
    the daemon's peak RSS 55 -> 43 MB), and Raspberry Pi OS brings it with picamera2. So unless
    something has loaded them already, sqlite-utils is imported as if they were absent; anything
    importing them later (camera decoding) gets them as usual."""
    hidden = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # makes `import name` raise ImportError
    try:
        import sqlite_utils
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return sqlite_utils


sqlite_utils = _import_sqlite_utils()

SCAN_COLUMNS = {
    "id": str, "seq": int, "kiosk": str, "event": str, "badge": str, "role": str, "ts": str,
    "clock_ok": int, "annuls": str, "stored_at": str, "acked_at": str, "ack_status": str,
    "ack_reason": str,
}

_INSERT_SCAN = ("insert into scans (id, seq, kiosk, event, badge, role, ts, clock_ok, annuls, stored_at)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


class ScanStore:
    def __init__(self, path: Path | str):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        if "scans" not in self.db.table_names():
            self.db["scans"].create(SCAN_COLUMNS, pk="id", not_null={"seq", "badge", "role"})
            self.db["scans"].create_index(["seq"], unique=True)
            self.db["scans"].create_index(["acked_at", "seq"])
        if "settings" not in self.db.table_names():
            self.db["settings"].create({"key": str, "value": str}, pk="key")

    def add(self, scan: Scan) -> None:
        """Commit one scan in its own transaction (returns only once it is on disk)."""
        # A prepared INSERT, not table.insert(): sqlite-utils' row introspection costs ~3 ms
        # per call, several times the fsync itself, and this is on the path to the beep.
        with self.db.conn:
            self.db.execute(_INSERT_SCAN, [
                scan.id, scan.seq, scan.kiosk, scan.event, scan.badge, scan.role, scan.ts,
                int(scan.clock_ok), scan.annuls, datetime.now(timezone.utc).isoformat(timespec="milliseconds")])

    def pending(self, limit: int | None = None) -> list[Scan]:
        """Unacked scans, oldest first."""
        sql = "select * from scans where acked_at is null order by seq"
        if limit is not None:
            sql += f" limit {int(limit)}"
        return [_scan(row) for row in self.db.query(sql)]

    def get(self, scan_id: str) -> Scan | None:
        rows = list(self.db.query("select * from scans where id = ?", [scan_id]))
        return _scan(rows[0]) if rows else None

    def mark_acked(self, scan_id: str, status: str, reason: str | None = None) -> bool:
        """Record the hub's answer; True if the scan was waiting for it."""
        with self.db.conn:
            cur = self.db.execute(
                "update scans set acked_at = ?, ack_status = ?, ack_reason = ? "
                "where id = ? and acked_at is null",
                [datetime.now(timezone.utc).isoformat(timespec="milliseconds"), status, reason, scan_id])
        return cur.rowcount == 1

    def queued_count(self) -> int:
        return self.db.execute("select count(*) from scans where acked_at is null").fetchone()[0]

    def next_seq(self) -> int:
        return (self.db.execute("select max(seq) from scans").fetchone()[0] or 0) + 1

    def seen_keys(self) -> set[tuple[str | None, str, str]]:
        """(event, badge, role) of every scan that stands (not an annulment, not annulled)."""
        rows = self.db.execute(
            "select event, badge, role from scans s where annuls is null "
            "and not exists (select 1 from scans a where a.annuls = s.id)").fetchall()
        return {tuple(r) for r in rows}

    def save_config(self, config: KioskConfig) -> None:
        value = json.dumps({"event": config.event, "event_name": config.event_name,
                            "roles": list(config.roles)})
        with self.db.conn:
            self.db["settings"].upsert({"key": "config", "value": value}, pk="key")

    def load_config(self) -> KioskConfig | None:
        rows = list(self.db.query("select value from settings where key = 'config'"))
        if not rows:
            return None
        data = json.loads(rows[0]["value"])
        return KioskConfig(data.get("event"), data.get("event_name"), tuple(data.get("roles") or ()))

    def save_broker(self, url: str) -> None:
        """A hub address from a set-up card; it wins over the settings file from now on."""
        with self.db.conn:
            self.db["settings"].upsert({"key": "broker", "value": url}, pk="key")

    def load_broker(self) -> str | None:
        rows = list(self.db.query("select value from settings where key = 'broker'"))
        return rows[0]["value"] if rows else None

    def close(self) -> None:
        self.db.close()


def _scan(row: dict) -> Scan:
    return Scan(id=row["id"], kiosk=row["kiosk"], event=row["event"], badge=row["badge"],
                role=row["role"], ts=row["ts"], seq=row["seq"], clock_ok=bool(row["clock_ok"]),
                annuls=row["annuls"])
