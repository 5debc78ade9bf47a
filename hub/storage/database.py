"""The connection abstraction every store reads and writes through: one place that knows the
database engine (today SQLite; ``open_database`` is where PostgreSQL joins in step 6).

Connections are per thread. A thread that has ended gives its connection back: web servers run
handlers on pool threads that come and go, and a connection kept for each of them would hold
file descriptors until the hub ran out (paho's ``select()`` cannot watch one above 1,024).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Bound parameters per IN (...) list: well inside SQLite's and PostgreSQL's limits.
IN_CHUNK = 500


class SQLiteDatabase:
    """One SQLite file in WAL mode, a connection per live thread, ``?`` placeholders."""

    def __init__(self, path: str | Path):
        self.path = str(path)
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
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def lock_keys(self, kind: str, keys: list[str]) -> None:
        """Inside a transaction: keep other processes off these keys (e.g. badges) until it
        ends, so that what it read about them stays true. Nothing to do here: ``BEGIN
        IMMEDIATE`` already made this the one writer. (PostgreSQL takes advisory locks.)"""

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
            for _, conn in self._by_thread.values():
                conn.close()
            self._by_thread.clear()
        self._local = threading.local()


def open_database(location: str | Path) -> SQLiteDatabase:
    """A database from a path (SQLite). Step 6 adds ``postgresql://…`` here."""
    text = str(location)
    if text.startswith(("postgres://", "postgresql://")):
        raise NotImplementedError("PostgreSQL storage arrives in step 6; use a SQLite path")
    return SQLiteDatabase(text)


def chunks(values: list[Any]) -> Iterator[list[Any]]:
    """``values`` in slices small enough for one ``IN (...)`` list each."""
    for start in range(0, len(values), IN_CHUNK):
        yield values[start:start + IN_CHUNK]


def marks(values: list[Any]) -> str:
    """The placeholders for an ``IN (...)`` list of ``values``."""
    return ",".join("?" * len(values))
