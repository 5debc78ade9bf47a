"""What every store shares: the database it speaks through, transactions, small SQL helpers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from hub.rules import Rules
from hub.storage.database import Database


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


SCORING = "scoring"  # the lock a recompute of every standing holds alone


class NotFound(LookupError):
    """No such person, event, kiosk or quarantined message."""


class StoreBase:
    """The ground every table group's store stands on. The groups are mixins of one ``Store``
    (hub.store), so a method in one may call another's; each keeps the SQL of its own tables."""

    db: Database
    file_rules: Rules

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.transaction():
            yield

    def lock_badges(self, badges: Iterable[str]) -> None:
        """Score these badges in this transaction alone (see ``Database.lock``); a recompute of
        everything waits for the transactions scoring badges, and they for it."""
        self.db.lock([SCORING], shared=True)
        self.db.lock(f"badge:{badge}" for badge in badges)


def blank_none(value: str | None) -> str | None:
    """A trimmed string, or None for a blank one."""
    return value.strip() or None if isinstance(value, str) else value
