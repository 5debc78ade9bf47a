"""Draw screens off the scan loop: a full frame over I2C takes ~20 ms on a Pi, and the
loop must not wait for it. Only the latest screen matters, so older ones are skipped."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from kiosk.screens import Screen

log = logging.getLogger("turnout.kiosk.display")


class BackgroundDisplay:
    def __init__(self, show: Callable[[Screen], object]):
        self._show = show
        self._latest: Screen | None = None
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="display", daemon=True)
        self._thread.start()

    def show(self, screen: Screen) -> None:
        """Never blocks: hands the screen over and returns."""
        with self._wake:
            self._latest = screen
            self._wake.notify()

    def close(self, timeout: float = 2.0) -> None:
        """Draw whatever is still waiting, then stop."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._latest is None and not self._closed:
                    self._wake.wait()
                screen, self._latest = self._latest, None
                closed = self._closed
            if screen is not None:
                try:
                    self._show(screen)
                except Exception as exc:  # a loose OLED wire must not stop the kiosk
                    log.error("display failed: %s", exc)
            if closed and screen is None:
                return
