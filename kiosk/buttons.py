"""Role buttons ("cake", "pitch"...) on GPIO, with an LED per button where one is fitted.

Holding any two buttons together for `hold_time` seconds is the set-up chord. A button counts
as pressed when it is let go, so the buttons of a chord never arm a role: the chord gives one
click and one set-up notice, not one per button.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from gpiozero import LED, Button

log = logging.getLogger(__name__)

BOUNCE_TIME = 0.02  # seconds; cheap arcade buttons chatter for a few milliseconds
CHORD_HOLD_TIME = 3.0  # long enough that nobody enters set-up by leaning on the box


class RoleButtons:
    """One gpiozero Button per role (wired to ground, internal pull-up) and optional LEDs."""

    def __init__(self, button_pins: dict[str, int | str], led_pins: dict[str, int | str] | None = None,
                 pin_factory=None, on_press: Callable[[str], None] | None = None,
                 on_setup_chord: Callable[[], None] | None = None,
                 hold_time: float = CHORD_HOLD_TIME, bounce_time: float | None = BOUNCE_TIME) -> None:
        self.on_press = on_press
        self.on_setup_chord = on_setup_chord
        self.buttons: dict[str, Button] = {}
        self.leds: dict[str, LED] = {}
        self._lock = threading.Lock()
        self._chord_fired = False
        try:
            for role, pin in button_pins.items():
                button = Button(pin, pull_up=True, bounce_time=bounce_time, hold_time=hold_time,
                                pin_factory=pin_factory)
                button.when_held = self._held
                button.when_released = lambda role=role: self._released(role)
                self.buttons[role] = button
            for role, pin in (led_pins or {}).items():
                self.leds[role] = LED(pin, pin_factory=pin_factory)
        except Exception:
            self.close()  # free the pins already claimed, or a retry would find them busy
            raise

    def light(self, role: str | None) -> None:
        """Light only `role`'s LED (None: all off)."""
        for name, led in self.leds.items():
            led.value = name == role

    def _held(self) -> None:
        # Each button reports its own hold; the chord is two of them held at the same time.
        with self._lock:
            held = [role for role, button in self.buttons.items() if button.is_held]
            if len(held) < 2 or self._chord_fired:
                return
            self._chord_fired = True
        log.info("set-up chord: %s held together", " and ".join(held))
        if self.on_setup_chord is not None:
            self.on_setup_chord()

    def _released(self, role: str) -> None:
        with self._lock:
            in_chord = self._chord_fired
            if not any(button.is_pressed for button in self.buttons.values()):
                self._chord_fired = False  # all let go: the next chord counts again
        if in_chord:
            return  # part of the set-up chord, not a press
        log.info("button %s pressed", role)
        if self.on_press is not None:
            self.on_press(role)

    def close(self) -> None:
        for device in [*self.buttons.values(), *self.leds.values()]:
            device.close()
        self.buttons.clear()
        self.leds.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
