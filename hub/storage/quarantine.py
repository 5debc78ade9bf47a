"""Messages the hub refused, with the reason, for organisers to read and put right.

Quarantine is for reading and reassigning, not an archive of floods, so what it keeps is
bounded (``QuarantineLimits``): a refused *scan* (well formed, refused for a reason such as an
unknown event) is small and worth keeping whole so it can be counted at the right event; *junk*
(not JSON, not a scan, too big, another kiosk's name) is kept whole only a few times an hour per
kiosk, then cut short, then only counted. Every refused message is counted per kiosk and hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hub.storage.base import NotFound, StoreBase, utc_now
from hub.storage.database import Row

# The most of one payload ever kept.
MAX_QUARANTINE_PAYLOAD = 16 * 1024
# Counters are for spotting floods and broken kiosks; older ones are forgotten.
COUNTS_KEPT_DAYS = 90
UNKNOWN_KIOSK = ""  # counters of messages from no kiosk the hub knows


@dataclass(frozen=True)
class QuarantineLimits:
    """How much quarantine keeps. Per kiosk and hour, then per hour over all kiosks, then in all."""

    scans_per_kiosk_hour: int = 2_000  # refused scans kept whole (a kiosk scans about 1 a second)
    junk_whole_per_kiosk_hour: int = 20
    junk_per_kiosk_hour: int = 200  # junk records, whole or cut short
    whole_junk_per_hour: int = 200
    records_per_hour: int = 10_000
    whole_junk_total: int = 1_000
    records_total: int = 100_000
    cut_to: int = 256  # bytes of a payload kept once junk is cut short


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
    size: int | None = None  # bytes the message had (None: recorded before sizes were kept)
    cut_short: bool = False  # only the start of the payload is kept: it cannot be counted


@dataclass(frozen=True)
class RefusedCount:
    """Refused messages from one kiosk (``""``: one the hub does not know) in some hours."""

    kiosk: str
    refused: int
    kept_whole: int
    cut_short: int
    counted_only: int


def _quarantined(row: Row) -> Quarantined:
    return Quarantined(id=row["id"], scan_id=row["scan_id"], kiosk=row["kiosk"], topic=row["topic"],
                       payload=row["payload"], reason=row["reason"], received_at=row["received_at"],
                       resolved_at=row["resolved_at"], resolution=row["resolution"],
                       size=row["size"], cut_short=bool(row["cut_short"]))


def _as_text(data: bytes) -> str:
    """Bytes as text any database keeps: bad UTF-8 and NUL (PostgreSQL refuses it) become U+FFFD."""
    return data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


class QuarantineStore(StoreBase):
    quarantine_limits = QuarantineLimits()
    _counts_pruned_for: str | None = None
    _records_known: tuple[int, int] | None = None  # (counted, kept since)

    def quarantine(self, topic: str, payload: bytes, reason: str, received_at: str,
                   kiosk: str | None = None, scan_id: str | None = None,
                   is_scan: bool = False) -> int | None:
        """Keep a refused message with its reason, within the limits; the record's number, or
        None when it was only counted. ``is_scan``: a well-formed scan (it may be reassigned).
        A re-sent copy is counted but not kept twice."""
        hour = received_at[:13]
        who = kiosk if kiosk is not None and self.kiosk_known(kiosk) else UNKNOWN_KIOSK
        self._count_refused(who, hour)
        text = _as_text(payload[:MAX_QUARANTINE_PAYLOAD])
        if scan_id is not None:
            row = self.db.execute(
                "SELECT id FROM quarantine WHERE scan_id = ? AND reason = ? AND payload = ?"
                " AND resolved_at IS NULL", (scan_id, reason, text)).fetchone()
            if row:
                self._count(who, hour, "not_kept")
                return row["id"]
        how = self._how_to_keep(who, hour, is_scan)
        if how == "not_kept":
            self._count(who, hour, how)
            return None
        if how == "junk_cut":
            text = _as_text(payload[:self.quarantine_limits.cut_to])
        self._count(who, hour, how)
        if self._records_known is not None:
            self._records_known = (self._records_known[0], self._records_known[1] + 1)
        return self.db.execute(
            "INSERT INTO quarantine (scan_id, kiosk, topic, payload, reason, received_at, size,"
            " cut_short, is_scan) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (scan_id, kiosk, topic[:200], text, _as_text(reason[:500].encode()), received_at, len(payload),
             int(how == "junk_cut"), int(is_scan))).fetchone()[0]

    def _how_to_keep(self, kiosk: str, hour: str, is_scan: bool) -> str:
        """Which counter this message goes under: scans_kept, junk_kept, junk_cut or not_kept."""
        limits = self.quarantine_limits
        mine = self.db.execute("SELECT scans_kept, junk_kept, junk_cut FROM quarantine_counts"
                               " WHERE kiosk = ? AND hour = ?", (kiosk, hour)).fetchone()
        hourly = self.db.execute("SELECT COALESCE(SUM(junk_kept), 0),"
                                 " COALESCE(SUM(scans_kept + junk_kept + junk_cut), 0)"
                                 " FROM quarantine_counts WHERE hour = ?", (hour,)).fetchone()
        if hourly[1] >= limits.records_per_hour:
            return "not_kept"
        if is_scan:
            if mine["scans_kept"] >= limits.scans_per_kiosk_hour:
                return "not_kept"
            wanted = "scans_kept"
        elif mine["junk_kept"] + mine["junk_cut"] >= limits.junk_per_kiosk_hour:
            return "not_kept"
        elif mine["junk_kept"] < limits.junk_whole_per_kiosk_hour \
                and hourly[0] < limits.whole_junk_per_hour \
                and self._whole_junk_kept() < limits.whole_junk_total:
            wanted = "junk_kept"
        else:
            wanted = "junk_cut"
        return wanted if self._records_kept() < limits.records_total else "not_kept"

    def _records_kept(self) -> int:
        """How many records quarantine holds, counted afresh every so often (a bound, not a tally)."""
        if self._records_known is None or self._records_known[1] >= 500:
            self._records_known = (self.db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0], 0)
        return self._records_known[0] + self._records_known[1]

    def _whole_junk_kept(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM quarantine WHERE is_scan = 0 AND cut_short = 0"
                               ).fetchone()[0]

    def _count_refused(self, kiosk: str, hour: str) -> None:
        if self._counts_pruned_for != hour:  # a new hour: forget counters past their time
            cutoff = (datetime.now(timezone.utc) - timedelta(days=COUNTS_KEPT_DAYS)).strftime("%Y-%m-%dT%H")
            self.db.execute("DELETE FROM quarantine_counts WHERE hour < ?", (cutoff,))
            self._counts_pruned_for = hour
        self.db.execute("INSERT INTO quarantine_counts (kiosk, hour, refused) VALUES (?, ?, 1)"
                        " ON CONFLICT (kiosk, hour) DO UPDATE SET refused = quarantine_counts.refused + 1", (kiosk, hour))

    def _count(self, kiosk: str, hour: str, column: str) -> None:
        assert column in ("scans_kept", "junk_kept", "junk_cut", "not_kept")
        self.db.execute(f"UPDATE quarantine_counts SET {column} = {column} + 1"
                        " WHERE kiosk = ? AND hour = ?", (kiosk, hour))

    def refused_counts(self, since_hour: str | None = None) -> list[RefusedCount]:
        """Refused messages per kiosk since an hour ('YYYY-MM-DDTHH', UTC), most refused first."""
        rows = self.db.execute(
            "SELECT kiosk, SUM(refused), SUM(scans_kept + junk_kept), SUM(junk_cut), SUM(not_kept)"
            " FROM quarantine_counts WHERE hour >= ? GROUP BY kiosk ORDER BY 2 DESC, kiosk",
            (since_hour or "",)).fetchall()
        return [RefusedCount(*row) for row in rows]

    def quarantined(self, include_resolved: bool = False, limit: int = 1000) -> list[Quarantined]:
        sql = "SELECT * FROM quarantine"
        if not include_resolved:
            sql += " WHERE resolved_at IS NULL"
        return [_quarantined(r) for r in self.db.execute(sql + " ORDER BY id DESC LIMIT ?", (limit,))]

    def count_quarantined(self) -> int:
        """Refused messages kept and waiting for an organiser."""
        return self.db.execute("SELECT COUNT(*) FROM quarantine WHERE resolved_at IS NULL").fetchone()[0]

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
