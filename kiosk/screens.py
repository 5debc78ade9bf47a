"""What the kiosk's 128x64 screen can show: plain values, rendered by kiosk.display.

The state machine decides which screen to show; the display package decides how it looks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Idle:
    event_name: str  # "" when the kiosk has no event yet
    clock: str  # "14:05", or "--:--" when the clock is not synchronised
    online: bool
    queued: int  # scans waiting to sync
    setup: bool = False  # set-up mode: set-up and wi-fi cards count now
    warning: str = ""  # something an organiser must see to: "Storage error"


@dataclass(frozen=True)
class Armed:
    role_label: str  # "Cake"
    seconds_left: int


@dataclass(frozen=True)
class CheckedIn:
    """Stored and beeped; the hub has not answered (yet)."""

    role_label: str | None  # None for plain attendance
    will_sync: bool  # offline: the scan waits in the outbox


@dataclass(frozen=True)
class Welcome:
    """The hub answered: name and progress."""

    name: str
    points: int
    events: int
    progress: str | None  # "3 more to your 25"
    milestone: str | None  # "25 club" when this scan reached one
    role_label: str | None


@dataclass(frozen=True)
class AlreadyCheckedIn:
    name: str | None
    role_label: str | None


@dataclass(frozen=True)
class Problem:
    """Error tone's screen: "Try again", "Not a Turnout badge"..."""

    title: str
    detail: str = ""


@dataclass(frozen=True)
class Notice:
    """Neutral information: "Undone", "Joining venue-wifi"..."""

    title: str
    detail: str = ""


Screen = Idle | Armed | CheckedIn | Welcome | AlreadyCheckedIn | Problem | Notice
