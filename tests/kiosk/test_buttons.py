"""Role buttons and LEDs on gpiozero's mock pins: drive_low() is a press."""

import threading
from datetime import datetime, timezone

import pytest

from kiosk import screens
from kiosk.buttons import RoleButtons
from kiosk.buzzer.tunes import Tone
from kiosk.config import Settings
from kiosk.machine import ButtonPressed, KioskMachine, Now, Play, SetupChord, Show

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
    assert all(mock_factory.pin(pin).state for pin in PINS.values()), "pulled high at rest"
    assert not any(button.is_pressed for button in buttons.buttons.values())
    press(mock_factory, PINS["pitch"])  # to ground: pressed
    assert buttons.buttons["pitch"].is_pressed
    release(mock_factory, PINS["pitch"])
    assert pressed == ["pitch"]


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
        release(mock_factory, PINS["cake"])
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


def test_the_buttons_of_the_chord_are_not_presses(mock_factory, pressed):
    fired = threading.Event()
    b = RoleButtons(PINS, LEDS, pin_factory=mock_factory, on_press=pressed.append,
                    on_setup_chord=fired.set, hold_time=0.05)
    press(mock_factory, PINS["cake"])
    press(mock_factory, PINS["pitch"])
    assert fired.wait(WAIT)
    release(mock_factory, PINS["cake"])
    release(mock_factory, PINS["pitch"])
    assert pressed == []
    press(mock_factory, PINS["tidy"])  # all were let go: the next tap is a press again
    release(mock_factory, PINS["tidy"])
    assert pressed == ["tidy"]
    b.close()


def test_the_set_up_chord_gives_one_click_and_one_set_up_notice(mock_factory):
    """Buttons and machine together, as the daemon wires them (events in order through a list)."""
    events, fired = [], threading.Event()
    b = RoleButtons(PINS, LEDS, pin_factory=mock_factory,
                    on_press=lambda role: events.append(ButtonPressed(role)),
                    on_setup_chord=lambda: (events.append(SetupChord()), fired.set()), hold_time=0.05)
    press(mock_factory, PINS["cake"])
    press(mock_factory, PINS["pitch"])
    assert fired.wait(WAIT)
    release(mock_factory, PINS["pitch"])
    release(mock_factory, PINS["cake"])
    b.close()
    settings = Settings()
    machine = KioskMachine(kiosk_id="hall-1", event="barcamp", event_name="Barcamp", roles=settings.roles,
                           labels=settings.label)
    now = Now(100.0, datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc), True)
    actions = [action for event in events for action in machine.handle(event, now)]
    assert [a for a in actions if isinstance(a, Play)] == [Play(Tone.ARMED)]
    assert [a.screen for a in actions if isinstance(a, Show)] == [
        screens.Notice("Set-up mode", "Show a set-up or wi-fi card")]
    assert machine.armed is None


def test_a_button_held_alone_still_counts_as_a_press_when_let_go(mock_factory, pressed):
    b = RoleButtons(PINS, LEDS, pin_factory=mock_factory, on_press=pressed.append, hold_time=0.05)
    press(mock_factory, PINS["cake"])
    _wait_until_held(b, "cake")
    release(mock_factory, PINS["cake"])
    assert pressed == ["cake"]
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
