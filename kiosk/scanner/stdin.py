"""Simulation's scanner: one code per line of text (stdin, a pipe, a file)."""

from __future__ import annotations

import logging
import threading
from typing import Callable, TextIO

log = logging.getLogger(__name__)


class StdinScanner:
    """Reads lines from `stream` on a daemon thread and calls `on_code` with each non-empty one."""

    def __init__(self, stream: TextIO, on_code: Callable[[str], None],
                 on_eof: Callable[[], None] | None = None) -> None:
        self.stream = stream
        self.on_code = on_code
        self.on_eof = on_eof
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="StdinScanner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for line in iter(self.stream.readline, ""):
            if self._closed.is_set():
                return
            code = line.rstrip("\r\n")  # only the line ending: the rest is what was "scanned"
            if not code:
                continue
            try:
                self.on_code(code)
            except Exception:
                log.exception("handling scanned code failed; still reading")
        if not self._closed.is_set() and self.on_eof is not None:
            self.on_eof()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the end of input; False if `timeout` ran out first."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        """Stop delivering codes. A read already waiting on a terminal cannot be interrupted;
        the thread is a daemon, so it never holds up exit."""
        self._closed.set()
