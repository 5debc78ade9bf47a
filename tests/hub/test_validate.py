"""Every way a message can be refused, checked without a broker."""

import json

import pytest

from hub.validate import Reason, Refusal, check_annulment, check_scan, read_scan
from tests.hub.kiosks import make_scan
from turnout.codes import badge_code

GOOD = make_scan("hall-1", "ev1", badge_code(572))
ROLES = {"attend", "cake"}


def payload(**changes):
    data = GOOD.to_dict()
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not ...}).encode()


def test_a_good_scan_reads_back_as_a_scan():
    assert read_scan(GOOD.to_json(), "hall-1") == GOOD
    assert check_scan(GOOD, ROLES, {"ev1"}) is None


@pytest.mark.parametrize("raw, reason, answerable", [
    (b"\xff\xfe not json", Reason.NOT_JSON, False),
    (b"[1, 2]", Reason.NOT_JSON, False),
    (payload(v=2), Reason.VERSION, True),
    (payload(role=...), Reason.SCHEMA, True),
    (payload(seq="one"), Reason.SCHEMA, True),
    (payload(extra=1), Reason.SCHEMA, True),
    (payload(kiosk="hall-2"), Reason.SPOOFED, True),
    (payload(note="x" * 5000), Reason.OVERSIZE, True),
])
def test_protocol_refusals_say_why_and_keep_the_id_when_there_is_one(raw, reason, answerable):
    result = read_scan(raw, "hall-1")
    assert isinstance(result, Refusal) and result.reason.startswith(reason)
    assert (result.scan_id == GOOD.id) is answerable


def test_product_refusals():
    bad_digit = make_scan("hall-1", "ev1", "T5725")
    assert check_scan(bad_digit, ROLES, {"ev1"}).startswith(Reason.CHECK_DIGIT)
    assert check_scan(make_scan("hall-1", "ev1", GOOD.badge, role="juggle"), ROLES, {"ev1"}) \
        == f"{Reason.UNKNOWN_ROLE}: juggle"
    assert check_scan(make_scan("hall-1", None, GOOD.badge), ROLES, {"ev1"}) == Reason.NO_EVENT
    assert check_scan(make_scan("hall-1", "ev9", GOOD.badge), ROLES, {"ev1"}).startswith(Reason.UNKNOWN_EVENT)


def test_an_undo_must_match_the_badge_and_role_it_undoes():
    undo = make_scan("hall-1", "ev1", GOOD.badge, annuls=GOOD.id)
    assert check_annulment(undo, GOOD.badge, "attend") is None
    assert check_annulment(undo, None, None) is None  # target not here yet: accepted
    assert check_annulment(undo, "T13", "attend").startswith(Reason.ANNUL_MISMATCH)


# --- The quick schema check never accepts what jsonschema, the reference, refuses. ------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from hub import validate  # noqa: E402

_values = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False),
                    st.text(max_size=40), st.sampled_from([GOOD.id, "hall-1", "T5724", "attend", "ev1"]))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(GOOD.to_dict()) + ["annuls", "extra"]), _values),
       st.booleans())
def test_quick_schema_check_agrees_with_jsonschema(changes, start_good):
    data = {**GOOD.to_dict(), **changes} if start_good else changes
    if validate._quick_is_valid is None:
        pytest.skip("fastjsonschema is not installed; jsonschema alone is used")
    assert validate._quick_is_valid(data) == validate._SCAN_VALIDATOR.is_valid(data)
