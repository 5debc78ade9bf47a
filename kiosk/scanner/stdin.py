"""Simulation's scanner: one code per line of text (stdin, a pipe, a file)."""

from __future__ import annotations

import logging
import os
from typing import Callable

log = logging.getLogger(__name__)

MAX_LINE = 4096  # bytes; a code is at most 64 characters, so a longer line is junk: cut it


def code_in(line: bytes) -> str | None:
    """The code a line holds: only the line ending is stripped (the rest is what was scanned).
    Bytes that are not UTF-8 become U+FFFD, which the code rules reject like any foreign code."""
    code = line.rstrip(b"\r\n").decode("utf-8", errors="replace")
    return code or None


class LineScanner:
    """Reads lines from a file descriptor when the daemon's loop sees it readable (no thread
    of its own), and calls `on_code` with each non-empty one and `on_eof` at the end.

    It never sets the descriptor non-blocking (a terminal shared with the shell would stay so):
    it reads once per readiness, which cannot block."""

    def __init__(self, fd: int, on_code: Callable[[str], None],
                 on_eof: Callable[[], None] | None = None) -> None:
        self.fd = fd
        self.on_code = on_code
        self.on_eof = on_eof
        self._buffer = b""
        self._ended = False

    def fileno(self) -> int:
        return self.fd

    def on_readable(self) -> None:
        if self._ended:
            return
        chunk = os.read(self.fd, 65536)
        if not chunk:
            self._ended = True
            self._deliver(self._buffer)  # a last line without its newline still counts
            self._buffer = b""
            if self.on_eof is not None:
                self.on_eof()
            return
        *lines, self._buffer = (self._buffer + chunk).split(b"\n")
        if len(self._buffer) > MAX_LINE:
            self._buffer = self._buffer[:MAX_LINE]
        for line in lines:
            self._deliver(line[:MAX_LINE])

    def _deliver(self, line: bytes) -> None:
        code = code_in(line)
        if code is None:
            return
        try:
            self.on_code(code)
        except Exception:
            log.exception("handling scanned code failed; still reading")

    def close(self) -> None:
        self._ended = True
