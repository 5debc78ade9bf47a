"""The hub's word to systemd: READY=1 once the web server listens and ingest runs, then
WATCHDOG=1 only while both really work, so systemd restarts a hub that hangs, not just one
that dies.

The pings come from a small thread of their own, but only after it has checked the work:
the ingest loop turned recently and no batch sits in the intake for long (``Ingest.stuck``),
and the web server answered a request. A hung ingest or web server stops the pings.
"""

from __future__ import annotations

import http.client
import logging
import threading
from typing import Callable

from hub.ingest import STUCK_SECONDS
from turnout.systemd import ServiceManager

log = logging.getLogger("turnout.hub")

CHECK_SECONDS = 5.0  # how often the work is checked when systemd set no watchdog
WEB_TIMEOUT_SECONDS = 5.0
WEB_PATH = "/openapi.json"  # built once, then served from memory: a cheap question to the web server


def web_problem(host: str, port: int, path: str = WEB_PATH, timeout: float = WEB_TIMEOUT_SECONDS) -> str | None:
    """None when the web server answers a request (any status below 500), else what is wrong."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "localhost"})
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return f"the web server on port {port} does not answer ({exc or type(exc).__name__})"
    finally:
        conn.close()
    return None if status < 500 else f"the web server on port {port} answers {status}"


class HubWatch:
    """``start()`` once the web server is starting; ``stop()`` when the hub stops."""

    def __init__(self, service: ServiceManager, ingest, started: Callable[[], bool],
                 web_check: Callable[[], str | None], status: Callable[[], str],
                 stuck_after: float = STUCK_SECONDS,
                 other_checks: tuple[Callable[[], str | None], ...] = ()):
        self.service = service
        self.ingest = ingest
        self.started = started  # the web server listens
        self.web_check = web_check
        self.status = status
        self.stuck_after = stuck_after
        self.other_checks = other_checks  # the email worker's, say
        self.problem: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-watchdog", daemon=True)

    def start(self) -> "HubWatch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=WEB_TIMEOUT_SECONDS + 1)
        self.service.stopping()

    def check(self) -> str | None:
        """What stops the hub doing its work now, in words; None when all is well."""
        return (self.ingest.stuck(limit=self.stuck_after) or self.web_check()
                or next((p for p in (check() for check in self.other_checks) if p), None))

    def _run(self) -> None:
        while not self.started():
            if self._stop.wait(0.05):
                return
        self.service.ready(self.status())
        interval = min(CHECK_SECONDS, self.service.watchdog_interval or CHECK_SECONDS)
        while True:
            self._check_once()
            if self._stop.wait(interval):
                return

    def _check_once(self) -> None:
        problem = self.check()
        if problem is None:
            if self.problem is not None:
                log.info("the hub works again")
            self.problem = None
            self.service.watchdog()
            self.service.status(self.status())
            return
        if problem != self.problem:
            log.error("the hub is stuck: %s; systemd restarts it if this lasts", problem)
        self.problem = problem
        self.service.status(f"stuck: {problem}")


def hub_status(ingest, url: str) -> Callable[[], str]:
    def status() -> str:
        broker = "broker connected" if ingest.connected.is_set() else "broker not connected"
        waiting = ingest.waiting
        return f"serving {url}; {broker}; {waiting} message{'' if waiting == 1 else 's'} waiting"
    return status

