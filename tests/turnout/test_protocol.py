import json

import jsonschema
import pytest

from turnout.broker_url import BrokerURL
from turnout.protocol import (SCAN_SCHEMA, Ack, AckStatus, NextMilestone, PersonSummary,
                              ProtocolError, Scan, Topics, decode_ack, decode_config)

SCAN = Scan(id="0b9e4a52-8c1d-4c43-9f7e-2d1b9b3c4d5e", kiosk="hall-1", event="barcamp-2026",
            badge="T5724", role="cake", ts="2026-11-23T10:00:00.000Z", seq=7, clock_ok=True)


def test_scan_payload_matches_the_documented_shape_and_schema():
    data = json.loads(SCAN.to_json())
    assert data == {"v": 1, "id": SCAN.id, "kiosk": "hall-1", "event": "barcamp-2026",
                    "badge": "T5724", "role": "cake", "ts": "2026-11-23T10:00:00.000Z",
                    "seq": 7, "clock_ok": True}
    jsonschema.validate(data, SCAN_SCHEMA)
    assert Scan.from_dict(data) == SCAN


def test_annulment_carries_annuls_and_validates():
    undo = Scan(**{**SCAN.__dict__, "id": "1b9e4a52-8c1d-4c43-9f7e-2d1b9b3c4d5e", "annuls": SCAN.id})
    data = json.loads(undo.to_json())
    assert data["annuls"] == SCAN.id
    jsonschema.validate(data, SCAN_SCHEMA)


@pytest.mark.parametrize("change", [{"v": 2}, {"badge": "5724"}, {"seq": -1}, {"extra": 1},
                                    {"kiosk": "a/b"}, {"clock_ok": "yes"}])
def test_schema_rejects_wrong_payloads(change):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**json.loads(SCAN.to_json()), **change}, SCAN_SCHEMA)


def test_ack_round_trip():
    ack = Ack(SCAN.id, AckStatus.ACCEPTED, None,
              PersonSummary("Ada", 12, 7, NextMilestone("10 club", "attend", 10, 3)), "volunteer 10 club")
    decoded = decode_ack(ack.to_json())
    assert decoded == ack
    assert decoded.person.next_milestone.phrase() == "3 more to your 10"
    assert NextMilestone("volunteer 10 club", "volunteer", 10, 2).phrase() == "Helped 8 of 10"


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"v":1}', b'{"v":1,"id":"x","status":"maybe"}',
                                     b'{"v":9,"id":"x","status":"accepted"}', b"x" * 5000])
def test_bad_acks_raise_protocol_error_only(payload):
    with pytest.raises(ProtocolError):
        decode_ack(payload)


def test_config_decoding():
    cfg = decode_config(b'{"v":1,"event":"e1","event_name":"Barcamp","roles":["attend","cake"]}')
    assert cfg.event == "e1" and cfg.roles == ("attend", "cake")
    with pytest.raises(ProtocolError):
        decode_config(b'{"v":1,"event":"e1","roles":"cake"}')


def test_topics():
    t = Topics()
    assert t.scan("k1") == "turnout/kiosk/k1/scan"
    assert t.kiosk_of("turnout/kiosk/k1/scan") == ("k1", "scan")
    assert t.kiosk_of("turnout/hub/status") is None
    assert Topics("venue").all_scans == "venue/kiosk/+/scan"


def test_broker_url_hides_password_when_printed():
    url = BrokerURL.parse("mqtts://kiosk-1:s3cret@hub.local")
    assert (url.host, url.port, url.tls, url.username, url.password) == ("hub.local", 8883, True, "kiosk-1", "s3cret")
    assert "s3cret" not in str(url)
    assert BrokerURL.parse("localhost:1884").port == 1884
    with pytest.raises(ValueError):
        BrokerURL.parse("http://x")


# --- Hostile payloads: a decoder raises ProtocolError and nothing else, whatever the bytes. ---

from hypothesis import given, settings, strategies as st  # noqa: E402

from turnout.protocol import (MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, MAX_ROLES, Availability,  # noqa: E402
                              decode_hub_status, load_json_object)

DECODERS = [load_json_object, decode_ack, decode_config, decode_hub_status]
NESTED_4K = b"[" * MAX_PAYLOAD_BYTES  # json.loads raises RecursionError on this
HOSTILE = {
    "nested brackets": NESTED_4K,
    "nested inside an object": b'{"v":1,"id":' + b"[" * 4000,
    "nested objects": b'{"a":' * 800,
    "invalid UTF-8": b'{"v":1,"id":"\xff\xfe"}',
    "UTF-16 with a BOM": '{"v":1}'.encode("utf-16"),
    "oversized": b'{"v":1,"pad":"' + b"x" * MAX_PAYLOAD_BYTES + b'"}',
    "empty": b"",
    "NaN": b'{"v":NaN}',
    "a number too big for a float": b'{"v":1e999999}',
    "a list": b"[1,2,3]",
    "a string": b'"hello"',
    "null": b"null",
}


@pytest.mark.parametrize("decode", DECODERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("payload", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_payloads_raise_protocol_error_and_nothing_else(decode, payload):
    with pytest.raises(ProtocolError):
        decode(payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30).map(lambda v: json.dumps({"v": 1, "id": v, "status": v, "event": v, "state": v,
                                             "roles": v, "person": v, "event_name": v}).encode()))
def test_any_bytes_at_all_give_a_value_or_a_protocol_error(payload):
    for decode in DECODERS:
        try:
            decode(payload)
        except ProtocolError:
            pass


def test_nesting_deeper_than_the_protocol_needs_is_refused_before_parsing():
    shallow = b'{"v":1,"id":"x","status":"accepted","person":{"name":"A","points":1,"events":1,' \
              b'"next_milestone":{"name":"n","kind":"attend","target":2,"to_go":1}}}'
    assert decode_ack(shallow).person.next_milestone.to_go == 1
    too_deep = b'{"v":1,"x":' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}"
    with pytest.raises(ProtocolError, match="nested"):
        load_json_object(too_deep)
    brackets_in_text = b'{"v":1,"event_name":"' + b"[" * 50 + b'\\"{{"}'
    assert load_json_object(brackets_in_text)["event_name"] == "[" * 50 + '"{{'
    just_deep_enough = b'{"v":1,"x":' + b"[{}," * (MAX_JSON_DEPTH - 2) + b"0" + b"]" * (MAX_JSON_DEPTH - 2) + b"}"
    assert load_json_object(just_deep_enough)["x"][0] == {}


@pytest.mark.parametrize("payload,why", [
    (b'{"v":1,"event":"../../etc","roles":[]}', "event"),
    (b'{"v":1,"event":"two words","roles":[]}', "event"),
    (b'{"v":1,"event":"' + b"e" * 65 + b'","roles":[]}', "event"),
    (b'{"v":1,"event":"e1\\n","roles":[]}', "event"),
    (b'{"v":1,"event":7,"roles":[]}', "event"),
    (b'{"v":1,"event":"e1","event_name":"Barcamp\\u0007","roles":[]}', "event_name"),
    (b'{"v":1,"event":"e1","event_name":"\\ud800","roles":[]}', "event_name"),
    (b'{"v":1,"event":"e1","event_name":["Barcamp"],"roles":[]}', "event_name"),
    (b'{"v":1,"event":"e1","roles":' + json.dumps(["r"] * (MAX_ROLES + 1)).encode() + b"}", "roles"),
    (b'{"v":1,"event":"e1","roles":[1]}', "roles"),
])
def test_a_config_is_checked_like_everything_else_the_kiosk_stores(payload, why):
    with pytest.raises(ProtocolError, match=why):
        decode_config(payload)


def test_a_long_event_name_is_shortened_not_refused():
    cfg = decode_config(json.dumps({"v": 1, "event": "e1", "event_name": "Barcamp " * 40,
                                    "roles": []}).encode())
    assert cfg.event == "e1" and 0 < len(cfg.event_name) <= 120


def test_an_ack_settles_its_scan_even_when_what_it_shows_is_malformed():
    """id and status decide the outbox; a bad name or number only loses the greeting."""
    ack = decode_ack(json.dumps({"v": 1, "id": SCAN.id, "status": "accepted", "reason": ["x"],
                                 "person": {"name": "\x1b[2J", "points": "lots", "events": 1},
                                 "milestone": {"a": 1}}).encode())
    assert (ack.id, ack.status, ack.person, ack.reason, ack.milestone) == (
        SCAN.id, AckStatus.ACCEPTED, None, None, None)


def test_an_ack_for_an_id_that_is_not_text_is_refused():
    for scan_id in ('"\\ud800"', '"a\\nb"', '""', "[]", "7", '"' + "a" * 65 + '"'):
        with pytest.raises(ProtocolError, match="scan id"):
            decode_ack(b'{"v":1,"status":"accepted","id":' + scan_id.encode() + b"}")


@pytest.mark.parametrize("status", [[], {}, None, 1, "maybe"])
def test_an_ack_status_of_the_wrong_type_is_refused(status):
    with pytest.raises(ProtocolError):
        decode_ack(json.dumps({"v": 1, "id": SCAN.id, "status": status}).encode())


def test_hub_status():
    assert decode_hub_status(b'{"v":1,"state":"offline","version":"1"}') is Availability.OFFLINE
    for bad in (b'{"v":1,"state":["offline"]}', b'{"v":1,"state":"asleep"}', b'{"v":1}'):
        with pytest.raises(ProtocolError):
            decode_hub_status(bad)
