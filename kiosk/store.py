"""The kiosk's durable store: every scan in SQLite before the OK tone, kept until acked.

WAL with ``synchronous=FULL``: a committed scan survives a power cut. Rows are never deleted
(acked scans stay as the kiosk's own record), so ``seq`` keeps counting across restarts.

A database SQLite cannot read (a failing SD card, a write torn by something other than a power
cut) never stops the kiosk and is never deleted: ``ScanStore.open`` moves it aside and starts
afresh, and ``read_old_store`` gets back whatever rows can still be read from it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from turnout.codes import LoginCard, is_badge, is_role_name
from turnout.protocol import EVENT_ID, KIOSK_ID, KioskConfig, Scan


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
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CORRUPT_SUFFIX = ".corrupt-"  # kiosk.db.corrupt-20261123T100000Z, with its -wal and -shm
_SETTINGS_CARRIED_OVER = ("config", "broker")  # from a store moved aside, when readable


class CorruptStore(sqlite3.DatabaseError):
    """SQLite's own check of the database found damage."""


def is_corruption(exc: BaseException) -> bool:
    """A database that cannot be read, as opposed to one that cannot be written just now (disk
    full, locked, read-only): only the first is moved aside."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return isinstance(exc, CorruptStore) or name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB"


class ScanStore:
    def __init__(self, path: Path | str):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(path)
        self.db = sqlite_utils.Database(path)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            if "scans" not in self.db.table_names():
                self.db["scans"].create(SCAN_COLUMNS, pk="id", not_null={"seq", "badge", "role"})
                self.db["scans"].create_index(["seq"], unique=True)
                self.db["scans"].create_index(["acked_at", "seq"])
            if "settings" not in self.db.table_names():
                self.db["settings"].create({"key": str, "value": str}, pk="key")
        except BaseException:
            self.db.close()
            raise

    @classmethod
    def open(cls, path: Path | str, now: datetime | None = None) -> "ScanStore":
        """Open ``path``, checked. Rule: a database SQLite cannot read is never deleted and never
        stops the kiosk: it is moved aside (``kiosk.db.corrupt-<UTC time>``, with its -wal and
        -shm), and a fresh store started whose ``seq`` carries on past what could be read from
        it, and which says so (``reset_from``) until its unsent scans are recovered."""
        try:
            if not _has_sqlite_header(Path(path)):  # before SQLite opens it: it would drop the -wal
                raise CorruptStore("not an SQLite database any more")
            store = cls(path)
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise
        else:
            try:
                store.check()
                return store
            except sqlite3.DatabaseError as exc:
                store.close()
                if not is_corruption(exc):
                    raise
        moved = move_aside(Path(path), now or datetime.now(timezone.utc))
        old = read_old_store(moved)
        store = cls(path)
        with store.db.conn:
            for key, value in old.settings.items():
                store.db.execute("insert or replace into settings (key, value) values (?, ?)", [key, value])
            store.db.execute("insert or replace into settings (key, value) values ('reset_from', ?)",
                             [json.dumps({"file": str(moved), "seq": old.max_seq})])
        return store

    def check(self) -> None:
        """SQLite's quick check of every page (a few ms for a day's scans); raises CorruptStore."""
        found = [row[0] for row in self.db.execute("PRAGMA quick_check").fetchall()]
        if found != ["ok"]:
            raise CorruptStore("; ".join(map(str, found[:3])))

    @property
    def reset_from(self) -> str | None:
        """The file this store replaced because it could not be read, until it is recovered."""
        value = self._setting("reset_from")
        return json.loads(value)["file"] if value else None

    def _setting(self, key: str) -> str | None:
        row = self.db.execute("select value from settings where key = ?", [key]).fetchone()
        return row[0] if row else None

    def add(self, scan: Scan) -> None:
        """Commit one scan in its own transaction (returns only once it is on disk)."""
        # A prepared INSERT, not table.insert(): sqlite-utils' row introspection costs ~3 ms
        # per call, several times the fsync itself, and this is on the path to the beep.
        with self.db.conn:
            self.add_in_transaction(scan)

    def add_in_transaction(self, scan: Scan) -> None:
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
        """After every seq used here, and every one read from a store this one replaced."""
        here = self.db.execute("select max(seq) from scans").fetchone()[0] or 0
        reset = self._setting("reset_from")
        return max(here, json.loads(reset)["seq"] if reset else 0) + 1

    def requeue(self, scans: list[Scan]) -> "Requeued":
        """Put scans read from an old store back in the outbox, with their own ids (so a scan the
        hub has already counted is only answered again). A seq in use here is renumbered."""
        done = Requeued()
        with self.db.conn:
            for scan in scans:
                if self.db.execute("select 1 from scans where id = ?", [scan.id]).fetchone():
                    done.already_here += 1
                    continue
                if self.db.execute("select 1 from scans where seq = ?", [scan.seq]).fetchone():
                    scan = Scan(**{**scan.__dict__, "seq": self.next_seq()})
                    done.renumbered += 1
                self.add_in_transaction(scan)
                done.added += 1
        return done

    def recovered(self, old: Path | str) -> None:
        """The unsent scans of ``old`` are back in the outbox: stop saying storage was reset."""
        value = self._setting("reset_from")
        if value and Path(json.loads(value)["file"]).resolve() == Path(old).resolve():
            with self.db.conn:
                self.db.execute("update settings set value = ? where key = 'reset_from'",
                                [json.dumps({"file": None, "seq": json.loads(value)["seq"]})])

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

    def save_login(self, card: LoginCard) -> None:
        """A kiosk login from a login card: its id and broker login win over the settings file
        from the next start. A set-up card's hub address, made for the old login, is forgotten."""
        value = json.dumps({"kiosk_id": card.kiosk_id, "broker": card.broker, "username": card.username,
                            "password": card.password, "ca": card.ca})
        with self.db.conn:
            self.db["settings"].upsert({"key": "login", "value": value}, pk="key")
            self.db.execute("delete from settings where key = 'broker'")

    def load_login(self) -> LoginCard | None:
        value = self._setting("login")
        if not value:
            return None
        data = json.loads(value)
        return LoginCard(data["kiosk_id"], data["broker"], data["username"], data["password"], data.get("ca"))

    def close(self) -> None:
        self.db.close()


@dataclass
class Requeued:
    added: int = 0
    already_here: int = 0
    renumbered: int = 0


@dataclass
class OldStore:
    """What could be read from a store that SQLite found damaged."""

    unsent: list[Scan] = field(default_factory=list)
    sent: int = 0  # readable scans the hub had already answered
    max_seq: int = 0
    unreadable_rows: int = 0  # rows that could not be read, or made no sense when read
    settings: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # why nothing at all could be read


_SQLITE_HEADER = b"SQLite format 3\x00"


def _has_sqlite_header(path: Path) -> bool:
    """True for a file SQLite wrote (or none yet, or an empty one, which SQLite starts afresh)."""
    try:
        with open(path, "rb") as fh:
            start = fh.read(len(_SQLITE_HEADER))
    except OSError:
        return True  # not ours to judge: SQLite creates it, or says why it cannot
    return start in (b"", _SQLITE_HEADER)


def move_aside(path: Path, now: datetime) -> Path:
    """Rename ``path`` (and its -wal and -shm, so SQLite still pairs them) to a name with the UTC
    time in it. Never deletes anything."""
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    moved = path.with_name(f"{path.name}{CORRUPT_SUFFIX}{stamp}")
    n = 1
    while moved.exists():
        moved, n = path.with_name(f"{path.name}{CORRUPT_SUFFIX}{stamp}-{n}"), n + 1
    for suffix in ("-wal", "-shm"):  # the journal first: a crash between leaves no orphan db
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.replace(side, f"{moved}{suffix}")
    os.replace(path, moved)
    return moved


def read_old_store(path: Path | str) -> OldStore:
    """Every row that can still be read from a damaged store. It reads a copy (with the copy's
    -wal), so the file itself is left exactly as it was found."""
    old = OldStore()
    with tempfile.TemporaryDirectory(prefix="turnout-recover-") as tmp:
        copy = Path(tmp) / "old.db"
        try:
            shutil.copyfile(path, copy)
            if Path(f"{path}-wal").exists():
                shutil.copyfile(f"{path}-wal", f"{copy}-wal")
            db = sqlite3.connect(copy)
        except (OSError, sqlite3.Error) as exc:
            old.error = str(exc)
            return old
        try:
            names = [c for c in SCAN_COLUMNS]
            for row in _readable_rows(db, "scans", names, old):
                data = dict(zip(names, row))
                scan = _checked_scan(data)
                if scan is None:
                    old.unreadable_rows += 1
                    continue
                old.max_seq = max(old.max_seq, scan.seq)
                if data["acked_at"] is None:
                    old.unsent.append(scan)
                else:
                    old.sent += 1
            for key, value in _readable_rows(db, "settings", ["key", "value"], old):
                if key in _SETTINGS_CARRIED_OVER and isinstance(value, str) and _setting_ok(key, value):
                    old.settings[key] = value
        finally:
            db.close()
    old.unsent.sort(key=lambda scan: scan.seq)
    return old


_CHUNK_ROWS = 256
_PROBE_GIVE_UP = 64  # without max(rowid), stop after this many chunks in a row held nothing


def _readable_rows(db: sqlite3.Connection, table: str, columns: list[str], old: OldStore):
    """Rows by rowid in chunks; a chunk that fails is halved until the rows that cannot be read
    are found and skipped."""
    cols = ", ".join(columns)
    try:
        top = db.execute(f"select max(rowid) from {table}").fetchone()[0] or 0
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB" or "no such table" in str(exc):
            old.error = old.error or str(exc)  # nothing in it can be read
            return
        top = None  # the table's root is damaged: look row by row until nothing more turns up

    def read(lo: int, hi: int) -> list:
        try:
            return db.execute(f"select {cols} from {table} where rowid between ? and ?", [lo, hi]).fetchall()
        except sqlite3.DatabaseError:
            if lo == hi:
                old.unreadable_rows += top is not None  # when probing, most rowids never existed
                return []
            mid = (lo + hi) // 2
            return read(lo, mid) + read(mid + 1, hi)

    lo, empty = 1, 0
    while (lo <= top) if top is not None else (empty < _PROBE_GIVE_UP):
        rows = read(lo, lo + _CHUNK_ROWS - 1 if top is None else min(lo + _CHUNK_ROWS - 1, top))
        empty = 0 if rows else empty + 1
        yield from rows
        lo += _CHUNK_ROWS


def _checked_scan(data: dict) -> Scan | None:
    """A row as a Scan, if every field still makes sense (damage can garble a readable row)."""
    try:
        ok = (isinstance(data["id"], str) and _UUID.fullmatch(data["id"])
              and isinstance(data["kiosk"], str) and KIOSK_ID.fullmatch(data["kiosk"])
              and (data["event"] is None or (isinstance(data["event"], str) and EVENT_ID.fullmatch(data["event"])))
              and isinstance(data["badge"], str) and is_badge(data["badge"])
              and is_role_name(data["role"]) and isinstance(data["ts"], str) and 10 <= len(data["ts"]) <= 40
              and isinstance(data["seq"], int) and 0 <= data["seq"] < 2**63
              and data["clock_ok"] in (0, 1)
              and (data["annuls"] is None or (isinstance(data["annuls"], str) and _UUID.fullmatch(data["annuls"]))))
        return _scan(data) if ok else None
    except (KeyError, TypeError):
        return None


def _setting_ok(key: str, value: str) -> bool:
    try:
        data = json.loads(value) if key == "config" else value
    except ValueError:
        return False
    return isinstance(data, dict) if key == "config" else value.isprintable()


def _scan(row: dict) -> Scan:
    return Scan(id=row["id"], kiosk=row["kiosk"], event=row["event"], badge=row["badge"],
                role=row["role"], ts=row["ts"], seq=row["seq"], clock_ok=bool(row["clock_ok"]),
                annuls=row["annuls"])
