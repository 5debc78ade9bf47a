"""Set-up and wi-fi cards act only in set-up mode: first boot, or a long two-button chord."""

from kiosk.setup_mode import NEEDS_SETUP_MODE, SETUP_MODE_SECONDS, SetupMode, Verdict
from turnout.codes import Badge, SetupCard, WifiCard

WIFI = "WIFI:T:WPA;S:venue-wifi;P:cake1234;;"
SETUP = "TURNOUT:SETUP:ev-2026-abc"


def test_first_boot_without_an_event_starts_in_set_up_mode_and_times_out():
    mode = SetupMode(100.0, event_configured=False)
    assert mode.active(100.0)
    assert mode.accepts(SETUP, 100.0 + SETUP_MODE_SECONDS - 1) == Verdict(True)
    assert not mode.active(100.0 + SETUP_MODE_SECONDS)
    assert mode.accepts(SETUP, 100.0 + SETUP_MODE_SECONDS) == Verdict(False, NEEDS_SETUP_MODE)


def test_a_configured_kiosk_rejects_set_up_and_wifi_cards():
    mode = SetupMode(0.0)
    assert not mode.active(0.0)
    assert mode.accepts(WIFI, 1.0) == Verdict(False, "Set-up cards need set-up mode")
    assert mode.accepts(SetupCard("ev"), 1.0).message == NEEDS_SETUP_MODE
    assert mode.accepts(WifiCard(WIFI), 1.0).accepted is False


def test_badges_and_role_cards_are_always_accepted():
    mode = SetupMode(0.0)
    assert mode.accepts("T5724", 1.0).accepted
    assert mode.accepts(Badge("T5724"), 1.0).accepted
    assert mode.accepts("TURNOUT:ROLE:cake", 1.0).accepted


def test_a_long_two_button_chord_enters_set_up_mode():
    mode = SetupMode(0.0)
    assert not mode.chord(held_buttons=1, held_for=10.0, now=5.0)
    assert not mode.chord(held_buttons=2, held_for=0.5, now=5.0)
    assert not mode.active(5.0)
    assert mode.chord(held_buttons=2, held_for=3.0, now=5.0)
    assert mode.accepts(WIFI, 6.0).accepted
    assert mode.remaining(6.0) == SETUP_MODE_SECONDS - 1


def test_an_accepted_card_restarts_the_clock_and_leave_ends_it():
    mode = SetupMode(0.0)
    mode.enter(0.0)
    mode.touch(SETUP_MODE_SECONDS - 10)
    assert mode.active(SETUP_MODE_SECONDS + 10)
    mode.leave()
    assert not mode.active(SETUP_MODE_SECONDS + 11)


def test_touch_does_not_reopen_an_expired_mode():
    mode = SetupMode(0.0, event_configured=False)
    mode.touch(SETUP_MODE_SECONDS + 1)
    assert not mode.active(SETUP_MODE_SECONDS + 2)
