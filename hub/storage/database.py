"""The connection abstraction every store reads and writes through: one ``Database`` protocol,
with an engine per database (``hub/storage/engines/``: SQLite, PostgreSQL) behind it.

The stores write plain SQL in the form both engines accept (``?`` placeholders, ``ON CONFLICT``
upserts, ``RETURNING``); what differs between the engines is asked of the database here:
``lock`` where SQLite relies on its single writer, and the few functions in ``Dialect``. The
shape follows Matrix Synapse's ``synapse/storage/engines``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# Bound parameters per IN (...) list: well inside SQLite's and PostgreSQL's limits.
IN_CHUNK = 500

POSTGRES_SCHEMES = ("postgres://", "postgresql://")

# A row as either engine gives it: by position (``row[0]``) or by column name (``row["badge"]``).
Row = Any


@dataclass(frozen=True)
class Dialect:
    """The SQL that differs between engines, as small pieces the stores put in their queries."""

    name: str  # "sqlite" or "postgresql"
    autoincrement_key: str  # a column type: an integer primary key the database numbers
    newest_row: str  # an aggregate that grows when a row is added to a table (never deleted)

    def group_concat(self, expression: str, separator: str, distinct: bool = False) -> str:
        """Join the values of ``expression`` in a group with ``separator`` (in no set order)."""
        inner = f"DISTINCT {expression}" if distinct else expression
        if self.name == "sqlite":  # SQLite's DISTINCT form takes no separator: ',' only
            return f"GROUP_CONCAT({inner})" if distinct else f"GROUP_CONCAT({inner}, '{separator}')"
        return f"STRING_AGG({inner}, '{separator}')"

    def one_of(self, column: str, values: list[Any]) -> tuple[str, list[Any]]:
        """A test that ``column`` is one of ``values`` (of a ``chunks`` slice), and its parameters.
        PostgreSQL takes them as one array, so the statement's text is the same however many
        there are and psycopg converts it once, where a text per list length would be a new
        statement for each batch size. (The engine plans each run for its own array: a generic
        plan kept for ``= ANY($1)`` scanned whole tables; see engines/postgres.py.)"""
        if self.name == "sqlite":
            return f"{column} IN ({marks(values)})", list(values)
        return f"{column} = ANY(?)", [list(values)]


class Cursor(Protocol):
    """What ``execute`` returns: rows read by position or by column name, and rows changed."""

    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    """One hub database. Thread-safe; a transaction belongs to the thread that began it."""

    location: str  # the path or URL it was opened with
    dialect: Dialect

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> int:
        """Run ``sql`` once per row; how many rows it changed in all."""

    def script(self, sql: str) -> None:
        """Several statements without parameters (the schema)."""

    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together or not at all; nested ones join the outer one."""

    def savepoint(self) -> AbstractContextManager[None]:
        """Undo just this part of a transaction if it fails (one bad message, not the batch)."""

    def lock(self, keys: Iterable[str], shared: bool = False) -> None:
        """Hold these names (e.g. badges) until the transaction ends: another transaction that
        locks one of them waits (``shared``: only for one that locks it alone). SQLite needs
        none (one writer at a time); PostgreSQL does, so that two hub workers scoring the same
        badge at once award each milestone once."""

    def tables(self) -> list[str]:
        """The names of the tables in the database."""

    def reset_ids(self, table: str) -> None:
        """After ids were copied in: the next row added to ``table`` gets the highest id + 1."""

    def size(self) -> int:
        """Bytes the hub's tables and indexes take on disk, now."""

    def open_connections(self) -> int: ...

    def close(self) -> None: ...


@contextmanager
def savepoint_on(execute: Callable[[str], Any]) -> Iterator[None]:
    """A savepoint through ``execute`` (the statements are the same in both engines)."""
    execute("SAVEPOINT one_message")
    try:
        yield
    except BaseException:
        execute("ROLLBACK TO SAVEPOINT one_message")
        execute("RELEASE SAVEPOINT one_message")
        raise
    execute("RELEASE SAVEPOINT one_message")


# SQLite's words for a database that is busy, locked or out of room right now (not a bug in SQL).
_SQLITE_PASSING = ("locked", "busy", "disk i/o", "full")


def is_passing_failure(exc: BaseException) -> bool:
    """A failure of the database at this moment (locked, busy, full, a lost connection, a
    deadlock or timeout on PostgreSQL), after which the same work may succeed when tried again;
    not one that says the message or the SQL is wrong."""
    import sqlite3

    if isinstance(exc, sqlite3.OperationalError):
        return any(word in str(exc).lower() for word in _SQLITE_PASSING)
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.OperationalError)


def redacted(location: str | Path) -> str:
    """A database's name fit for logs and error messages: a URL's password replaced."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", str(location))


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(POSTGRES_SCHEMES)


def open_database(location: str | Path) -> Database:
    """A database from a path or ``sqlite:PATH`` (SQLite) or a ``postgresql://…`` URL."""
    text = str(location)
    if is_postgres(text):
        from hub.storage.engines.postgres import PostgresDatabase  # psycopg only when asked for
        return PostgresDatabase(text)
    from hub.storage.engines.sqlite import SQLiteDatabase
    return SQLiteDatabase(text.removeprefix("sqlite:"))


def chunks(values: list[Any]) -> Iterator[list[Any]]:
    """``values`` in slices small enough for one ``IN (...)`` list each."""
    for start in range(0, len(values), IN_CHUNK):
        yield values[start:start + IN_CHUNK]


def marks(values: list[Any]) -> str:
    """The placeholders for an ``IN (...)`` list of ``values``."""
    return ",".join("?" * len(values))
