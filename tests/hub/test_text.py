"""The one rule for text from outside (hub/text.py): visible characters only, formulae defused."""

import pytest

from hub.text import one_line, spreadsheet_safe

RLO, PDF, LRI, PDI, ZWSP, ZWJ, ZWNJ, BOM = "\u202e", "\u202c", "\u2066", "\u2069", "\u200b", "\u200d", "\u200c", "\ufeff"


@pytest.mark.parametrize("typed, kept", [
    (f"{RLO}Ada{PDF} Lovelace", "Ada Lovelace"),              # a bidi override cannot reverse the page
    (f"{LRI}Ada{PDI}\u200e\u200f\u061c", "Ada"),               # isolates and direction marks
    (f"Ada{ZWSP}{BOM}\u00ad Love{ZWSP}lace", "Ada Lovelace"),  # zero-width space, BOM, soft hyphen
    ("Ann\n\tLee\x00 \u2028 ", "Ann Lee"),                     # controls and separators are spaces
    ("e\u0301", "\u00e9"),                                     # NFC: one é, however it was typed
    ("\ud800Ada", "Ada"),                                      # a lone surrogate (cannot be stored)
    (None, ""),
])
def test_invisible_and_control_characters_do_not_survive(typed, kept):
    assert one_line(typed) == kept


@pytest.mark.parametrize("name", [
    f"\U0001F469{ZWJ}\U0001F4BB Sam",          # woman technologist: an emoji sequence
    f"\u2764\ufe0f{ZWJ}\U0001F525 Jo",          # heart on fire, after a variation selector
    f"\u0641\u0627\u0637\u0645\u0647{ZWNJ}\u0632\u0647\u0631\u0627",  # Persian, non-joiner inside
    "\u0d15\u0d7a\u200d\u0d2e",                 # Malayalam with a joiner between letters
])
def test_joiners_stay_where_they_join_two_visible_characters(name):
    assert one_line(name) == name


@pytest.mark.parametrize("typed, kept", [
    (f"{ZWJ}Ada{ZWJ}", "Ada"), (f"Ada {ZWNJ}Lee", "Ada Lee"), (f"A{ZWJ}{ZWJ}{ZWJ}b", f"A{ZWJ}b"),
    (f"A{ZWJ}{RLO}b", "Ab"),
])
def test_joiners_anywhere_else_go(typed, kept):
    assert one_line(typed) == kept


@pytest.mark.parametrize("cell, written", [
    ("=HYPERLINK(\"https://evil.example\")", "'=HYPERLINK(\"https://evil.example\")"),
    ("+1", "'+1"), ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Ada", "Ada"), ("", ""), (None, ""), (-5, -5), (2.5, 2.5),
])
def test_cells_a_spreadsheet_would_run_are_defused_and_numbers_are_left_alone(cell, written):
    assert spreadsheet_safe(cell) == written
