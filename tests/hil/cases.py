"""What `make hil` scans, and what the hub must then hold: shared by the host (which checks)
and the driver in the VM (which types and shows). Pure data, so both read the same list.

Each kiosk run is one configuration of the real unit (`KioskRun`); each case in it has its own
badges, so the host can tell from the hub's scans which case each came from.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from turnout.codes import badge_code


@dataclass(frozen=True)
class Case:
    name: str
    how: str  # what the driver does (driver.py has one function per `how`)
    codes: tuple[str, ...]  # what is typed or shown, in order
    expected: tuple[tuple[str, str], ...]  # (badge, role) scans the hub must hold, no more, no fewer
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class KioskRun:
    kiosk_id: str
    scanner: str  # the kiosk's `scanner` setting
    layout: str  # the kiosk's `scanner_layout` setting
    cases: tuple[Case, ...]


# The hub counts only badges it issued: run.py has it issue badges 1 to LAST_BADGE (blank, to
# pre-print), and the cases use them from FIRST_BADGE on, each badge in one case only.
FIRST_BADGE = 101
_numbers = itertools.count(FIRST_BADGE)


def _badges(count: int) -> tuple[str, ...]:
    return tuple(badge_code(next(_numbers)) for _ in range(count))


def _attend(badges: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((b, "attend") for b in badges)


def _plain(name: str, how: str, badges: tuple[str, ...], **options) -> Case:
    return Case(name, how, badges, _attend(badges), options)


def _role(name: str, how: str, role: str, badge: str, **options) -> Case:
    return Case(name, how, (f"TURNOUT:ROLE:{role}", badge), ((badge, role),), options)


HID_US = KioskRun("hil-us", "hid", "us", (
    _plain("burst, Enter after each", "type", _badges(5), enter=True, gap=0.0),
    _plain("no Enter (suffix timeout)", "type", _badges(3), enter=False, gap=0.8),
    _role("shift: role card then badge", "type", "pitch", _badges(1)[0], enter=True, gap=0.3),
    _role("right shift, keypad digits", "type", "cake", _badges(1)[0], enter=True, gap=0.3,
          shift="KEY_RIGHTSHIFT", keypad=True),
    _plain("code while another keyboard holds a key", "held", _badges(2)),
    _plain("unplugged mid-code, back as another eventN", "replug", _badges(2)),
))
HID_UK = KioskRun("hil-uk", "hid", "uk", (
    _plain("UK layout: burst", "type", _badges(3), enter=True, gap=0.0),
    _role("UK layout: role card then badge", "type", "tidy", _badges(1)[0], enter=True, gap=0.3),
))
WEBCAM = KioskRun("hil-cam", "v4l2:/dev/video9", "us", (
    _plain("webcam: Code 128 badges", "show", _badges(2), symbology="code128"),
    _plain("webcam: QR badges", "show", _badges(2), symbology="qr"),
))
RUNS = (HID_US, HID_UK, WEBCAM)
LAST_BADGE = next(_numbers) - 1
