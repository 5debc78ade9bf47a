"""What was scanned? Badge codes and cards, fed hostile text: `classify` never raises, and
whatever it says a code is holds up (a Badge is a valid badge, a card's fields are valid)."""

from __future__ import annotations

import re

from hypothesis import given, strategies as st

from tests.fuzz.hostile import fuzz, nasty_text, texts
from turnout.codes import (MAX_CARD_LENGTH, MAX_CODE_LENGTH, Badge, Foreign, Misread, RoleCard,
                           SetupCard, UndoCard, WifiCard, badge_code, badge_number, classify,
                           damm_valid, is_badge, is_role_name)
from turnout.protocol import EVENT_ID

CONTROL = re.compile("[\x00-\x1f\x7f]")
REAL_CODES = ["T5724", "T13", badge_code(10**17 - 1), "TURNOUT:ROLE:cake", "TURNOUT:UNDO",
              "TURNOUT:SETUP:2025-03-14-camp@hub.local:1883", "WIFI:T:WPA;S:Venue;P:secret;;",
              "5012345678900", "https://example.org/"]


@st.composite
def mutated_codes(draw):
    """A real code with characters changed, added or removed: a misread, a smudge."""
    text = list(draw(st.sampled_from(REAL_CODES)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["replace", "insert", "delete"]))
        char = draw(st.sampled_from("0123456789Tt:@;\\ \n\x00\u202e\ud800é١") | st.characters())
        if how == "insert":
            text.insert(at, char)
        elif at < len(text):
            if how == "replace":
                text[at] = char
            else:
                del text[at]
    return "".join(text)


scanned = st.one_of(texts, nasty_text, mutated_codes(), st.sampled_from(REAL_CODES),
                    st.builds(lambda s, n: s * n, st.sampled_from(REAL_CODES), st.integers(2, 100)))


@fuzz(300)
@given(st.one_of(scanned, st.binary(max_size=40), st.integers(), st.none(), st.lists(st.text())))
def test_classify_never_raises_and_everything_it_names_holds_up(text):
    code = classify(text)
    match code:
        case Badge(badge):
            assert is_badge(badge) and badge_code(badge_number(badge)) == badge
            assert isinstance(text, str) and badge.lower() == text.strip().lower()
        case Misread(shown):
            assert re.fullmatch(r"T[0-9]{2,18}", shown) and not is_badge(shown)
        case RoleCard(role):
            assert is_role_name(role)
        case SetupCard(event, hub):
            assert EVENT_ID.fullmatch(event)
            assert hub is None or re.fullmatch(r"[A-Za-z0-9.-]{1,100}(:[0-9]{1,5})?", hub)
            assert classify(code.text) == code
        case WifiCard(card):
            assert card.startswith("WIFI:") and len(card) <= MAX_CARD_LENGTH
        case UndoCard():
            pass
        case Foreign(shown, reason):
            assert isinstance(shown, str) and len(shown) <= MAX_CARD_LENGTH and reason
        case _:
            raise AssertionError(f"classify gave {code!r}")
    shown = getattr(code, "text", "") or getattr(code, "code", "") or getattr(code, "role", "")
    assert not CONTROL.search(shown), repr(shown)  # it may reach the screen and the journal


@fuzz(150)
@given(st.integers(1, 10**17 - 1), st.sampled_from(["", " ", "  "]), st.booleans())
def test_every_badge_number_reads_back_however_the_scanner_pads_or_cases_it(number, pad, lower):
    code = badge_code(number)
    typed = pad + (code.lower() if lower else code) + pad
    assert classify(typed) == Badge(code) and badge_number(code) == number


@fuzz(150)
@given(st.text(max_size=30))
def test_damm_valid_never_raises_on_any_text(digits):
    assert damm_valid(digits) in (True, False)
    if len(digits) > MAX_CODE_LENGTH:
        assert not is_badge(digits)
