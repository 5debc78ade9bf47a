"""The results-email worker: a thread in ``turnout-hub serve`` that closes events whose day is
over, puts each closed event's emails in the outbox, and sends the outbox with retries.

Exactly once: an event's emails are written to the outbox in one transaction with the mark that
they were queued, and each email is marked sent in its own transaction right after the server
accepted it. A hub killed before that mark sends it again on restart, with the same Message-ID;
one killed after it never sends it again. Failures back off (30 s, 1, 2, 4 ... minutes, at most
an hour apart) until ``max_attempts``; a server's permanent refusal (5xx) is not retried.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import date as Date
from email.policy import SMTP
from email.utils import parseaddr

from hub.badges.issuer import Issuer
from hub.config import EmailSettings
from hub.mailer import PermanentFailure
from hub.results_email import Reached, ResultsNote, results_message
from hub.store import Event, Person, QueuedEmail, Store
from hub.unsubscribe import unsubscribe_token
from hub.web.i18n import language_tag, long_date, milestone_name, role_name, speaking
from turnout.i18n import translations

log = logging.getLogger("turnout.hub.email")

FIRST_RETRY = 30.0  # seconds
LONGEST_WAIT = 3600.0
TIMEOUT_ON_STOP = 40  # seconds: one SMTP exchange's timeout, and a little more
POLL = 5.0  # seconds between looks at the outbox and for closed events (`event close` in another process)


def retry_delay(attempts: int) -> float:
    """How long to wait after the ``attempts``-th failed try (1 -> 30 s, then doubling)."""
    return min(LONGEST_WAIT, FIRST_RETRY * 2 ** max(0, attempts - 1))


class EmailWorker:
    def __init__(self, store: Store, issuer: Issuer, settings: EmailSettings, mailer,
                 today: Callable[[], Date] = Date.today, poll: float = POLL,
                 clock: Callable[[], float] = time.time):
        self.store, self.issuer, self.settings, self.mailer = store, issuer, settings, mailer
        self.today, self.poll, self.clock = today, poll, clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    # --- running ---------------------------------------------------------------------------

    def start(self) -> "EmailWorker":
        self._thread = threading.Thread(target=self._run, name="turnout-email", daemon=True)
        self._thread.start()
        log.info("results emails go to %s", self.mailer.describe())
        return self

    def nudge(self) -> None:
        """Look now (an event was just closed)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(TIMEOUT_ON_STOP)

    def problem(self) -> str | None:
        """For the hub's watchdog: the worker's thread died (systemd restarts the hub)."""
        if self._thread is not None and not self._thread.is_alive() and not self._stop.is_set():
            return "the results-email worker stopped"
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.work_once()
                self.last_error = None
            except Exception as exc:  # the database was busy, say: log it and look again later
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("results emails: a round failed; trying again in %.0f s", self.poll)
            due = self.store.next_email_due() if self.last_error is None else None
            wait = self.poll if due is None else max(0.05, min(self.poll, due - self.clock()))
            self._wake.wait(wait)
            self._wake.clear()

    def work_once(self) -> int:
        """One round: close ended events, queue closed events' emails, send what is due.
        Returns how many emails were sent."""
        for event_id in self.store.close_ended_events(self.today().isoformat()):
            log.info("event %s closed at the end of its day: its results emails follow", event_id)
        for event in self.store.events_awaiting_emails():
            self.queue_event(event)
        return self.send_due()

    # --- queueing --------------------------------------------------------------------------

    def queue_event(self, event: Event) -> int:
        emails = []
        for person, roles in self.store.results_recipients(event.id):
            message_id = f"<results.{secrets.token_hex(12)}@{self._domain()}>"
            # The recipient's language, chosen now: the outbox keeps the message as composed.
            with speaking(person.language):
                note = self.note(event, person, roles)
            message = results_message(note, self.settings.sender, person.email, message_id,
                                      translations("hub", person.language))
            # 7-bit text with CRLF line ends, as SMTP sends it (smtplib passes bytes untouched)
            text = message.as_bytes(policy=SMTP.clone(cte_type="7bit")).decode("ascii")
            emails.append(QueuedEmail(person.badge, person.email, text, message_id))
        count = self.store.queue_emails(event.id, emails)
        log.info("event %s: %d results emails queued", event.id, count)
        return count

    def _domain(self) -> str:
        address = parseaddr(self.settings.sender)[1]
        return address.rpartition("@")[2] or "turnout.invalid"

    def note(self, event: Event, person: Person, roles: tuple[str, ...]) -> ResultsNote:
        base = self.issuer.base
        standing = self.store.standing(person.badge, person)
        credentials = {c.milestone: c for c in self.issuer.credentials_for(person)}
        reached = []
        for name, club in sorted(self.store.awarded(person.badge).items()):
            issued = credentials.get(name)
            if club.event == event.id and issued:
                key = issued.id.removeprefix("urn:uuid:")
                reached.append(Reached(milestone_name(name), f"{base}/credentials/{key}.json",
                                       f"{base}/credentials/{key}.png", f"{base}/verify"))
        nxt = standing.next_milestone
        return ResultsNote(
            service_name=self.issuer.service_name, first_name=person.first_name or person.name or "",
            event_name=event.name, event_date=long_date(event.date), event_url=f"{base}/events/{event.id}",
            roles=tuple(role_name(r) for r in roles), points=standing.points, attended=standing.attended,
            volunteered=standing.volunteered, next_milestone=milestone_name(nxt.name) if nxt else None,
            to_go=nxt.to_go if nxt else 0, next_is_helping=bool(nxt and nxt.kind != "attend"),
            reached=tuple(reached), page_url=f"{base}/people/{person.badge}",
            unsubscribe_url=f"{base}/unsubscribe/{unsubscribe_token(self.store, person.badge)}",
            lang=language_tag())

    # --- sending ---------------------------------------------------------------------------

    def send_due(self) -> int:
        sent = 0
        sender = parseaddr(self.settings.sender)[1]
        while not self._stop.is_set():
            due = self.store.due_emails(self.clock())
            if not due:
                break
            for email in due:
                if self._stop.is_set():
                    break
                try:
                    self.mailer.send(email.message, sender, email.address)
                except PermanentFailure as exc:
                    log.warning("results email to badge %s not sent, given up: %s", email.badge, exc)
                    self.store.email_failed(email.id, str(exc), None)
                    continue
                except Exception as exc:  # the server is down or slow: back off and retry
                    tries = email.attempts + 1
                    give_up = tries >= self.settings.max_attempts
                    wait = retry_delay(tries)
                    log.warning("results email to badge %s failed (try %d): %s; %s", email.badge, tries,
                                exc, "given up" if give_up else f"trying again in {wait:.0f} s")
                    self.store.email_failed(email.id, f"{type(exc).__name__}: {exc}",
                                            None if give_up else self.clock() + wait)
                    return sent  # the server is likely down for the rest too: wait
                self.store.email_sent(email.id)
                sent += 1
                log.info("results email for event %s sent to badge %s", email.event, email.badge)
        return sent
