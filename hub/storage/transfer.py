"""Moving a whole hub from one database to another (``turnout-hub migrate-db``): SQLite to
PostgreSQL when a hub outgrows its file, or back.

Both ends are opened as hub stores first, so both have the current schema (an older source is
brought up to date, as any ``turnout-hub`` command would). Every table is copied row for row in
one transaction on the target, numbered ids included; the target's id sequences are then moved
past the highest id copied, so what is added next does not collide.
"""

from __future__ import annotations

from collections.abc import Iterator

from hub.storage.database import Database
from hub.storage.schema import NUMBERED_TABLES

BATCH = 1000  # rows per insert round trip
# Tables a new hub fills by itself: the schema version and the roles from the rules file.
SEEDED = {"meta", "roles"}


class TargetNotEmpty(ValueError):
    """The target already holds a hub's data; copying into it would mix two hubs."""


def rows_in(db: Database, tables: list[str]) -> dict[str, int]:
    return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


def copy_hub(source: Database, target: Database, replace: bool = False) -> dict[str, int]:
    """Copy every table of ``source`` into ``target``; rows copied per table. A target that
    holds data (beyond what a new hub seeds) is refused unless ``replace``: then emptied first."""
    tables = [t for t in source.tables() if t in set(target.tables())]
    with target.transaction():
        target.lock(["schema"])  # no other hub process sets up the target meanwhile
        held = {t: n for t, n in rows_in(target, tables).items() if n and t not in SEEDED}
        if held and not replace:
            raise TargetNotEmpty(
                "the target database already holds a hub's data ("
                + ", ".join(f"{n} {t}" for t, n in sorted(held.items()))
                + "); give --replace to empty it first")
        copied = {}
        for table in tables:
            target.execute(f"DELETE FROM {table}")
            copied[table] = _copy_table(source, target, table)
        for table in NUMBERED_TABLES:
            target.reset_ids(table)
        counted = rows_in(target, tables)
        if counted != copied:  # a row the target quietly refused would show here
            raise RuntimeError(f"copied {copied} but the target holds {counted}")
    return copied


def _copy_table(source: Database, target: Database, table: str) -> int:
    copied = 0
    for batch in _batches(source, table):
        columns = list(batch[0].keys())
        target.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [tuple(_keepable(v) for v in row) for row in batch])
        copied += len(batch)
    return copied


def _batches(source: Database, table: str) -> Iterator[list]:
    rows = iter(source.execute(f"SELECT * FROM {table}"))
    while batch := [row for _, row in zip(range(BATCH), rows)]:
        yield batch


def _keepable(value):
    """A value PostgreSQL keeps as it is: text with NUL in it (old quarantine) gets U+FFFD."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value
