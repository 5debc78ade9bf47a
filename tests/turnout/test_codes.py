
import pytest
from hypothesis import given, strategies as st

from turnout import codes
from turnout.codes import (Badge, Foreign, Misread, RoleCard, SetupCard, UndoCard, WifiCard,
                           badge_code, badge_number, classify, damm_digit, damm_valid)


def test_examples_from_the_protocol_document():
    assert badge_code(572) == "T5724"
    assert badge_code(1001) == "T10019"
    assert badge_number("T10019") == 1001


@given(st.integers(min_value=1, max_value=10**12))
def test_every_badge_code_checks_and_round_trips(number):
    code = badge_code(number)
    assert classify(code) == Badge(code)
    assert badge_number(code) == number


@given(st.integers(min_value=10, max_value=10**9), st.data())
def test_any_single_digit_error_is_a_misread(number, data):
    code = badge_code(number)
    pos = data.draw(st.integers(min_value=1, max_value=len(code) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != code[pos]]))
    typo = code[:pos] + wrong + code[pos + 1:]
    assert classify(typo) == Misread(typo)


@given(st.integers(min_value=10, max_value=10**9), st.data())
def test_any_adjacent_swap_is_a_misread(number, data):
    code = badge_code(number)
    pos = data.draw(st.integers(min_value=1, max_value=len(code) - 2))
    if code[pos] == code[pos + 1]:
        return
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:]
    assert isinstance(classify(swapped), Misread)


def test_damm_digit_table_is_a_quasigroup_with_zero_diagonal():
    for row in codes._DAMM:
        assert sorted(row) == list(range(10))
    for col in range(10):
        assert sorted(r[col] for r in codes._DAMM) == list(range(10))
    assert all(codes._DAMM[i][i] == 0 for i in range(10))
    assert damm_digit("572") == 4 and damm_valid("5724") and not damm_valid("5742")


@pytest.mark.parametrize("text, expected", [
    ("TURNOUT:ROLE:cake", RoleCard("cake")),
    ("TURNOUT:UNDO", UndoCard()),
    ("TURNOUT:SETUP:2026-11-28-barcamp", SetupCard("2026-11-28-barcamp")),
    ("TURNOUT:SETUP:barcamp@hub.local:1883", SetupCard("barcamp", "hub.local:1883")),
    ("WIFI:T:WPA;S:venue;P:secret;;", WifiCard("WIFI:T:WPA;S:venue;P:secret;;")),
    ("  T5724 ", Badge("T5724")),
    ("t5724", Badge("T5724")),  # Caps Lock on
])
def test_cards_and_badges(text, expected):
    assert classify(text) == expected


@pytest.mark.parametrize("text", [
    "5012345678900",  # a product EAN
    "https://example.org/T5724",
    "T5724\x07",  # control character
    "T" + "1" * 70,  # over 64 characters
    "TURNOUT:ROLE:Cake!",  # not a role name
    "TURNOUT:SELFDESTRUCT",
    "TURNOUT:SETUP:bad event",
    "TURNOUT:SETUP:ev@evil/host",
    "",
])
def test_foreign_codes_are_rejected_with_a_reason(text):
    result = classify(text)
    assert isinstance(result, Foreign) and result.reason


@pytest.mark.parametrize("text", ["T021", "T00", "T5742"])
def test_leading_zeros_and_bad_check_digits_are_misreads(text):
    # T021 is T21 with a leading zero: the same check digit, so it must not pass as a second badge
    assert classify(text) == Misread(text)


@given(st.text(max_size=300))
def test_classify_never_raises(text):
    assert isinstance(classify(text), (Badge, RoleCard, UndoCard, SetupCard, WifiCard, Misread, Foreign))


def test_badge_numbers_start_at_one_and_fit_18_digits():
    with pytest.raises(ValueError):
        badge_code(0)
    assert len(badge_code(codes.MAX_BADGE_NUMBER)) == 19  # T + 18 digits
    assert classify(badge_code(codes.MAX_BADGE_NUMBER)) == Badge(badge_code(codes.MAX_BADGE_NUMBER))
    with pytest.raises(ValueError):
        badge_code(codes.MAX_BADGE_NUMBER + 1)


def test_setup_card_text_round_trips():
    card = SetupCard("barcamp", "10.0.0.2:1883")
    assert classify(card.text) == card


def test_names_with_a_trailing_newline_are_not_names():
    # Python's $ matches before a final newline; fullmatch does not let it through.
    from turnout.protocol import is_kiosk_id
    assert codes.is_role_name("cake") and not codes.is_role_name("cake\n")
    assert is_kiosk_id("hall-1") and not is_kiosk_id("hall-1\n")
    assert codes.is_badge("T5724") and not codes.is_badge("T5724\n")
