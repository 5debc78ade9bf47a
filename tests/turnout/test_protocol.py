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
