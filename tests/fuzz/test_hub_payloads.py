"""The hub's readers of kiosk messages, fed hostile payloads: they never raise, what they let
through is well typed, every refusal says why in words safe to log and show, and every message
that carries a usable scan id is answered under that id."""

from __future__ import annotations

import logging
import re

import pytest
from hypothesis import example, given, strategies as st

from hub.intake import Intake, Message
from hub.store import Store
from hub.validate import Reason, Refusal, check_scan, peek_id, read_scan, read_status
from tests.fuzz.hostile import (NASTY_CHARACTERS, encode, fuzz, good_scan, json_values, payloads,
                                texts, usable_id)
from turnout.codes import is_role_name
from turnout.protocol import (EVENT_ID, MAX_PAYLOAD_BYTES, AckStatus, Availability, Scan,
                              Topics, decode_ack, is_kiosk_id)

TOPICS = Topics()
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
REASONS = tuple(v for k, v in vars(Reason).items() if not k.startswith("_"))
GOOD = good_scan()
GOOD_STATUS = {"v": 1, "state": "online", "version": "0.1.0", "queued": 3, "event": "2025-03-14-camp"}


def assert_safe_words(text: str, limit: int = 300) -> None:
    """Words that go to a kiosk screen, a journal line and a database: printable, encodable, short."""
    assert isinstance(text, str) and text.isprintable(), repr(text)
    text.encode("utf-8")  # no lone surrogate
    assert len(text) <= limit, len(text)


def assert_well_typed_scan(scan: Scan, kiosk: str) -> None:
    assert UUID.fullmatch(scan.id) and scan.kiosk == kiosk
    assert scan.event is None or EVENT_ID.fullmatch(scan.event)
    assert re.fullmatch(r"T[1-9][0-9]{1,17}", scan.badge) and is_role_name(scan.role)
    assert isinstance(scan.ts, str) and 10 <= len(scan.ts) <= 40 and scan.ts.isprintable()
    assert type(scan.seq) is int and 0 <= scan.seq < 2**63
    assert type(scan.clock_ok) is bool
    assert scan.annuls is None or UUID.fullmatch(scan.annuls)
    assert read_scan(scan.to_json(), kiosk) == scan  # what was read can be written and read again


scan_payloads = payloads(GOOD.to_dict())


@fuzz(200)
@given(scan_payloads)
def test_read_scan_never_raises_and_lets_through_only_well_typed_scans(payload):
    result = read_scan(payload, "hall-1")
    expected_id = usable_id(payload)
    if isinstance(result, Scan):
        assert_well_typed_scan(result, "hall-1")
        assert result.id == expected_id
        check_scan(result, {"attend"}, {GOOD.event})
        return
    assert isinstance(result, Refusal)
    assert result.reason.startswith(REASONS), result.reason
    assert_safe_words(result.reason)
    assert result.scan_id == expected_id


@fuzz(100)
@given(st.sampled_from(sorted(GOOD.to_dict())), json_values)
@example("seq", 7.0)  # JSON Schema's integer: it became Scan(seq=7.0)
def test_any_value_in_any_field_is_read_or_refused_in_safe_words(key, value):
    payload = encode({**GOOD.to_dict(), key: value}, ensure_ascii=True)
    result = read_scan(payload, "hall-1")
    if isinstance(result, Scan):
        assert_well_typed_scan(result, "hall-1")
    else:
        assert_safe_words(result.reason)


@fuzz(100)
@given(st.lists(st.sampled_from(NASTY_CHARACTERS), min_size=1, max_size=6).map("".join))
@example("\n2025-03-14 INFO kiosk hall-1: T5724 attend")  # a forged journal line
@example("\ud800")  # made the refusal unstorable: the whole batch was redone one by one
def test_a_version_written_in_nasty_characters_is_refused_in_safe_words(junk):
    """The refusal quotes what the message said its version was: that quote must not carry a
    newline into the journal, a bidi override onto the screen or a lone surrogate into SQLite."""
    result = read_scan(encode({**GOOD.to_dict(), "v": junk}), "hall-1")
    assert isinstance(result, Refusal) and result.reason.startswith(Reason.VERSION)
    assert_safe_words(result.reason)
    assert result.scan_id == GOOD.id


@fuzz(200)
@given(payloads(GOOD_STATUS))
@example(b'{"v":1,"state":"online","queued":3.0}')
def test_read_status_never_raises_and_lets_through_only_well_typed_statuses(payload):
    data = read_status(payload)
    if data is None:
        return
    assert data["v"] == 1 and data["state"] in {str(a) for a in Availability}
    version, queued, event = data.get("version"), data.get("queued"), data.get("event")
    assert version is None or (isinstance(version, str) and len(version) <= 64 and version.isprintable())
    assert queued is None or (type(queued) is int and 0 <= queued < 2**63)
    assert event is None or EVENT_ID.fullmatch(event)


@fuzz(100)
@given(st.one_of(scan_payloads, st.builds(lambda n: b'{"id":"x",' + b'"p":"' + b"y" * n + b'"}',
                                          st.integers(0, 300_000))))
def test_peek_id_finds_exactly_the_usable_id(payload):
    assert peek_id(payload) == usable_id(payload)


# --- the hub's whole path for a message: read, check, store or quarantine, answer ------------

@pytest.fixture(scope="module")
def hub(hub_db_shared):
    store = Store(hub_db_shared)
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    yield store, Intake(store), good_scan(event=event.id, badge=ada.badge)
    store.close()


# What MQTT can carry in a topic: UTF-8 without U+0000 (Mosquitto drops a client that sends other).
mqtt_texts = texts.map(lambda t: t.encode("utf-8", "replace").decode().replace("\x00", ""))
kiosk_ids = st.one_of(st.sampled_from(["hall-1", "hall-2"]), mqtt_texts)
topics = st.one_of(
    kiosk_ids.map(TOPICS.scan), kiosk_ids.map(TOPICS.status), kiosk_ids.map(TOPICS.ack),
    st.sampled_from(["turnout/kiosk/hall-1/scan/extra", "turnout/kiosk//scan", "turnout/hub/status",
                     "turnout/kiosk/+/scan", "other/kiosk/hall-1/scan"]),
    mqtt_texts)


@fuzz(60)
@given(st.lists(st.tuples(topics, st.one_of(payloads(GOOD.to_dict()), payloads(GOOD_STATUS))),
                min_size=1, max_size=12))
def test_a_hostile_batch_is_answered_message_by_message_and_costs_no_good_scan(hub, caplog, batch):
    """Every message with a usable id on a kiosk's scan topic gets an ack under that id, which
    the kiosk can read; nothing else is answered; no message costs the batch its single
    transaction; a good scan sent with the junk is still counted."""
    store, intake, good = hub
    fresh = good_scan(event=good.event, badge=good.badge)
    messages = [Message(t, p, "2025-03-14T10:00:00.000Z") for t, p in batch]
    messages.append(Message(TOPICS.scan("hall-1"), fresh.to_json(), "2025-03-14T10:00:00.000Z"))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="turnout.hub"):
        answers = intake.receive_batch(messages)
    assert len(answers) == len(messages)
    for message, answer in zip(messages, answers):
        where = TOPICS.kiosk_of(message.topic)
        kiosk = where[0] if where and where[1] == "scan" and is_kiosk_id(where[0]) else None
        expected = usable_id(message.payload) if kiosk else None
        if expected is None:
            assert answer.ack is None
            continue
        assert answer.kiosk == kiosk and answer.ack.id == expected
        wire = answer.ack.to_json()
        assert len(wire) <= MAX_PAYLOAD_BYTES
        if UUID.fullmatch(expected):  # an id a kiosk makes: the kiosk can read its answer
            heard = decode_ack(wire)
            assert (heard.id, heard.status) == (answer.ack.id, answer.ack.status)
        if answer.ack.reason is not None:
            assert_safe_words(answer.ack.reason)
            assert not answer.ack.reason.startswith("hub could not process"), answer.ack.reason
    assert answers[-1].ack.status in (AckStatus.ACCEPTED, AckStatus.DUPLICATE)
    assert not [r.getMessage() for r in caplog.records if "one by one" in r.getMessage()]


@fuzz(100)
@given(st.sampled_from(["hall-1", "hall-2"]), payloads(GOOD_STATUS))
def test_any_status_leaves_the_kiosk_record_well_typed(hub, kiosk, payload):
    store, intake, _ = hub
    intake.receive_status(TOPICS.status(kiosk), payload)
    record = store.kiosk(kiosk)
    if record is None:
        return
    assert record.state in {"online", "offline", "unknown"}
    assert type(record.queued) is int and 0 <= record.queued < 2**63
    assert record.version is None or (isinstance(record.version, str) and record.version.isprintable())
    assert record.reported_event is None or EVENT_ID.fullmatch(record.reported_event)

