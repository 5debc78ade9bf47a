"""The USB scanner's key decoder, fed any stream of evdev events: it never raises, never
grows a code past its bound, and gives back exactly what a scanner typed whatever noise
(key-ups, autorepeat, scan-code and sync events, stray keys) comes between the keys."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from tests.fuzz.hostile import fuzz

evdev = pytest.importorskip("evdev")
from evdev import InputEvent, ecodes  # noqa: E402

from kiosk.scanner.hid import MAX_PENDING, UNKNOWN, US_LAYOUT, KeyDecoder  # noqa: E402

LAYOUT_CHARACTERS = {ch for pair in US_LAYOUT.values() for ch in pair} | {UNKNOWN}
KEY_FOR = {}  # character -> (key code, needs shift), main keys before the keypad
for name, (plain, shifted) in sorted(US_LAYOUT.items(), key=lambda kv: kv[0].startswith("KEY_KP")):
    KEY_FOR.setdefault(plain, (ecodes.ecodes[name], False))
    KEY_FOR.setdefault(shifted, (ecodes.ecodes[name], True))
TYPABLE = "".join(sorted(KEY_FOR))

any_event = st.builds(
    InputEvent,
    st.integers(0, 2**31 - 1), st.integers(0, 999_999),
    st.one_of(st.sampled_from([ecodes.EV_KEY, ecodes.EV_SYN, ecodes.EV_MSC, ecodes.EV_REL]),
              st.integers(0, 0x1f)),
    st.one_of(st.sampled_from(sorted(ecodes.KEY)), st.integers(0, 0x2ff)),
    st.one_of(st.sampled_from([0, 1, 2]), st.integers(-(2**31), 2**31 - 1)))


@fuzz(120)
@given(st.lists(any_event, max_size=1500))
def test_any_event_stream_gives_only_bounded_codes_of_known_characters(events):
    decoder = KeyDecoder()
    for event in events:
        code = decoder.feed(event)
        if code is not None:
            assert 0 < len(code) <= MAX_PENDING and set(code) <= LAYOUT_CHARACTERS
        assert len(decoder.pending) <= MAX_PENDING
    late = decoder.flush_if_idle(2.0**31)
    assert late is None or 0 < len(late) <= MAX_PENDING


def noise(draw, sec, usec):
    """What a real device sends around and between keys that must not change the code."""
    return draw(st.lists(st.one_of(
        st.just(InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0)),
        st.integers(0, 0xffff).map(lambda v: InputEvent(sec, usec, ecodes.EV_MSC, ecodes.MSC_SCAN, v)),
        st.sampled_from([ecodes.KEY_A, ecodes.KEY_1, ecodes.KEY_LEFTCTRL]).map(  # key-ups and autorepeats
            lambda c: InputEvent(sec, usec, ecodes.EV_KEY, c, 0)),
        st.just(InputEvent(sec, usec, ecodes.EV_KEY, ecodes.KEY_CAPSLOCK, 1)),  # ignored keys
    ), max_size=3))


@st.composite
def typed(draw):
    """A text and the events of a scanner typing it then Enter, 1 to 50 ms a key, with noise."""
    text = draw(st.text(alphabet=TYPABLE, min_size=1, max_size=80))  # a card is at most 256
    now_us = draw(st.integers(0, 2**40))
    events = []

    def emit(code, value):
        nonlocal now_us
        now_us += draw(st.integers(1_000, 50_000))
        sec, usec = divmod(now_us, 1_000_000)
        events.extend(noise(draw, sec, usec))
        events.append(InputEvent(sec, usec, ecodes.EV_KEY, code, value))

    shift = draw(st.sampled_from([ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT]))
    for char in text:
        code, shifted = KEY_FOR[char]
        if shifted:
            emit(shift, 1)
        emit(code, 1)
        emit(code, 0)
        if shifted:
            emit(shift, 0)
    emit(draw(st.sampled_from([ecodes.KEY_ENTER, ecodes.KEY_KPENTER])), 1)
    return text, events


@fuzz(60)
@given(typed())
def test_what_a_scanner_types_comes_back_exactly(case):
    text, events = case
    decoder = KeyDecoder(idle_timeout=0.25)
    codes = [c for c in map(decoder.feed, events) if c is not None]
    assert codes == [text] and decoder.pending == ""
