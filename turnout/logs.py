"""Log lines for people and for journald, set up the same way by the kiosk and the hub.

Under systemd, stderr goes to the journal; journald then reads a ``<N>`` prefix on each line as
the line's priority (sd-daemon(3)), so ``journalctl -p warning -u turnout-hub`` shows only what
needs attention, and the journal adds the time itself. In a terminal, lines carry the time and
level instead.
"""

from __future__ import annotations

import logging
import os
import sys

# syslog priorities, as journald reads them
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


class JournalFormatter(logging.Formatter):
    """``<priority>message``; a message of several lines is one journal entry per line, each
    with the priority, so a traceback stays at its level."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6 if record.levelno < logging.WARNING else 3)
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines() or [""])


def to_journal(stream=None) -> bool:
    """Is this stream (stderr) connected to the journal? systemd says so in $JOURNAL_STREAM."""
    stream = stream or sys.stderr
    expected = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return expected == f"{st.st_dev}:{st.st_ino}"


def setup(level: int | str = logging.INFO, stream=None, terminal_format: str = "%(asctime)s %(levelname)s %(message)s") -> None:
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JournalFormatter("%(message)s") if to_journal(stream)
                         else logging.Formatter(terminal_format))
    logging.basicConfig(level=level, handlers=[handler], force=True)
