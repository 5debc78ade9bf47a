"""A USB barcode scanner that types like a keyboard, read with python-evdev.

`KeyDecoder` is pure: key events in, scanned codes out, read with the keyboard layout the
scanner is set to (US, as most ship, or UK).
`HidScanner` owns the device: grabs it so the codes never reach a console login, and reads
it on a daemon thread.
"""

from __future__ import annotations

import logging
import os
import re
import select
import threading
import time
from dataclasses import dataclass
from glob import glob
from typing import Callable

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 0.25  # seconds; scanners type a code in well under this, so a pause ends it
MAX_PENDING = 512  # characters; a code this long is already rejected, stop growing it
UNKNOWN = "\ufffd"  # an unmapped key spoils the code visibly rather than silently vanishing

# evdev key name -> (unshifted, shifted) on a US layout.
US_LAYOUT: dict[str, tuple[str, str]] = {
    **{f"KEY_{c}": (c.lower(), c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{f"KEY_{d}": (d, s) for d, s in zip("1234567890", "!@#$%^&*()")},
    "KEY_MINUS": ("-", "_"),
    "KEY_EQUAL": ("=", "+"),
    "KEY_LEFTBRACE": ("[", "{"),
    "KEY_RIGHTBRACE": ("]", "}"),
    "KEY_SEMICOLON": (";", ":"),
    "KEY_APOSTROPHE": ("'", '"'),
    "KEY_GRAVE": ("`", "~"),
    "KEY_BACKSLASH": ("\\", "|"),
    "KEY_COMMA": (",", "<"),
    "KEY_DOT": (".", ">"),
    "KEY_SLASH": ("/", "?"),
    "KEY_SPACE": (" ", " "),
    # Some scanners type digits on the keypad.
    **{f"KEY_KP{d}": (d, d) for d in "0123456789"},
    "KEY_KPMINUS": ("-", "-"),
    "KEY_KPPLUS": ("+", "+"),
    "KEY_KPASTERISK": ("*", "*"),
    "KEY_KPSLASH": ("/", "/"),
    "KEY_KPDOT": (".", "."),
    "KEY_KPCOMMA": (",", ","),
    "KEY_KPEQUAL": ("=", "="),
}
# A UK keyboard differs from a US one in these keys only (the ISO key left of Z is KEY_102ND).
UK_LAYOUT: dict[str, tuple[str, str]] = {
    **US_LAYOUT,
    "KEY_2": ("2", '"'),
    "KEY_3": ("3", "\u00a3"),
    "KEY_APOSTROPHE": ("'", "@"),
    "KEY_BACKSLASH": ("#", "~"),
    "KEY_102ND": ("\\", "|"),
    "KEY_GRAVE": ("`", "\u00ac"),
}
LAYOUTS = {"us": US_LAYOUT, "uk": UK_LAYOUT}
SHIFT_KEYS = ("KEY_LEFTSHIFT", "KEY_RIGHTSHIFT")
ENTER_KEYS = ("KEY_ENTER", "KEY_KPENTER")
IGNORED_KEYS = ("KEY_LEFTCTRL", "KEY_RIGHTCTRL", "KEY_LEFTALT", "KEY_RIGHTALT", "KEY_LEFTMETA",
                "KEY_RIGHTMETA", "KEY_CAPSLOCK", "KEY_NUMLOCK", "KEY_SCROLLLOCK")

KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2  # an EV_KEY event's value


class KeyDecoder:
    """Turns a scanner's key events into codes, ended by Enter or by a pause."""

    def __init__(self, idle_timeout: float = IDLE_TIMEOUT, layout: str = "us") -> None:
        from evdev import ecodes  # constants only; imported here so the module loads anywhere

        self.idle_timeout = idle_timeout
        self._ev_key = ecodes.EV_KEY
        self._chars = {ecodes.ecodes[name]: chars for name, chars in LAYOUTS[layout].items()}
        self._shift = {ecodes.ecodes[name] for name in SHIFT_KEYS}
        self._enter = {ecodes.ecodes[name] for name in ENTER_KEYS}
        self._ignored = {ecodes.ecodes[name] for name in IGNORED_KEYS}
        self._shift_held: set[int] = set()
        self._pending: list[str] = []
        self._last_key: float | None = None

    @property
    def pending(self) -> str:
        return "".join(self._pending)

    def feed(self, event) -> str | None:
        """Consume one evdev event; the completed code, if this event completed one."""
        if event.type != self._ev_key:
            return None  # EV_SYN and EV_MSC scan codes accompany every key
        code, value, at = event.code, event.value, event.timestamp()
        if code in self._shift:
            if value == KEY_UP:
                self._shift_held.discard(code)
            else:
                self._shift_held.add(code)
            return None
        if value != KEY_DOWN:
            return None  # key up; and autorepeat, which only a stuck key makes, would double a character
        completed = self.flush_if_idle(at)  # a pause before this key ended the code before it
        self._last_key = at
        if code in self._enter:
            return self._take() or completed
        if code in self._ignored:
            return completed
        chars = self._chars.get(code)
        char = UNKNOWN if chars is None else chars[1 if self._shift_held else 0]
        if len(self._pending) < MAX_PENDING:
            self._pending.append(char)
        return completed

    def flush_if_idle(self, now: float) -> str | None:
        """The pending code once no key has come for `idle_timeout` (`now` on the events' clock)."""
        if not self._pending or self._last_key is None:
            return None
        # now < last key: the wall clock was set back (NTP at boot); don't wait for it to catch up.
        if now - self._last_key >= self.idle_timeout or now < self._last_key:
            return self._take()
        return None

    def discard(self) -> str:
        """Forget the code being typed (and any key held); what it had so far."""
        pending, self._pending, self._last_key = self.pending, [], None
        self._shift_held.clear()
        return pending

    def _take(self) -> str | None:
        code, self._pending = "".join(self._pending), []
        return code or None


@dataclass(frozen=True)
class ScannerCandidate:
    """An input device that could be a barcode scanner; `stable_path` survives re-plugging."""

    path: str
    name: str
    stable_path: str | None
    usb: bool = False
    ids: tuple[int, int] | None = None  # USB vendor and product


_SCANNER_WORDS = re.compile(r"scan|barcode|bar code", re.I)


def find_scanner_devices(input_dir: str = "/dev/input") -> list[ScannerCandidate]:
    """Readable input devices that can type digits and Enter, likeliest scanner first: one that
    says it scans, then other USB keyboards, then the rest (a laptop's or a VM's own keyboard)."""
    from evdev import InputDevice, ecodes

    stable = {os.path.realpath(link): link for link in sorted(glob(f"{input_dir}/by-id/*"))}
    needed = {ecodes.KEY_ENTER, *(ecodes.ecodes[f"KEY_{d}"] for d in "0123456789")}
    found = []
    # Not evdev.list_devices(): it lists only devices it may also write to, and the kiosk's unit
    # lets it read input devices only (DeviceAllow=char-input r), so it would list none.
    events = glob(f"{input_dir}/event*")
    for path in sorted(events, key=lambda p: (len(p), p)):  # event2 before event10
        try:
            device = InputDevice(path)
        except OSError:
            continue
        try:
            keys = set(device.capabilities().get(ecodes.EV_KEY, []))
            if needed <= keys:
                usb = device.info.bustype == ecodes.BUS_USB
                found.append(ScannerCandidate(path, device.name, stable.get(os.path.realpath(path)), usb,
                                              _ids(device)))
        finally:
            device.close()
    return sorted(found, key=lambda c: (not _SCANNER_WORDS.search(c.name), not c.usb))


def _ids(device) -> tuple[int, int] | None:
    info = getattr(device, "info", None)
    return None if info is None else (info.vendor, info.product)


class HidScanner:
    """Reads codes from a keyboard-style scanner at `device_path` and calls `on_code(text)`.

    `on_code` runs on the reader thread. If the scanner is unplugged, the reader waits for it
    to come back: at the same path, or, for a /dev/input/eventN path (which the kernel may give
    another device meanwhile), wherever a device with the same name and USB ids appears.
    """

    POLL = 0.05  # seconds between checks for a pause or for close()
    REOPEN_EVERY = 1.0  # seconds between attempts to reopen an unplugged scanner

    def __init__(self, device_path: str, on_code: Callable[[str], None], grab: bool = True,
                 idle_timeout: float = IDLE_TIMEOUT, layout: str = "us") -> None:
        self.device_path = device_path
        self.on_code = on_code
        self.grab = grab
        self.decoder = KeyDecoder(idle_timeout, layout)
        self._closing = threading.Event()
        self._identity: tuple | None = None  # (name, USB ids) of the scanner first opened
        self._device = self._open()  # here, so a wrong path fails at start-up, not in a thread
        self._thread = threading.Thread(target=self._run, name="HidScanner", daemon=True)
        self._thread.start()

    def _open(self, path: str | None = None):
        from evdev import InputDevice

        device = InputDevice(path or self.device_path)
        identity = (device.name, _ids(device))
        if self._identity is not None and identity != self._identity:
            device.close()  # another device now has the scanner's old eventN: not ours to grab
            raise OSError(f"{path or self.device_path} is now {device.name!r}, not the scanner")
        self._identity = identity
        if self.grab:
            device.grab()  # keystrokes go to us only, not to a console on the Pi's screen
        log.info("scanner %s opened: %s", self.device_path, device.name)
        return device

    def _run(self) -> None:
        try:
            while not self._closing.is_set():
                if self._device is None:
                    self._reopen()
                    continue
                try:
                    self._read_available()
                except OSError as error:
                    log.warning("scanner %s lost (%s); waiting for it to be plugged back in",
                                self.device_path, error)
                    self._close_device()
                    self._drop_partial()
                self._deliver(self.decoder.flush_if_idle(time.time()))  # evdev stamps with wall time
        finally:
            self._close_device()

    def _read_available(self) -> None:
        ready, _, _ = select.select([self._device.fd], [], [], self.POLL)
        if ready:
            for event in self._device.read():
                self._deliver(self.decoder.feed(event))

    def _drop_partial(self) -> None:
        """A code cut off by the cable coming out is not a code: it would be a misread, or run
        into the first code typed once the scanner is back."""
        dropped = self.decoder.discard()
        if dropped:
            log.warning("scanner %s: dropped %r, cut off when it was unplugged", self.device_path, dropped)

    def _reopen(self) -> None:
        if self._closing.wait(self.REOPEN_EVERY):
            return
        try:
            self._device = self._open()
            return
        except OSError:
            pass  # still unplugged, or back under another eventN
        if "/by-id/" in self.device_path:
            return  # udev moves the link with the device
        name, ids = self._identity
        for found in find_scanner_devices():
            if (found.name, found.ids) == (name, ids) and found.path != self.device_path:
                try:
                    self._device = self._open(found.path)
                except OSError:
                    continue
                log.info("scanner %s came back as %s", self.device_path, found.path)
                self.device_path = found.path
                return

    def _deliver(self, code: str | None) -> None:
        if code is None:
            return
        try:
            self.on_code(code)
        except Exception:
            log.exception("handling scanned code failed; the scanner keeps reading")

    def _close_device(self) -> None:
        device, self._device = self._device, None
        if device is None:
            return
        try:
            if self.grab:
                device.ungrab()
        except OSError:
            pass  # already gone with the USB cable
        device.close()

    def close(self) -> None:
        self._closing.set()
        self._thread.join()
