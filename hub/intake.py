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

from hub.rules import Rules
from hub.scoring import Standing, club_changes, score_roles
from hub.store import ERASED_PREFIX, NewScan, Person, Store, StoredScan, utc_now
from hub.storage.database import is_passing_failure
from hub.validate import (Reason, Refusal, check_annulment, check_day, check_scan, peek_id,
                          read_scan, read_status)
from turnout.protocol import Ack, AckStatus, PersonSummary, Scan, Topics, is_kiosk_id

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
    refused: str | None = None  # why it was refused, even when there was no id to answer


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

    def read(self, event_ids: Iterable[object]) -> None:
        """Ask about a batch's events in one query rather than one each."""
        wanted = {e for e in event_ids if isinstance(e, str) and e not in self.dates}
        if wanted:
            self.dates.update(self.store.event_dates(wanted))


@dataclass(frozen=True)
class _Arrival:
    """One message, where it came from and what it says (a Scan, or why it is not one)."""

    kiosk: str | None
    message: Message
    received_at: str
    read: Scan | Refusal


class _BatchView:
    """What a batch needs to know about its badges, read in a few queries up front and kept
    current in memory as the batch goes, instead of several round trips per scan. It lives
    inside the batch's transaction, so nothing else writes these rows meanwhile.

    A badge's standing needs only its tally: how many scans that still count it has per
    (event, role). Scans named by the batch (its own ids, and what its undos undo) are read too,
    to answer re-sends and to take an undone scan out of the tally."""

    def __init__(self, store: Store, rules: Rules, scans: list[Scan]):
        badges = {scan.badge for scan in scans}
        store.lock_badges(badges)  # another worker scoring one of these badges waits, or we do
        self.store, self.rules = store, rules
        self.tallies = store.badge_tallies(badges)
        self.people = store.people_by_badge(badges)
        self.awarded = store.awarded_by_badge(badges)
        self.stored = store.stored_scans([s.id for s in scans] + [s.annuls for s in scans if s.annuls])
        self.undone = store.undone_scans(s.id for s in scans if s.annuls is None)  # (id, badge)
        self._standings: dict[str, Standing] = {}
        self._new: dict[str, NewScan] = {}  # stored in one go, at the end

    def person(self, badge: str) -> Person | None:
        return self.people[badge] if badge in self.people else self.store.person(badge)

    def standing(self, badge: str) -> Standing:
        if badge not in self.tallies:
            return self.store.standing(badge)
        person, tally = self.person(badge), self.tallies[badge]
        return score_roles(badge, tally.counts, tally.dates, self.rules,
                           junior=bool(person and person.junior))

    def counted(self, scan: Scan) -> bool:
        """Does a scan that still counts already record this badge doing this role here?"""
        return (scan.event, scan.role) in self.tallies[scan.badge].counts

    def add(self, scan: Scan, received_at: str, status: AckStatus, event_date: str) -> None:
        """Store a scan (its id is new) and bring the tally up to date."""
        tally = self.tallies[scan.badge]
        undone = scan.annuls is None and (scan.id, scan.badge) in self.undone  # its undo came first
        self._new[scan.id] = NewScan(scan, received_at, str(status), undone)
        if scan.annuls is None:
            if not undone:
                tally.add(scan.event, scan.role, event_date)
        else:
            self.undone.add((scan.annuls, scan.badge))
            target = self.stored.get(scan.annuls)
            if target and target.badge == scan.badge and target.annuls is None and not target.annulled:
                tally.remove(target.event, target.role)
                self.stored[scan.annuls] = target._replace(annulled=True)
        self.stored[scan.id] = StoredScan(scan.badge, scan.event, scan.role, scan.annuls, undone,
                                          str(status), None)

    def keep_standing(self, standing: Standing) -> None:
        self._standings[standing.badge] = standing  # written once per badge, at the end

    def settle_clubs(self, scan: Scan, standing: Standing) -> str | None:
        """Bring the badge's clubs on record in line with its standing; the club to announce
        on the kiosk, if this scan reached one."""
        awarded = self.awarded[scan.badge]
        changes = club_changes(standing, awarded)
        if not (changes.fresh or changes.moved or changes.lost):
            return None
        self.store.settle_clubs(scan.badge, changes)
        for name in changes.lost:
            del awarded[name]
        awarded.update((m.name, m) for m in changes.fresh + changes.moved)
        if not changes.fresh:
            return None
        milestone = ([m for m in changes.fresh if m.event == scan.event] or changes.fresh)[0].name
        self._new[scan.id].milestone = milestone
        self.stored[scan.id] = self.stored[scan.id]._replace(milestone=milestone)
        return milestone

    def flush(self) -> None:
        """Write what the batch made: its scans, then the standings."""
        if self.store.insert_scans(list(self._new.values())) != len(self._new):
            raise RuntimeError("a scan of this batch was stored meanwhile")  # redone one by one
        self._new.clear()
        if self._standings:
            self.store.save_standings(self._standings.values())
            self._standings.clear()


class Intake:
    def __init__(self, store: Store, topics: Topics | None = None):
        self.store = store
        self.topics = topics or Topics()
        self._events = _KnownEvents(store)
        self._rules = store.rules()
        self._seen_kiosks: dict[str, str] = {}  # kiosk -> last scan time, written once per batch
        self._details: list[str] = []  # one readable line per stored scan, for the log

    def receive(self, topic: str, payload: bytes, received_at: str | None = None) -> Answer:
        return self.receive_batch([Message(topic, payload, received_at or utc_now())])[0]

    def receive_batch(self, messages: Iterable[Message]) -> list[Answer]:
        """Store a batch in one transaction and return one answer per message, in order."""
        messages = list(messages)
        self._rules = self.store.reload_rules()  # roles edited elsewhere apply from the next batch
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
            # Before any refusal is counted against a kiosk.
            self.store.note_kiosks({self._kiosk_of(m.topic) for m in messages} - {None})
            if guarded:  # every badge locked up front, in order, as an unguarded batch does
                self.store.lock_badges(self._badges_in(messages))
                answers = [self._one(m) for m in messages]
            else:
                arrivals = [self._arrival(m) for m in messages]
                self._events.read(a.read.event for a in arrivals if isinstance(a.read, Scan))
                view = self._view([a.read for a in arrivals])
                answers = [self._scan(a, view) for a in arrivals]
                view.flush()
            self.store.kiosks_seen(self._seen_kiosks)  # once per kiosk, not per scan
        return answers

    def _badges_in(self, messages: list[Message]) -> set[str]:
        badges = set()
        for message in messages:
            try:
                read = self._arrival(message).read
            except Exception:  # noqa: BLE001 - _one quarantines it with the reason
                continue
            if isinstance(read, Scan):
                badges.add(read.badge)
        return badges

    def _view(self, reads: list[Scan | Refusal]) -> _BatchView:
        return _BatchView(self.store, self._rules, [r for r in reads if isinstance(r, Scan)])

    def _arrival(self, message: Message) -> _Arrival:
        """Which kiosk sent it (from the topic), when it arrived, and what it says."""
        kiosk = self._kiosk_of(message.topic)
        read = read_scan(message.payload, kiosk) if kiosk is not None \
            else Refusal("not a kiosk scan topic", None)
        received_at = message.received_at or utc_now()
        if kiosk is not None:  # a kiosk shows up for organisers even when nothing it sends counts
            self._seen_kiosks[kiosk] = received_at
        return _Arrival(kiosk, message, received_at, read)

    def _kiosk_of(self, topic: str) -> str | None:
        """The kiosk a scan topic names, if it is a kiosk's scan topic."""
        where = self.topics.kiosk_of(topic)
        return where[0] if where and where[1] == "scan" and is_kiosk_id(where[0]) else None

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
        kiosk, received_at = None, message.received_at or utc_now()
        try:
            with self.store.db.savepoint():
                arrival = self._arrival(message)
                kiosk = arrival.kiosk
                view = self._view([arrival.read])
                answer = self._scan(arrival, view)
                view.flush()
                return answer
        except Exception as exc:  # a bug must cost one message, never the hub
            if is_passing_failure(exc):
                raise  # the database, not the message: the whole batch is tried again, none refused
            log.exception("could not process a message from kiosk %s; it is kept in quarantine", kiosk)
            reason = f"hub could not process it ({type(exc).__name__})"
            # Answered all the same, so the kiosk stops re-sending what can never be stored.
            return self._refuse(kiosk, message, received_at, Refusal(reason, peek_id(message.payload)))

    def _scan(self, arrival: _Arrival, view: _BatchView) -> Answer:
        kiosk, message, received_at, scan = arrival.kiosk, arrival.message, arrival.received_at, arrival.read
        if isinstance(scan, Refusal):
            return self._refuse(kiosk, message, received_at, scan)
        prior = view.stored.get(scan.id)
        if prior is not None:
            if self._same_scan(scan, prior):  # a re-send: the same answer as the first time
                return Answer(kiosk, Ack(scan.id, AckStatus(prior.status),
                                         person=self._summary(prior.badge, view),
                                         milestone=prior.milestone))
            reason = f"{Reason.ID_REUSED}: {scan.id}"
        else:
            reason = check_scan(scan, self._rules.roles, self._events)
        if reason is None and view.person(scan.badge) is None:
            # Only badges this hub issued (registered, or printed blank for the door) count: a
            # stray code with a valid check digit must not become a person or move the numbering.
            reason = f"{Reason.NOT_ISSUED}: {scan.badge}"
        if reason is None:
            reason = check_day(scan, self._events.date(scan.event))
        if reason is None and scan.annuls is not None:
            target = view.stored.get(scan.annuls)
            reason = check_annulment(scan, *((target.badge, target.role) if target else (None, None)))
        if reason is not None:
            return self._refuse(kiosk, message, received_at, Refusal(reason, scan.id), is_scan=True)
        return Answer(kiosk, self._store_scan(scan, received_at, view))

    def _same_scan(self, scan: Scan, prior: StoredScan) -> bool:
        """Is this the scan stored under its id (sent again), not another one reusing the id?
        Its badge may since have been merged into another, or erased."""
        if (scan.event, scan.role, scan.annuls) != (prior.event, prior.role, prior.annuls):
            return False
        return prior.badge == scan.badge or prior.badge.startswith(ERASED_PREFIX) \
            or self.store.merged_into(scan.badge) == prior.badge

    def _store_scan(self, scan: Scan, received_at: str, view: _BatchView) -> Ack:
        person = view.person(scan.badge)  # issued: checked in _scan
        counted_already = scan.annuls is None and view.counted(scan)
        status = AckStatus.DUPLICATE if counted_already else AckStatus.ACCEPTED
        view.add(scan, received_at, status, self._events.date(scan.event))
        standing = view.standing(scan.badge)
        milestone = None
        if status is AckStatus.ACCEPTED:
            view.keep_standing(standing)
            if person is not None and person.claimed:
                milestone = view.settle_clubs(scan, standing)
                if milestone:
                    log.info("%s reached the %s at %s", scan.badge, milestone, scan.event)
        what = f"undo of {scan.annuls}" if scan.annuls else scan.role
        self._details.append(f"kiosk {scan.kiosk}: {scan.badge} {what} at {scan.event}, {status}")
        return Ack(scan.id, status, person=self._summary_of(person, standing), milestone=milestone)

    @staticmethod
    def _summary(badge: str, view: _BatchView) -> PersonSummary | None:
        person = view.person(badge)
        if person is None or not person.claimed:
            return None
        return Intake._summary_of(person, view.standing(badge))

    @staticmethod
    def _summary_of(person, standing) -> PersonSummary | None:
        if person is None or not person.claimed:
            return None  # not registered yet: the scan counts once the badge is claimed
        return PersonSummary(name=person.first_name, points=standing.points,
                             events=standing.attended, next_milestone=standing.next_milestone)

    def _refuse(self, kiosk: str | None, message: Message, received_at: str,
                refusal: Refusal, is_scan: bool = False) -> Answer:
        kept = self.store.quarantine(message.topic, message.payload, refusal.reason, received_at,
                                     kiosk=kiosk, scan_id=refusal.scan_id, is_scan=is_scan)
        if kept is not None:
            log.warning("kiosk %s: refused a scan (%s); kept in quarantine", kiosk or "?", refusal.reason)
        else:  # a flood: a line per message would flood the journal too
            log.debug("kiosk %s: refused a scan (%s); counted only", kiosk or "?", refusal.reason)
        if refusal.scan_id is None or kiosk is None:
            return Answer(kiosk, None, refusal.reason)
        return Answer(kiosk, Ack(refusal.scan_id, AckStatus.REJECTED, reason=refusal.reason), refusal.reason)

    # -- kiosk status and organisers' fixes --

    def receive_status(self, topic: str, payload: bytes) -> None:
        """Record a kiosk's retained status or last will; anything malformed is just logged."""
        where = self.topics.kiosk_of(topic)
        if not where or where[1] != "status" or not is_kiosk_id(where[0]) or not payload:
            return
        kiosk_id, data = where[0], read_status(payload)
        if data is None:
            log.warning("kiosk %s sent a status the hub cannot read; ignored", kiosk_id)
            return
        before = self.store.kiosk(kiosk_id)
        state, event, queued = data["state"], data.get("event"), data.get("queued")
        if not self.store.record_kiosk_status(kiosk_id, state, version=data.get("version"),
                                              queued=queued, event=event):
            log.debug("kiosk %s is not known and the hub has no room for more; status ignored", kiosk_id)
            return
        # Kiosks republish their status whenever their queue moves: a line only when it matters.
        changed = before is None or (before.state, before.reported_event) != (state, event)
        log.log(logging.INFO if changed else logging.DEBUG, "kiosk %s is %s, counting for %s (%s scans waiting)",
                kiosk_id, state, event or "no event", queued if queued is not None else "?")

    def reassign(self, item_id: int, event_id: str) -> Ack:
        """Count a quarantined scan at the right event (it was refused for its event)."""
        item = self.store.quarantined_item(item_id)
        if item.resolved_at is not None:
            raise ValueError(f"quarantine {item_id} was already resolved: {item.resolution}")
        if item.cut_short:
            raise ValueError(f"quarantine {item_id} kept only the start of the message")
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
