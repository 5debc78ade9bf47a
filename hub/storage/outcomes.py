"""What came of an event, as organisers tell it: shown as stories beside the numbers."""

from __future__ import annotations

from dataclasses import dataclass

from hub.storage.base import NotFound, StoreBase, blank_none, utc_now
from turnout.i18n import N_

OUTCOME_KINDS = {
    "project": N_("A project started"),
    "service": N_("A service changed"),
    "collaboration": N_("A collaboration formed"),
    "other": N_("Something else"),
}


@dataclass(frozen=True)
class Outcome:
    id: int
    event: str
    kind: str  # a key of OUTCOME_KINDS
    title: str
    story: str | None
    link: str | None
    created_at: str


class OutcomesStore(StoreBase):
    def add_outcome(self, event_id: str, kind: str, title: str, story: str | None = None,
                    link: str | None = None) -> Outcome:
        if kind not in OUTCOME_KINDS:
            raise ValueError(f"an outcome is one of {', '.join(OUTCOME_KINDS)}")
        title = " ".join((title or "").split())
        if not title:
            raise ValueError("an outcome needs a title")
        with self.db.transaction():
            if not self.has_event(event_id):
                raise NotFound(f"no event {event_id}")
            outcome_id = self.db.execute(
                "INSERT INTO outcomes (event, kind, title, story, link, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (event_id, kind, title, blank_none(story), blank_none(link), utc_now())).fetchone()[0]
        return self.outcome(outcome_id)

    def outcome(self, outcome_id: int) -> Outcome:
        row = self.db.execute("SELECT * FROM outcomes WHERE id = ?", (outcome_id,)).fetchone()
        if row is None:
            raise NotFound(f"no outcome {outcome_id}")
        return Outcome(**dict(row))

    def outcomes(self, event_id: str | None = None) -> list[Outcome]:
        """Outcomes of one event, or of all events (newest event first)."""
        if event_id is not None:
            rows = self.db.execute("SELECT * FROM outcomes WHERE event = ? ORDER BY id", (event_id,))
        else:
            rows = self.db.execute("SELECT o.* FROM outcomes o JOIN events e ON e.id = o.event"
                                   " ORDER BY e.date DESC, o.id")
        return [Outcome(**dict(r)) for r in rows]

    def delete_outcome(self, outcome_id: int) -> None:
        self.db.execute("DELETE FROM outcomes WHERE id = ?", (outcome_id,))
