"""Results emails: closing events, and the outbox their emails wait in until sent.

An event's emails are written to the outbox in the same transaction that marks them queued, so
they are decided once; each row is then sent by ``hub.email_worker`` and marked sent in its own
transaction. A row keeps its Message-ID from the start: a resend after a crash is the same mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.storage.base import NotFound, StoreBase, utc_now
from hub.storage.database import marks
from hub.storage.events import Event
from hub.storage.people import Person

RESULTS = "results"


@dataclass(frozen=True)
class QueuedEmail:
    """An email to put in the outbox (``message`` is the whole RFC 5322 message, 7-bit)."""

    badge: str
    address: str
    message: str
    message_id: str


@dataclass(frozen=True)
class OutboxEmail:
    id: int
    event: str
    badge: str
    address: str
    message: bytes  # as sent: CRLF line ends
    attempts: int


@dataclass(frozen=True)
class EmailSummary:
    """What became of one event's emails, for the admin."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    failures: tuple[tuple[str, str], ...] = ()  # (badge, last error) of each given up or retrying


class EmailsStore(StoreBase):
    def close_event(self, event_id: str) -> bool:
        """Close an event: its results emails follow. False when it was closed already."""
        with self.db.transaction():
            if not self.has_event(event_id):
                raise NotFound(f"no event {event_id}")
            return self.db.execute("UPDATE events SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                                   (utc_now(), event_id)).rowcount == 1

    def close_ended_events(self, today: str) -> list[str]:
        """Close every event whose day is over (before ``today``, YYYY-MM-DD)."""
        with self.db.transaction():
            ids = [r[0] for r in self.db.execute(
                "SELECT id FROM events WHERE closed_at IS NULL AND date < ? ORDER BY date, id", (today,))]
            self.db.executemany("UPDATE events SET closed_at = ? WHERE id = ?",
                                [(utc_now(), i) for i in ids])
        return ids

    def events_awaiting_emails(self) -> list[Event]:
        rows = self.db.execute("SELECT id FROM events WHERE closed_at IS NOT NULL"
                               " AND emails_queued_at IS NULL ORDER BY closed_at").fetchall()
        return [self.event(r[0]) for r in rows]

    def results_recipients(self, event_id: str) -> list[tuple[Person, tuple[str, ...]]]:
        """Everyone present who has an email address and opted in, with the roles they did."""
        report = self.event_report(event_id)
        people = self.people_by_badge(r.badge for r in report.present)
        chosen = []
        for entry in report.present:
            person = people.get(entry.badge)
            if (person and person.claimed and person.results_email and person.email
                    and not self.erased_at(person.badge)):
                chosen.append((person, entry.roles))
        return chosen

    def queue_emails(self, event_id: str, emails: Iterable[QueuedEmail]) -> int:
        """Put an event's results emails in the outbox, once (none if another process queued
        them first). Returns how many were queued."""
        now = utc_now()
        with self.db.transaction():
            row = self.db.execute("SELECT emails_queued_at FROM events WHERE id = ?", (event_id,)).fetchone()
            if row is None or row[0] is not None:
                return 0
            count = self.db.executemany(
                "INSERT INTO email_outbox (event, badge, kind, address, message, message_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(event_id, e.badge, RESULTS, e.address, e.message, e.message_id, now) for e in emails])
            self.db.execute("UPDATE events SET emails_queued_at = ? WHERE id = ?", (now, event_id))
        return max(count, 0)

    def due_emails(self, now: float, limit: int = 20) -> list[OutboxEmail]:
        rows = self.db.execute(
            "SELECT id, event, badge, address, message, attempts FROM email_outbox"
            " WHERE state = 'queued' AND next_try <= ? ORDER BY next_try, id LIMIT ?", (now, limit))
        return [OutboxEmail(r["id"], r["event"], r["badge"], r["address"], r["message"].encode("ascii"),
                            r["attempts"]) for r in rows]

    def next_email_due(self) -> float | None:
        row = self.db.execute("SELECT MIN(next_try) FROM email_outbox WHERE state = 'queued'").fetchone()
        return row[0]

    def email_sent(self, email_id: int) -> None:
        """Sent: forget the address and the text (the outbox keeps only that it went)."""
        self.db.execute("UPDATE email_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,"
                        " address = NULL, message = NULL, last_error = NULL WHERE id = ? AND state = 'queued'",
                        (utc_now(), email_id))

    def email_failed(self, email_id: int, error: str, retry_at: float | None) -> None:
        """A try failed: again at ``retry_at`` (Unix seconds), or never (None: given up)."""
        if retry_at is None:
            self.db.execute("UPDATE email_outbox SET state = 'failed', attempts = attempts + 1,"
                            " last_error = ?, message = NULL WHERE id = ? AND state = 'queued'",
                            (error[:500], email_id))
        else:
            self.db.execute("UPDATE email_outbox SET attempts = attempts + 1, last_error = ?,"
                            " next_try = ? WHERE id = ? AND state = 'queued'",
                            (error[:500], retry_at, email_id))

    def drop_emails(self, badges: list[str], why: str) -> int:
        """Emails still waiting for these badges are not sent (opted out, or erased)."""
        if not badges:
            return 0
        return self.db.execute(
            f"UPDATE email_outbox SET state = 'dropped', last_error = ?, address = NULL, message = NULL"
            f" WHERE state = 'queued' AND badge IN ({marks(badges)})", (why, *badges)).rowcount

    def unsubscribe(self, badge: str) -> bool:
        """No more results emails for this badge (RFC 8058 one-click, or a link). True if it
        was subscribed."""
        with self.db.transaction():
            changed = self.db.execute("UPDATE people SET results_email = 0 WHERE badge = ?"
                                      " AND results_email = 1", (badge,)).rowcount
            self.drop_emails([badge], "unsubscribed")
        return bool(changed)

    def email_summary(self, event_id: str) -> EmailSummary:
        counts = dict(self.db.execute("SELECT state, COUNT(*) FROM email_outbox WHERE event = ?"
                                      " GROUP BY state", (event_id,)).fetchall())
        failures = tuple((r["badge"], r["last_error"]) for r in self.db.execute(
            "SELECT badge, last_error FROM email_outbox WHERE event = ? AND last_error IS NOT NULL"
            " AND state IN ('queued', 'failed') ORDER BY id", (event_id,)))
        return EmailSummary(queued=counts.get("queued", 0), sent=counts.get("sent", 0),
                            failed=counts.get("failed", 0), dropped=counts.get("dropped", 0),
                            failures=failures)

    def emails_queued(self, event_id: str) -> bool:
        row = self.db.execute("SELECT emails_queued_at FROM events WHERE id = ?", (event_id,)).fetchone()
        return bool(row and row[0])
