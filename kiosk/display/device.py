"""The OLED as a luma device: a real SSD1306/SH1106 over I2C, or luma's dummy in simulation."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from dataclasses import replace
from pathlib import Path
from gettext import NullTranslations
from typing import TextIO

from luma.core.device import dummy
from luma.core.render import canvas
from PIL import Image

from kiosk.display.render import ENGLISH, HEIGHT, WIDTH, render
from kiosk.screens import Armed, Idle, Screen

log = logging.getLogger(__name__)

DEVICE_KINDS = ("ssd1306", "sh1106", "dummy")


def make_device(kind: str, i2c_port: int = 1, i2c_address: int = 0x3C, rotate: int = 0):
    """A luma device for `kind`: "ssd1306" or "sh1106" over I2C, or "dummy" (no hardware)."""
    if kind == "dummy":
        return dummy(width=WIDTH, height=HEIGHT, rotate=rotate, mode="1")
    if kind not in DEVICE_KINDS:
        raise ValueError(f"unknown display {kind!r}: expected one of {', '.join(DEVICE_KINDS)}")
    # Imported here: the I2C bus (smbus2) and luma.oled are only needed on a Pi.
    from luma.core.interface.serial import i2c
    from luma.oled import device as oled

    serial = i2c(port=i2c_port, address=i2c_address)
    driver = {"ssd1306": oled.ssd1306, "sh1106": oled.sh1106}[kind]
    return driver(serial, width=WIDTH, height=HEIGHT, rotate=rotate)


class Display:
    """Shows kiosk screens on a luma device, redrawing only when the screen changes."""

    def __init__(self, device, words: NullTranslations = ENGLISH) -> None:
        self.device = device
        self.words = words  # the kiosk's language, for the screens' fixed words
        self.screen: Screen | None = None
        self._lock = threading.Lock()
        self._failing = False

    def show(self, screen: Screen) -> bool:
        """Draw `screen`; False (and nothing drawn) when it is already showing."""
        with self._lock:
            if screen == self.screen:
                return False
            try:
                with canvas(self.device) as draw:
                    render(screen, draw, self.words)
            except OSError as error:
                # A loose I2C wire must not stop the kiosk scanning; the next screen retries.
                if not self._failing:
                    log.warning("display not answering (%s); scanning carries on without it", error)
                self._failing = True
                return False
            if self._failing:
                log.info("display answering again")
            self._failing = False
            self.screen = screen
            self._shown(screen)
            return True

    def _shown(self, screen: Screen) -> None:
        """Hook for subclasses, after the device has the new image."""

    def close(self) -> None:
        # luma's cleanup blanks the panel, so a kiosk switched off shows nothing stale.
        self.device.cleanup()


class SimDisplay(Display):
    """A dummy OLED that saves each new screen as a PNG and draws it in the terminal."""

    def __init__(self, png_path: str | os.PathLike | None = None, stream: TextIO | None = None,
                 terminal_style: str | None = None, words: NullTranslations = ENGLISH) -> None:
        super().__init__(make_device("dummy"), words)
        self.png_path = Path(png_path) if png_path is not None else None
        self.stream = stream
        self.terminal_style = terminal_style or _style_for_terminal()
        self._drawn_in_terminal: object = None

    def _shown(self, screen: Screen) -> None:
        image = self.device.image
        if self.png_path is not None:
            save_png_atomically(image, self.png_path)
        # A countdown second or the idle clock ticking is not worth 34 terminal lines each time.
        key = _without_ticking(screen)
        if self.stream is not None and key != self._drawn_in_terminal:
            self._drawn_in_terminal = key
            # One write per frame, so other output never lands inside the picture.
            self.stream.write(terminal_picture(image, self.terminal_style) + "\n")
            self.stream.flush()

    def close(self) -> None:
        pass  # nothing to blank: keep the last screen.png for whoever is looking at it


def _without_ticking(screen: Screen) -> object:
    if isinstance(screen, Armed):
        return replace(screen, seconds_left=0)
    if isinstance(screen, Idle):
        return replace(screen, clock="")
    return screen


def save_png_atomically(image: Image.Image, path: Path) -> None:
    """Write then rename, so a viewer polling the file never reads half a PNG."""
    tmp = path.with_name(f".{path.name}.tmp")
    image.save(tmp, format="PNG")
    os.replace(tmp, path)


# Quadrant blocks indexed by (top-left, top-right, bottom-left, bottom-right) bits.
_QUADRANTS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"
_HALVES = " ▀▄█"  # indexed by (top, bottom) bits


def terminal_picture(image: Image.Image, style: str = "half") -> str:
    """The one-bit image as framed text: "half" (1x2 pixels a character, true proportions,
    130 columns) or "quadrant" (2x2 pixels a character, 66 columns, drawn twice as tall)."""
    pixels = image.convert("1").load()
    width, height = image.size

    def lit(x: int, y: int) -> int:
        return 1 if x < width and y < height and pixels[x, y] else 0

    rows = []
    if style == "half":
        for y in range(0, height, 2):
            rows.append("".join(_HALVES[lit(x, y) | lit(x, y + 1) << 1] for x in range(width)))
    elif style == "quadrant":
        for y in range(0, height, 2):
            rows.append("".join(
                _QUADRANTS[lit(x, y) | lit(x + 1, y) << 1 | lit(x, y + 1) << 2 | lit(x + 1, y + 1) << 3]
                for x in range(0, width, 2)))
    else:
        raise ValueError(f"unknown terminal style {style!r}: expected 'half' or 'quadrant'")
    inner = len(rows[0])
    return "\n".join(["┌" + "─" * inner + "┐", *("│" + row + "│" for row in rows), "└" + "─" * inner + "┘"])


def _style_for_terminal() -> str:
    # Half blocks keep the OLED's proportions but need 130 columns; narrower terminals get quadrants.
    return "half" if shutil.get_terminal_size(fallback=(80, 24)).columns >= WIDTH + 2 else "quadrant"
