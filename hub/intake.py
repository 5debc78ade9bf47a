"""What the hub does with each message from a kiosk, whatever carried it (MQTT, a test, the seed).

For every scan message: read it, check it, store it (or quarantine it with the reason), re-score
the person, and answer with an ``Ack``. A batch is stored in one transaction and answered only
after it commits, so an ack always means "this is on disk".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from hub.scoring import CountedScan, counted_triples, newly_reached, score_person
from hub.store import Store, StoredAnswer, utc_now
from hub.validate import Reason, Refusal, check_annulment, check_day, check_scan, read_scan
from turnout.protocol import (Ack, AckStatus, Availability, PersonSummary, Scan, Topics,
                              is_kiosk_id)

log = logging.getLogger("turnout.hub")


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    received_at: str = ""


@dataclass(frozen=True)
class Answer:
    """The ack to publish (None when the message had no id to answer) and to which kiosk."""

    kiosk: str | None
    ack: Ack | None


class _KnownEvents:
    """Event ids (and dates) the hub knows, asking the database about ones not seen yet."""

    def __init__(self, store: Store):
        self.store, self.dates = store, {}

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, str) and self.date(event_id) is not None

    def date(self, event_id: str) -> str | None:
        if event_id not in self.dates:
            found = self.store.event_date(event_id)
            if found is None:
                return None
            self.dates[event_id] = found
        return self.dates[event_id]

    def forget(self) -> None:
        self.dates.clear()  # an organiser may have changed a date


class Intake:
    def __init__(self, store: Store, topics: Topics | None = None):
        self.store = store
        self.topics = topics or Topics()
        self._events = _KnownEvents(store)
        self._seen_kiosks: dict[str, str] = {}  # kiosk -> last scan time, written once per batch
        self._details: list[str] = []  # one readable line per stored scan, for the log

    def receive(self, topic: str, payload: bytes, received_at: str | None = None) -> Answer:
        return self.receive_batch([Message(topic, payload, received_at or utc_now())])[0]

    def receive_batch(self, messages: Iterable[Message]) -> list[Answer]:
        """Store a batch in one transaction and return one answer per message, in order."""
        messages = list(messages)
        self.store.reload_rules()  # roles edited elsewhere apply from the next batch
        try:
            answers = self._store_batch(messages, guarded=False)
        except Exception:  # something in the batch tripped a bug: redo it one message at a time
            log.warning("a batch of %d scans failed; storing them one by one", len(messages))
            answers = self._store_batch(messages, guarded=True)
        self._log_batch(answers)
        return answers

    def _store_batch(self, messages: list[Message], guarded: bool) -> list[Answer]:
        self._seen_kiosks, self._details = {}, []
        self._events.forget()
        with self.store.transaction():
            answers = [self._one(m) if guarded else self._scan(*self._place(m)) for m in messages]
            for kiosk, seen_at in self._seen_kiosks.items():  # once per kiosk, not per scan
                self.store.ensure_kiosk(kiosk)
                self.store.kiosk_seen(kiosk, seen_at)
        return answers

    def _place(self, message: Message) -> tuple[str | None, Message, str]:
        """Which kiosk sent it (from the topic) and when it arrived."""
        where = self.topics.kiosk_of(message.topic)
        kiosk = where[0] if where and where[1] == "scan" and is_kiosk_id(where[0]) else None
        return kiosk, message, message.received_at or utc_now()

    def _log_batch(self, answers: list[Answer]) -> None:
        """A line per scan when they come one by one; a summary per batch in a rush."""
        if len(self._details) <= 3:
            for line in self._details:
                log.info(line)
            return
        for line in self._details:
            log.debug(line)
        counts: dict[str, int] = {}
        for a in answers:
            if a.ack is not None and a.ack.status is not AckStatus.REJECTED:
                counts[str(a.ack.status)] = counts.get(str(a.ack.status), 0) + 1
        if counts:
            kiosks = sorted({a.kiosk for a in answers if a.kiosk})
            log.info("stored %s from kiosk %s", ", ".join(f"{n} {s}" for s, n in counts.items()),
                     ", ".join(kiosks))

    def _one(self, message: Message) -> Answer:
        """One message in its own savepoint, so a bug costs that message and not the batch."""
        kiosk, message, received_at = self._place(message)
        try:
            with self.store.db.savepoint():
                return self._scan(kiosk, message, received_at)
        except Exception as exc:  # a bug must cost one message, never the hub
            log.exception("could not process a message from kiosk %s; it is kept in quarantine", kiosk)
            reason = f"hub could not process it ({type(exc).__name__})"
            return self._refuse(kiosk, message, received_at, Refusal(reason, None))

    def _scan(self, kiosk: str | None, message: Message, received_at: str) -> Answer:
        if kiosk is None:
            return self._refuse(None, message, received_at, Refusal("not a kiosk scan topic", None))
        read = read_scan(message.payload, kiosk)
        if isinstance(read, Refusal):
            return self._refuse(kiosk, message, received_at, read)
        scan = read
        history = self.store.badge_history(scan.badge)
        prior = history[2].get(scan.id)
        if prior is not None:  # a re-send: same answer as the first time
            return Answer(kiosk, self._answer_again(scan.id, prior))
        reason = check_scan(scan, self.store.rules().roles, self._events)
        if reason is None and self.store.person(scan.badge) is None:
            # Only badges this hub issued (registered, or printed blank for the door) count: a
            # stray code with a valid check digit must not become a person or move the numbering.
            reason = f"{Reason.NOT_ISSUED}: {scan.badge}"
        if reason is None:
            reason = check_day(scan, self._events.date(scan.event))
        if reason is None and scan.annuls is not None:
            target = self.store.scan_target(scan.annuls)
            reason = check_annulment(scan, *(target or (None, None)))
        if reason is not None:
            return self._refuse(kiosk, message, received_at, Refusal(reason, scan.id))
        return Answer(kiosk, self._store_scan(scan, received_at, history))

    def _answer_again(self, scan_id: str, prior: StoredAnswer) -> Ack:
        return Ack(scan_id, AckStatus(prior.status), person=self._summary(prior.badge),
                   milestone=prior.milestone)

    def _store_scan(self, scan: Scan, received_at: str,
                    history: tuple[list[CountedScan], dict[str, str], dict]) -> Ack:
        store = self.store
        scans, dates, _ = history
        person = store.person(scan.badge)  # issued: checked in _scan
        counted_already = scan.annuls is None and \
            (scan.event, scan.badge, scan.role) in counted_triples(scans)
        status = AckStatus.DUPLICATE if counted_already else AckStatus.ACCEPTED
        if not store.insert_scan(scan, received_at, str(status)):  # the id was used by another badge
            return self._answer_again(scan.id, store.scan_answer(scan.id))
        self._seen_kiosks[scan.kiosk] = received_at
        scans.append(CountedScan(scan.id, scan.event, scan.badge, scan.role, scan.annuls))
        dates[scan.event] = self._events.date(scan.event)
        standing = score_person(scan.badge, scans, dates, store.rules(),
                                junior=bool(person and person.junior))
        milestone = None
        if status is AckStatus.ACCEPTED:
            store.save_standing(standing)
            if person is not None and person.claimed and standing.milestones:
                fresh = newly_reached(standing, store.awarded(scan.badge))
                if fresh:
                    store.award(scan.badge, fresh)
                    here = [m for m in fresh if m.event == scan.event] or fresh
                    milestone = here[0].name
                    store.set_scan_milestone(scan.id, milestone)
                    log.info("%s reached the %s at %s", scan.badge, milestone, scan.event)
        what = f"undo of {scan.annuls}" if scan.annuls else scan.role
        self._details.append(f"kiosk {scan.kiosk}: {scan.badge} {what} at {scan.event}, {status}")
        return Ack(scan.id, status, person=self._summary_of(person, standing), milestone=milestone)

    def _summary(self, badge: str) -> PersonSummary | None:
        person = self.store.person(badge)
        if person is None or not person.claimed:
            return None
        return self._summary_of(person, self.store.standing(badge))

    @staticmethod
    def _summary_of(person, standing) -> PersonSummary | None:
        if person is None or not person.claimed:
            return None  # not registered yet: the scan counts once the badge is claimed
        return PersonSummary(name=person.first_name, points=standing.points,
                             events=standing.attended, next_milestone=standing.next_milestone)

    def _refuse(self, kiosk: str | None, message: Message, received_at: str,
                refusal: Refusal) -> Answer:
        self.store.quarantine(message.topic, message.payload, refusal.reason, received_at,
                              kiosk=kiosk, scan_id=refusal.scan_id)
        log.warning("kiosk %s: refused a scan (%s); kept in quarantine", kiosk or "?", refusal.reason)
        if refusal.scan_id is None or kiosk is None:
            return Answer(kiosk, None)
        return Answer(kiosk, Ack(refusal.scan_id, AckStatus.REJECTED, reason=refusal.reason))

    # -- kiosk status and organisers' fixes --

    def receive_status(self, topic: str, payload: bytes) -> None:
        """Record a kiosk's retained status or last will; anything malformed is just logged."""
        where = self.topics.kiosk_of(topic)
        if not where or where[1] != "status" or not is_kiosk_id(where[0]) or not payload:
            return
        try:
            data = json.loads(payload)
            state = Availability(data["state"])
            queued = data.get("queued")
            queued = queued if isinstance(queued, int) and not isinstance(queued, bool) else None
            version = data.get("version") if isinstance(data.get("version"), str) else None
        except (ValueError, KeyError, TypeError):
            log.warning("kiosk %s sent a status the hub cannot read", where[0])
            return
        self.store.record_kiosk_status(where[0], str(state), version=version, queued=queued)
        log.info("kiosk %s is %s (%s scans waiting)", where[0], state, queued if queued is not None else "?")

    def reassign(self, item_id: int, event_id: str) -> Ack:
        """Count a quarantined scan at the right event (it was refused for its event)."""
        item = self.store.quarantined_item(item_id)
        if item.resolved_at is not None:
            raise ValueError(f"quarantine {item_id} was already resolved: {item.resolution}")
        if not self.store.has_event(event_id):
            raise LookupError(f"no event {event_id}")
        try:
            data = json.loads(item.payload)
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            raise ValueError(f"quarantine {item_id} is not a readable scan") from None
        data["event"] = event_id
        with self.store.transaction():
            answer = self._one(Message(item.topic, json.dumps(data).encode(), utc_now()))
            if answer.ack is None:
                raise ValueError(f"quarantine {item_id} has no scan id")
            if answer.ack.status is AckStatus.REJECTED:
                raise ValueError(f"still refused: {answer.ack.reason}")  # rolls back the new refusal
            self.store.resolve_quarantined(item_id, f"reassigned to {event_id}: {answer.ack.status}")
        return answer.ack
