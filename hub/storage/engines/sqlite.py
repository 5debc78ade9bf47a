"""SQLite: one file in WAL mode, a connection per live thread, one writer at a time.

Connections are per thread. A thread that has ended gives its connection back: web servers run
handlers on pool threads that come and go, and a connection kept for each of them would hold
file descriptors until the hub ran out (paho's ``select()`` cannot watch one above 1,024).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from hub.storage.database import Dialect, savepoint_on

SQLITE = Dialect(name="sqlite", autoincrement_key="INTEGER PRIMARY KEY", newest_row="MAX(rowid)")


class SQLiteDatabase:
    """One SQLite file in WAL mode, a connection per live thread, ``?`` placeholders."""

    dialect = SQLITE

    def __init__(self, path: str | Path):
        self.path = self.location = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._by_thread: dict[int, tuple[threading.Thread, sqlite3.Connection]] = {}

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._close_orphans()
                me = threading.current_thread()
                self._by_thread[id(me)] = (me, conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: an acked scan must survive a power cut, not only a crash.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended (called with the lock held)."""
        for key, (thread, conn) in list(self._by_thread.items()):
            if not thread.is_alive():
                del self._by_thread[key]
                conn.close()

    def open_connections(self) -> int:
        with self._lock:
            return len(self._by_thread)

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
        conn.execute("BEGIN IMMEDIATE")  # the write lock now: one writer at a time, in order
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def savepoint(self) -> AbstractContextManager[None]:
        return savepoint_on(self.connection().execute)

    def lock(self, keys: Iterable[str], shared: bool = False) -> None:
        """Nothing to do: BEGIN IMMEDIATE already made this the only writer."""

    def tables(self) -> list[str]:
        return [r[0] for r in self.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name")]

    def reset_ids(self, table: str) -> None:
        """Nothing to do: an INTEGER PRIMARY KEY goes on from the highest id in the table."""

    def size(self) -> int:
        self.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # what the log holds counts once it is in
        return self.execute("PRAGMA page_count").fetchone()[0] * self.execute("PRAGMA page_size").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            for _, conn in self._by_thread.values():
                conn.close()
            self._by_thread.clear()
        self._local = threading.local()
