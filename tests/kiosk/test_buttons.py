"""Role buttons and LEDs on gpiozero's mock pins: drive_low() is a press."""

import threading

import pytest

from kiosk.buttons import RoleButtons

PINS = {"cake": 5, "pitch": 6, "tidy": 13}
LEDS = {"cake": 16, "pitch": 20}
WAIT = 10.0  # upper bound for gpiozero's hold thread; never a timing assertion


@pytest.fixture
def pressed():
    return []


@pytest.fixture
def buttons(mock_factory, pressed):
    b = RoleButtons(PINS, LEDS, pin_factory=mock_factory, on_press=pressed.append)
    yield b
    b.close()


def press(factory, pin):
    factory.pin(pin).drive_low()  # buttons wire the pin to ground; the pull-up holds it high


def release(factory, pin):
    factory.pin(pin).drive_high()


def test_press_reports_its_role(mock_factory, buttons, pressed):
    press(mock_factory, PINS["cake"])
    release(mock_factory, PINS["cake"])
    press(mock_factory, PINS["tidy"])
    release(mock_factory, PINS["tidy"])  # closing waits out gpiozero's hold timer of a held button
    assert pressed == ["cake", "tidy"]


def test_buttons_use_the_internal_pull_up(mock_factory, buttons, pressed):
    assert all(mock_factory.pin(pin).pull == "up" for pin in PINS.values())
    release(mock_factory, PINS["pitch"])  # already high: no press
    assert pressed == []


def test_light_lights_only_that_role(mock_factory, buttons):
    buttons.light("cake")
    assert mock_factory.pin(LEDS["cake"]).state and not mock_factory.pin(LEDS["pitch"]).state
    buttons.light("pitch")
    assert not mock_factory.pin(LEDS["cake"]).state and mock_factory.pin(LEDS["pitch"]).state
    buttons.light("tidy")  # no LED fitted for tidy: all off, no error
    buttons.light(None)
    assert not any(mock_factory.pin(pin).state for pin in LEDS.values())


def test_leds_are_optional(mock_factory, pressed):
    with RoleButtons(PINS, None, pin_factory=mock_factory, on_press=pressed.append) as b:
        b.light("cake")
        press(mock_factory, PINS["cake"])
    assert pressed == ["cake"]


def test_close_frees_the_pins_for_another_owner(mock_factory, buttons):
    buttons.close()
    with RoleButtons(PINS, LEDS, pin_factory=mock_factory) as again:
        assert set(again.buttons) == set(PINS)


def test_a_pin_clash_frees_the_pins_already_claimed(mock_factory):
    with pytest.raises(Exception):
        RoleButtons({"cake": 5, "pitch": 5}, pin_factory=mock_factory)
    RoleButtons({"cake": 5}, pin_factory=mock_factory).close()  # pin 5 is free again


def chord_buttons(factory, chords):
    fired = threading.Event()

    def on_chord():
        chords.append("setup")
        fired.set()

    # A short hold so the test is quick; the product default is 3 s.
    b = RoleButtons(PINS, LEDS, pin_factory=factory, on_setup_chord=on_chord, hold_time=0.05)
    return b, fired


def test_two_buttons_held_together_make_the_setup_chord(mock_factory):
    chords = []
    b, fired = chord_buttons(mock_factory, chords)
    press(mock_factory, PINS["cake"])
    press(mock_factory, PINS["pitch"])
    assert fired.wait(WAIT)
    assert chords == ["setup"]
    assert all(b.buttons[r].is_held for r in ("cake", "pitch"))
    b.close()


def test_the_chord_fires_once_until_all_buttons_are_released(mock_factory):
    chords = []
    b, fired = chord_buttons(mock_factory, chords)
    press(mock_factory, PINS["cake"])
    press(mock_factory, PINS["pitch"])
    assert fired.wait(WAIT)
    press(mock_factory, PINS["tidy"])  # a third one joining is not a new chord
    _wait_until_held(b, "tidy")
    assert chords == ["setup"]

    for role in PINS:
        release(mock_factory, PINS[role])
    fired.clear()
    press(mock_factory, PINS["tidy"])
    press(mock_factory, PINS["cake"])
    assert fired.wait(WAIT)
    assert chords == ["setup", "setup"]
    b.close()


def test_one_button_held_long_is_not_the_chord(mock_factory):
    chords = []
    b, fired = chord_buttons(mock_factory, chords)
    press(mock_factory, PINS["cake"])
    _wait_until_held(b, "cake")
    release(mock_factory, PINS["cake"])
    press(mock_factory, PINS["pitch"])
    _wait_until_held(b, "pitch")
    assert chords == []
    b.close()


def _wait_until_held(b, role):
    """Block until gpiozero's hold thread has marked `role` held (its when_held has run)."""
    done = threading.Event()
    previous = b.buttons[role].when_held

    def held():
        previous()
        done.set()

    b.buttons[role].when_held = held
    # gpiozero marks the button held before calling when_held, so one of these catches it.
    assert b.buttons[role].is_held or done.wait(WAIT)
    b.buttons[role].when_held = previous
