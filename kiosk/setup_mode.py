"""Set-up mode: when a kiosk accepts set-up and wi-fi cards.

A stranger's QR code must not re-point a kiosk at another event or network, so those cards
count only in set-up mode: at first boot (no event configured yet) or after an organiser holds
two role buttons together, and only for a few minutes. Pure: the caller passes the time in
(``time.monotonic()`` seconds) and gets decisions back.
"""

from __future__ import annotations

from dataclasses import dataclass

from turnout.codes import Code, LoginCard, SetupCard, WifiCard, classify
from turnout.i18n import N_

SETUP_MODE_SECONDS = 5 * 60
# How long two role buttons must be held together to enter set-up mode.
CHORD_HOLD_SECONDS = 3.0
NEEDS_SETUP_MODE = N_("Set-up cards need set-up mode")


@dataclass(frozen=True)
class Verdict:
    """Whether a scanned card may act now, and what to show when it may not."""

    accepted: bool
    message: str | None = None


@dataclass
class SetupMode:
    """The kiosk's set-up mode. ``SetupMode(now, event_configured=False)`` starts in it."""

    now: float
    event_configured: bool = True
    timeout: float = SETUP_MODE_SECONDS
    _until: float | None = None

    def __post_init__(self) -> None:
        if not self.event_configured:
            self.enter(self.now)  # first boot: nothing to protect yet

    def enter(self, now: float) -> None:
        """Start (or restart) set-up mode, e.g. after the two-button chord."""
        self._until = now + self.timeout

    def leave(self) -> None:
        self._until = None

    def active(self, now: float) -> bool:
        if self._until is not None and now >= self._until:
            self._until = None
        return self._until is not None

    def remaining(self, now: float) -> float:
        return max(0.0, self._until - now) if self.active(now) else 0.0

    def touch(self, now: float) -> None:
        """An accepted set-up card gives the organiser the full time again for the next one."""
        if self.active(now):
            self.enter(now)

    def chord(self, held_buttons: int, held_for: float, now: float) -> bool:
        """Buttons held together: enter set-up mode on a long two-button chord. True if it did."""
        if held_buttons >= 2 and held_for >= CHORD_HOLD_SECONDS:
            self.enter(now)
            return True
        return False

    def configured(self) -> None:
        """The kiosk now has an event (from a set-up card or the hub's config)."""
        self.event_configured = True

    def accepts(self, code: Code | str, now: float) -> Verdict:
        """May this scan act now? Set-up, login and wi-fi cards only in set-up mode; others always."""
        if isinstance(code, str):
            code = classify(code)
        if isinstance(code, (SetupCard, WifiCard, LoginCard)):
            if self.active(now):
                return Verdict(True)
            return Verdict(False, NEEDS_SETUP_MODE)
        return Verdict(True)
