"""The hub's intake in a process of its own: batches of kiosk messages in, answers out.

Reading MQTT packets and publishing acks is Python work, and so is checking, storing and
scoring scans; in one process they take turns on one core. With the intake here, the ingest
thread reads the next batch and answers the one before while this process stores the current
one, on another core. Nothing is acknowledged to the broker until the answers come back, so a
worker that dies loses nothing: its batch is sent again to a new one, and scans are stored
idempotently by id.
"""

from __future__ import annotations

import logging
import multiprocessing
from multiprocessing.connection import Connection

from hub.rules import Rules
from turnout.protocol import Topics

log = logging.getLogger("turnout.hub")


# What crosses the pipe is plain tuples: they pickle several times quicker than dataclasses.
Arrived = tuple[str, bytes, str]  # a message: topic, payload, when it arrived
# Its answer: to which kiosk, the ack (None: no id), the status ("rejected", ...), and why it was
# refused, as the reason's first words (a fixed set: see hub.validate.Reason), for the metrics.
Answered = tuple[str | None, bytes | None, str, str | None]


class WorkerLost(RuntimeError):
    """The intake process died (or was killed) with a batch in hand."""


class BatchFailed(RuntimeError):
    """The intake could not store a batch (the database is busy or full); try it again."""


class IntakeWorker:
    """One intake process: ``submit(batch)``, then ``answers()`` once it is readable (it can
    be passed to select())."""

    def __init__(self, location: str, rules: Rules, topics: Topics, log_level: int = logging.INFO):
        self._args = (location, rules, topics.base, log_level)
        self._start()

    def _start(self) -> None:
        # spawn, not fork: the hub process has threads (web server, ingest) a fork would copy mid-step
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._proc = context.Process(target=_serve, args=(child, *self._args), name="turnout-intake",
                                     daemon=True)
        self._proc.start()
        child.close()

    def fileno(self) -> int:
        """The pipe the answers come back on, for select()."""
        return self._conn.fileno()

    def submit(self, messages: list[Arrived]) -> None:
        try:
            self._conn.send(messages)
        except OSError as exc:
            raise WorkerLost(f"the intake process is gone ({exc})") from exc

    def answers(self) -> list[Answered]:
        """The answers to the batch submitted, one per scan message in order; waits for them."""
        try:
            kind, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerLost(f"the intake process stopped (exit code {self._proc.exitcode})") from exc
        if kind == "failed":
            raise BatchFailed(value)
        return value

    def restart(self) -> None:
        self._proc.kill()
        self._proc.join(5)
        self._conn.close()
        self._start()

    def stop(self) -> None:
        try:
            self._conn.send(None)
        except OSError:
            pass
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._conn.close()


def _serve(conn: Connection, location: str, rules: Rules, base_topic: str, log_level: int) -> None:
    """The worker process: store each batch that comes, send back its answers, until None."""
    from hub.intake import Intake
    from hub.store import Store

    from turnout import logs

    logs.setup(log_level)
    store = Store(location, rules=rules)
    intake = Intake(store, Topics(base_topic))
    try:
        while (batch := conn.recv()) is not None:
            try:
                conn.send(("answered", _answer(intake, batch)))
            except Exception as exc:  # the database is busy or full: the ingest thread retries
                log.exception("could not store a batch of %d messages", len(batch))
                conn.send(("failed", f"{type(exc).__name__}: {exc}"))
    except (EOFError, KeyboardInterrupt):
        pass  # the hub went away
    finally:
        store.close()


def _answer(intake, batch: list[Arrived]) -> list[Answered]:
    from hub.intake import Message

    answers = intake.receive_batch([Message(*m) for m in batch if m[0].endswith("/scan")])
    for topic, payload, _ in batch:
        if not topic.endswith("/scan"):
            try:
                intake.receive_status(topic, payload)
            except Exception:
                log.exception("could not record a kiosk status")
    return [(a.kiosk, a.ack.to_json() if a.ack is not None else None,
             str(a.ack.status) if a.ack is not None else "rejected",
             a.refused.split(":", 1)[0] if a.refused else None) for a in answers]
