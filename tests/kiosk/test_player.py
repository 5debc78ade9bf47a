"""Buzzer players on gpiozero's mock pins: the pitch reaching the pin, beeps, text, never blocking."""

import io
import threading

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from gpiozero.tones import Tone as Pitch

from kiosk.buzzer.player import ACTIVE_GAP, ActiveBuzzerPlayer, TextPlayer, TonalBuzzerPlayer, beeps
from kiosk.buzzer.tunes import TUNES, Tone

WAIT = 10.0  # generous upper bound for a worker thread to get round to it; never a timing assertion
LONG = 3600.0  # a note nobody waits for: only a newer tone or close() can end it


class RecordingPWMPin(MockPWMPin):
    """A mock PWM pin that remembers every frequency set on it."""

    def __init__(self, factory, info):
        super().__init__(factory, info)
        self.frequencies = []
        self.changed = threading.Condition()

    def _set_frequency(self, value):
        super()._set_frequency(value)
        with self.changed:
            self.frequencies.append(value)
            self.changed.notify_all()

    def wait_for_frequency(self, frequency):
        with self.changed:
            return self.changed.wait_for(lambda: self.frequency == frequency, WAIT)


@pytest.fixture
def recording_factory(mock_factory):
    return MockFactory(pin_class=RecordingPWMPin)


def notes_hz(tone):
    return [Pitch(note).frequency for note, _ in TUNES[tone] if note is not None]


@pytest.mark.parametrize("tone", list(Tone))
def test_tonal_buzzer_plays_each_tune_at_its_pitches(recording_factory, tone):
    player = TonalBuzzerPlayer(18, pin_factory=recording_factory)
    pin = recording_factory.pin(18)
    pin.frequencies.clear()  # PWMOutputDevice sets its own 100 Hz on start
    player.play(tone)
    assert player.wait(WAIT)
    sounded = [f for f in pin.frequencies if f is not None]
    assert sounded == notes_hz(tone)
    assert pin.frequency is None  # silent afterwards
    player.close()


def test_play_returns_while_the_tone_is_still_sounding(recording_factory):
    tunes = {**TUNES, Tone.OK: (("E6", LONG),)}
    player = TonalBuzzerPlayer(18, pin_factory=recording_factory, tunes=tunes)
    pin = recording_factory.pin(18)
    pin.frequencies.clear()  # PWMOutputDevice sets its own 100 Hz on start
    player.play(Tone.OK)  # returns although the note lasts an hour
    assert pin.wait_for_frequency(Pitch("E6").frequency)
    assert player.wait(0) is False  # still playing
    player.close()
    assert pin.frequency is None


def test_a_new_tone_cuts_off_the_one_playing(recording_factory):
    tunes = {**TUNES, Tone.OK: (("E6", LONG),)}
    player = TonalBuzzerPlayer(18, pin_factory=recording_factory, tunes=tunes)
    pin = recording_factory.pin(18)
    pin.frequencies.clear()  # PWMOutputDevice sets its own 100 Hz on start
    player.play(Tone.OK)
    assert pin.wait_for_frequency(Pitch("E6").frequency)
    player.play(Tone.ERROR)
    assert player.wait(WAIT)  # the hour-long note did not hold it up
    sounded = [f for f in pin.frequencies if f is not None]
    assert sounded == [Pitch("E6").frequency, *notes_hz(Tone.ERROR)]
    player.close()


def test_a_new_tone_replaces_one_still_queued(recording_factory):
    tunes = {**TUNES, Tone.OK: (("E6", LONG),)}
    player = TonalBuzzerPlayer(18, pin_factory=recording_factory, tunes=tunes)
    pin = recording_factory.pin(18)
    pin.frequencies.clear()  # PWMOutputDevice sets its own 100 Hz on start
    player.play(Tone.OK)
    assert pin.wait_for_frequency(Pitch("E6").frequency)
    with player._cond:  # hold the worker while two tones arrive: only the newer may play
        player.play(Tone.REPEAT)
        player.play(Tone.ERROR)
    assert player.wait(WAIT)
    sounded = [f for f in pin.frequencies if f is not None]
    assert sounded == [Pitch("E6").frequency, *notes_hz(Tone.ERROR)]
    player.close()


def test_every_tune_is_within_the_passive_buzzer_range(recording_factory):
    player = TonalBuzzerPlayer(18, pin_factory=recording_factory)
    low, high = player.buzzer.min_tone.frequency, player.buzzer.max_tone.frequency
    for tone in Tone:
        assert all(low <= hz <= high for hz in notes_hz(tone)), tone
    player.close()


def test_active_buzzer_beeps_on_and_off(mock_factory):
    player = ActiveBuzzerPlayer(17, pin_factory=mock_factory)
    pin = mock_factory.pin(17)
    pin.clear_states()
    player.play(Tone.OK)  # two notes: two beeps with a gap between
    assert player.wait(WAIT)
    assert [s.state for s in pin.states] == [False, True, False, True, False]
    player.close()


def test_active_buzzer_beep_lengths_follow_the_tune():
    assert beeps(TUNES[Tone.OK]) == [("E6", 0.08), (None, ACTIVE_GAP), ("A6", 0.12)]
    assert beeps(TUNES[Tone.REPEAT]) == list(TUNES[Tone.REPEAT])  # the rest already separates them


def test_text_player_prints_the_tone_name():
    out = io.StringIO()
    player = TextPlayer(out)
    player.play(Tone.OK)
    assert player.wait(WAIT)
    player.play(Tone.MILESTONE)
    assert player.wait(WAIT)
    assert out.getvalue() == "♪ ok\n♪ milestone\n"
    player.close()


def test_play_after_close_is_ignored():
    out = io.StringIO()
    player = TextPlayer(out)
    player.close()
    player.play(Tone.OK)
    assert player.wait(WAIT) and out.getvalue() == ""


def test_tonal_player_survives_a_missing_tune(recording_factory):
    player = TonalBuzzerPlayer(18, pin_factory=recording_factory, tunes={Tone.OK: TUNES[Tone.OK]})
    pin = recording_factory.pin(18)
    pin.frequencies.clear()
    player.play(Tone.ERROR)  # no such tune: logged, nothing sounds
    assert player.wait(WAIT)
    player.play(Tone.OK)
    assert player.wait(WAIT)
    assert [f for f in pin.frequencies if f is not None] == notes_hz(Tone.OK)
    player.close()
