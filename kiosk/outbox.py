"""Outbox rules: which unacked scans to send now. Pure: the store keeps the scans.

A scan leaves the outbox only when the hub's ack for its id arrives. Unacked scans are sent
oldest first, re-sent on every reconnect and again RESEND_AFTER seconds after their last send,
with at most MAX_IN_FLIGHT sent and not yet answered at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from turnout.protocol import STATUS_HEARTBEAT_SECONDS

RESEND_AFTER = 30.0
MAX_IN_FLIGHT = 64
STATUS_MIN_INTERVAL = 1.0


@dataclass
class SendTimes:
    """When each pending scan was last sent (monotonic seconds). Lives in memory only:
    after a restart nothing counts as sent, so everything pending goes out again."""

    last_sent: dict[str, float] = field(default_factory=dict)

    def due(self, pending_ids: list[str], now: float, max_in_flight: int = MAX_IN_FLIGHT,
            resend_after: float = RESEND_AFTER) -> list[str]:
        """The ids to send now, oldest first. ``pending_ids`` is oldest first."""
        in_flight = sum(1 for i in pending_ids
                        if i in self.last_sent and now - self.last_sent[i] < resend_after)
        budget = max_in_flight - in_flight
        if budget <= 0:
            return []
        due = [i for i in pending_ids
               if i not in self.last_sent or now - self.last_sent[i] >= resend_after]
        return due[:budget]

    def worth_looking(self, now: float, max_in_flight: int = MAX_IN_FLIGHT,
                      resend_after: float = RESEND_AFTER) -> bool:
        """Whether reading the outbox could find something to send: half the in-flight room is
        free (refilled in batches, not one read per ack), or a send has gone unanswered too long."""
        in_flight = 0
        for at in self.last_sent.values():
            if now - at >= resend_after:
                return True
            in_flight += 1
        return in_flight <= max_in_flight // 2

    def sent(self, scan_id: str, now: float) -> None:
        self.last_sent[scan_id] = now

    def answered(self, scan_id: str) -> None:
        self.last_sent.pop(scan_id, None)

    def reconnected(self) -> None:
        """A new connection (or the hub back online): whatever was in flight may be lost."""
        self.last_sent.clear()


@dataclass
class StatusThrottle:
    """Republish the kiosk status when ``queued`` changes, at most once per interval, and at
    least once per heartbeat (the hub's sign that the kiosk is still connected)."""

    interval: float = STATUS_MIN_INTERVAL
    heartbeat: float = STATUS_HEARTBEAT_SECONDS
    published: tuple | None = None
    at: float = float("-inf")

    def should_publish(self, state: tuple, now: float, force: bool = False) -> bool:
        if state == self.published and not force and now - self.at < self.heartbeat:
            return False
        if not force and now - self.at < self.interval:
            return False
        self.published, self.at = state, now
        return True
