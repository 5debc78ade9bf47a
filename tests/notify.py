"""A notify socket bound as systemd binds one, for tests of what kiosk and hub tell systemd."""

from __future__ import annotations

import socket
import time
from pathlib import Path


class NotifySocket:
    """``$NOTIFY_SOCKET`` for a process under test: read its datagrams in the order sent."""

    def __init__(self, path: Path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(2)

    def recv(self, size: int = 4096) -> bytes:
        return self.sock.recv(size)

    def messages(self, until, what: str, timeout: float = 20.0) -> list[str]:
        """Datagrams up to and including the first one ``until`` accepts."""
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
            if until(got[-1]):
                return got
        raise AssertionError(f"no {what}; it sent {got[-10:]}")

    def close(self) -> None:
        self.sock.close()
