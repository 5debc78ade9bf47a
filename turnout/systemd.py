"""Telling systemd how a service is doing: the ``$NOTIFY_SOCKET`` datagram protocol (sd_notify(3)).

A ``Type=notify`` unit is started once the service says ``READY=1``; with ``WatchdogSec=`` it is
killed and restarted when ``WATCHDOG=1`` stops coming, so the loop doing the service's work
must send it, never a side thread that would go on while the loop hangs. ``STATUS=`` is the
line ``systemctl status`` shows.

Our own few lines, not python3-systemd: one code path on every machine (that package is not
on PyPI as a wheel), tested against a real socket. Outside systemd (no ``$NOTIFY_SOCKET``)
every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Callable, Mapping

log = logging.getLogger("turnout.systemd")


class ServiceManager:
    """The service manager that started this process, if any (``from_environment()``)."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None,
                 clock: Callable[[], float] = time.monotonic):
        # A leading "@" names a socket in the abstract namespace (a leading NUL byte).
        self.address = "\0" + address[1:] if address and address.startswith("@") else address
        # Half the watchdog's timeout: a ping is due well before systemd would give up on us.
        self.watchdog_interval = watchdog_usec / 2_000_000 if watchdog_usec else None
        self.clock = clock
        self._socket: socket.socket | None = None
        self._last_ping = float("-inf")
        self._status: str | None = None
        self._failed = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "ServiceManager":
        """What systemd put in the environment: the socket, and the watchdog's timeout when it
        is meant for this process ($WATCHDOG_PID names it; a child that inherited it is not)."""
        env = os.environ if environ is None else environ
        usec = None
        try:
            if int(env.get("WATCHDOG_PID") or os.getpid()) == os.getpid():
                usec = int(env.get("WATCHDOG_USEC") or 0) or None
        except ValueError:
            log.warning("ignoring a watchdog setting that is not a number: WATCHDOG_USEC=%r WATCHDOG_PID=%r",
                        env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID"))
        return cls(env.get("NOTIFY_SOCKET") or None, usec)

    @property
    def present(self) -> bool:
        return bool(self.address)

    def ready(self, status: str | None = None) -> None:
        """Started: systemd marks the unit active and starts what waits for it."""
        self._send("READY=1", *self._status_lines(status))

    def status(self, text: str) -> None:
        """The one line ``systemctl status`` shows; sent only when it changes."""
        lines = self._status_lines(text)
        if lines:
            self._send(*lines)

    def watchdog(self) -> bool:
        """Call from the loop doing the work, as often as you like: a ``WATCHDOG=1`` goes out
        when one is due (half the watchdog's timeout since the last). True when one was sent."""
        if self.watchdog_interval is None or not self.present:
            return False
        now = self.clock()
        if now - self._last_ping < self.watchdog_interval:
            return False
        self._last_ping = now
        return self._send("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> None:
        self._send("STOPPING=1", *self._status_lines(status))

    def _status_lines(self, text: str | None) -> list[str]:
        if text is None:
            return []
        text = " ".join(text.split())  # one line: a newline would start another field
        if text == self._status:
            return []
        self._status = text
        return ["STATUS=" + text]

    def _send(self, *lines: str) -> bool:
        if not self.present or not lines:
            return False
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.sendto("\n".join(lines).encode(), self.address)
        except OSError as exc:  # systemd going away at shutdown: nothing to tell, nothing to stop for
            if not self._failed:
                log.warning("could not tell systemd %s (%s)", lines[0], exc)
                self._failed = True
            return False
        self._failed = False
        return True

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

