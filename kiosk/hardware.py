"""Builds the kiosk's parts from its settings: real devices on a Pi, simulated ones with --sim.

Simulation uses the libraries' own means: gpiozero's MockFactory pins, a luma dummy display
saved to ``screen.png``, tones printed as text, codes typed on stdin.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from kiosk.config import Settings
from kiosk.daemon import Feedback
from kiosk.display.background import BackgroundDisplay

log = logging.getLogger("turnout.kiosk")


@dataclass
class Parts:
    feedback: Feedback
    pin_factory: object | None
    closers: list[Callable[[], None]]

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception as exc:  # closing is best effort at shutdown
                log.debug("closing a part failed: %s", exc)


def build_parts(settings: Settings, on_press: Callable[[str], None],
                on_setup_chord: Callable[[], None] | None = None, out: TextIO = sys.stdout) -> Parts:
    pin_factory = None
    if settings.sim:
        from gpiozero.pins.mock import MockFactory, MockPWMPin
        pin_factory = MockFactory(pin_class=MockPWMPin)
    closers: list[Callable[[], None]] = []

    show = _display(settings, out, closers)
    play = _player(settings, pin_factory, out, closers)
    light: Callable[[str | None], None] = lambda role: None
    pins = {r: p for r, p in settings.button_pins.items() if r in settings.roles}
    if pins:
        try:
            from kiosk.buttons import RoleButtons
            leds = {r: p for r, p in settings.led_pins.items() if r in pins}
            buttons = RoleButtons(pins, leds, pin_factory=pin_factory, on_press=on_press,
                                  on_setup_chord=on_setup_chord)
            light = buttons.light
            closers.append(buttons.close)
        except Exception as exc:  # no GPIO (not a Pi): the kiosk still scans
            log.warning("role buttons unavailable (%s); role cards still work", exc)
    return Parts(Feedback(show=show, play=play, light=light), pin_factory, closers)


def _display(settings: Settings, out: TextIO, closers: list) -> Callable:
    if settings.sim:
        from kiosk.display.device import SimDisplay
        display = SimDisplay(Path(settings.data_dir) / "screen.png", stream=out, words=settings.words())
    elif settings.display == "none":
        return lambda screen: None
    else:
        from kiosk.display.device import Display, make_device
        try:
            display = Display(make_device(settings.display, settings.i2c_port, settings.i2c_address),
                              words=settings.words())
        except Exception as exc:
            log.warning("no %s display on I2C %d at 0x%02X (%s); running without a screen",
                        settings.display, settings.i2c_port, settings.i2c_address, exc)
            return lambda screen: None
    if hasattr(display, "close"):
        closers.append(display.close)
    background = BackgroundDisplay(display.show)
    closers.append(background.close)
    return background.show


def _player(settings: Settings, pin_factory, out: TextIO, closers: list) -> Callable:
    from kiosk.buzzer import player as players
    if settings.sim:
        p = players.TextPlayer(out)
    elif settings.buzzer == "none":
        return lambda tone: None
    else:
        cls = players.TonalBuzzerPlayer if settings.buzzer == "passive" else players.ActiveBuzzerPlayer
        try:
            p = cls(settings.buzzer_pin, pin_factory=pin_factory)
        except Exception as exc:
            log.warning("no buzzer on GPIO%d (%s); running silent", settings.buzzer_pin, exc)
            return lambda tone: None
    closers.append(p.close)
    return p.play


def start_scanner(settings: Settings, on_code: Callable[[str], None], on_eof: Callable[[], None],
                  stdin: TextIO = sys.stdin):
    """Start the configured scanner; returns it (it has ``close()``; one with ``on_readable()``
    is for the daemon's loop to ``watch``, the others read on threads of their own)."""
    source = settings.scanner
    if source == "stdin" or (settings.sim and source in ("hid", "")):
        from kiosk.scanner.stdin import LineScanner
        return LineScanner(stdin.fileno(), on_code, on_eof=on_eof)  # the daemon's loop reads it
    if source == "hid" or source.startswith("hid:"):
        from kiosk.scanner.hid import HidScanner, find_scanner_devices
        path = source[4:] if source.startswith("hid:") else None
        if not path:
            found = find_scanner_devices()
            if not found:
                raise RuntimeError("no USB barcode scanner found: plug one in or set scanner = \"hid:/dev/input/...\"")
            path = found[0].stable_path or found[0].path
            log.info("using scanner %s (%s)", found[0].name, path)
        return HidScanner(path, on_code)
    from kiosk.scanner.camera import open_camera_scanner
    return open_camera_scanner(source, on_code, on_eof=on_eof)
