"""The kiosk's sense of time. A Pi has no real-time clock: until NTP has synchronised, the
wall clock may be days out, so every scan says whether it was (``clock_ok``)."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

from kiosk.machine import Now

# systemd-timesyncd touches this file once it has synchronised the clock.
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
RECHECK_SECONDS = 60.0


def clock_synchronised() -> bool:
    if TIMESYNC_FLAG.exists():
        return True
    try:
        out = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                             capture_output=True, text=True, timeout=2).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return out.strip() == "yes"


class KioskClock:
    """Call it for a ``Now``; the synchronisation check is cached, not run per scan."""

    def __init__(self, assume_ok: bool | None = None):
        self.assume_ok = assume_ok
        self._ok = assume_ok if assume_ok is not None else clock_synchronised()
        self._checked = time.monotonic()

    def __call__(self) -> Now:
        mono = time.monotonic()
        if self.assume_ok is None and not self._ok and mono - self._checked > RECHECK_SECONDS:
            self._ok, self._checked = clock_synchronised(), mono
        return Now(mono=mono, wall=datetime.now(timezone.utc), clock_ok=self._ok)
