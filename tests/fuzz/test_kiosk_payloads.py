"""What the kiosk does with what the hub (or anyone who can publish) sends it: acks, configs
and the hub's status, fed hostile payloads.

The rule: a decoder raises nothing but ProtocolError; it returns only well-typed values; an
event id it passes on is a valid event id. The link's paho callback raises nothing at all: an
exception there ends paho's network thread, and the kiosk stops hearing the hub.
"""

from __future__ import annotations

import json
import queue
import threading

import paho.mqtt.client as mqtt
import pytest
from hypothesis import example, given, strategies as st

from kiosk.daemon import HubOnline
from kiosk.link import KioskLink
from kiosk.machine import AckReceived, ConfigReceived, LinkChanged
from tests.fuzz.hostile import encode, fuzz, payloads
from turnout.broker_url import BrokerURL
from turnout.protocol import (EVENT_ID, Ack, AckStatus, KioskConfig, NextMilestone, PersonSummary,
                              ProtocolError, Topics, decode_ack, decode_config, load_json_object)

TOPICS = Topics()
SCAN_ID = "0b9e4a52-8c1d-4c43-9f7e-2d1b9b3c4d5e"
GOOD_ACK = json.loads(Ack(SCAN_ID, AckStatus.ACCEPTED, person=PersonSummary(
    "Ada", 26, 22, NextMilestone("25 club", "attend", 25, 3)), milestone="25 club").to_json())
GOOD_CONFIG = {"v": 1, "event": "2026-11-28-barcamp", "event_name": "Barcamp", "roles": ["attend", "cake"]}
GOOD_HUB = {"v": 1, "state": "online", "version": "0.1.0"}
DEEP = b"[" * 3000 + b"]" * 3000  # 6,000 bytes: over the limit, refused before parsing
DEEP_UNDER_LIMIT = b'{"v":1,"id":"x","status":"accepted","person":' + b"[" * 2000 + b"]" * 2000 + b"}"
NESTED_PERSON = b'{"v":1,"id":"x","status":"accepted","person":{"name":"A","points":1,"events":1,' \
    b'"next_milestone":{"name":' + b"[" * 1900 + b"]" * 1900 + b',"target":1,"to_go":1}}}'


def is_int(value) -> bool:
    return type(value) is int


def assert_well_typed_ack(ack: Ack) -> None:
    assert isinstance(ack, Ack) and isinstance(ack.id, str) and isinstance(ack.status, AckStatus)
    assert ack.reason is None or isinstance(ack.reason, str)
    assert ack.milestone is None or isinstance(ack.milestone, str)
    person = ack.person
    if person is not None:
        assert isinstance(person, PersonSummary) and isinstance(person.name, str)
        assert is_int(person.points) and is_int(person.events)
        nm = person.next_milestone
        if nm is not None:
            assert isinstance(nm.name, str) and isinstance(nm.kind, str)
            assert is_int(nm.target) and is_int(nm.to_go)


def assert_well_typed_config(config: KioskConfig) -> None:
    assert isinstance(config, KioskConfig)
    assert config.event is None or (isinstance(config.event, str) and EVENT_ID.fullmatch(config.event)), config.event
    assert config.event_name is None or isinstance(config.event_name, str)
    assert isinstance(config.roles, tuple) and all(isinstance(r, str) for r in config.roles)


@fuzz(200)
@given(payloads(GOOD_HUB))
@example(DEEP_UNDER_LIMIT)  # RecursionError out of json.loads
def test_load_json_object_raises_only_protocol_error(payload):
    try:
        data = load_json_object(payload)
    except ProtocolError:
        return
    assert isinstance(data, dict) and data.get("v") == 1


@fuzz(200)
@given(payloads(GOOD_ACK))
@example(DEEP_UNDER_LIMIT)
@example(NESTED_PERSON)
def test_decode_ack_raises_only_protocol_error_and_returns_a_well_typed_ack(payload):
    try:
        ack = decode_ack(payload)
    except ProtocolError:
        return
    assert_well_typed_ack(ack)


@fuzz(200)
@given(payloads(GOOD_CONFIG))
@example(DEEP_UNDER_LIMIT)
@example(encode({**GOOD_CONFIG, "event": "2026 barcamp\n"}))  # no hub counts a scan for it
@example(encode({**GOOD_CONFIG, "event": "x" * 65}))
def test_decode_config_raises_only_protocol_error_and_passes_on_only_valid_event_ids(payload):
    try:
        config = decode_config(payload)
    except ProtocolError:
        return
    assert_well_typed_config(config)


# --- the link's paho callback: every message the kiosk subscribes to -------------------------

def fresh_link() -> tuple[KioskLink, list]:
    posted: list = []
    link = KioskLink("hall-1", BrokerURL.parse("mqtt://127.0.0.1:1"), posted.append)
    link.connected = True  # as after on_connect: hub status changes are then posted
    return link, posted


def message(topic: str, payload: bytes, retain: bool) -> mqtt.MQTTMessage:
    msg = mqtt.MQTTMessage(topic=topic.encode())
    msg.payload, msg.retain = payload, retain
    return msg


subscribed = st.sampled_from([TOPICS.ack("hall-1"), TOPICS.config("hall-1"), TOPICS.hub_status])


@fuzz(200)
@given(subscribed, st.one_of(payloads(GOOD_ACK), payloads(GOOD_CONFIG), payloads(GOOD_HUB)), st.booleans())
@example(TOPICS.hub_status, DEEP_UNDER_LIMIT, False)
@example(TOPICS.ack("hall-1"), DEEP_UNDER_LIMIT, False)
def test_the_link_callback_never_raises_and_posts_only_well_typed_events(topic, payload, retain):
    link, posted = fresh_link()
    link._on_message(link.client, None, message(topic, payload, retain))
    for event in posted:
        match event:
            case AckReceived(ack):
                assert_well_typed_ack(ack)
            case ConfigReceived(config):
                assert_well_typed_config(config)
            case LinkChanged(online):
                assert isinstance(online, bool)
            case HubOnline():
                pass
            case _:
                raise AssertionError(f"posted {event!r}")


@pytest.mark.slow
def test_a_poison_message_does_not_stop_the_kiosk_hearing_its_acks(broker):
    """On a real broker: after a hub status nested too deep to parse, the next ack still
    arrives (paho's network thread is still running)."""
    events: queue.Queue = queue.Queue()
    link = KioskLink("fuzz-kiosk", BrokerURL.parse(broker.url), events.put)
    subscribed = threading.Event()  # the broker has the link's subscriptions: nothing is missed
    link.client.on_subscribe = lambda *a: subscribed.set()
    link.start()
    sender = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    try:
        assert subscribed.wait(10), "the kiosk link did not subscribe"
        sender.connect("127.0.0.1", broker.port)
        sender.loop_start()
        sender.publish(TOPICS.hub_status, DEEP_UNDER_LIMIT, qos=1).wait_for_publish(5)
        sender.publish(TOPICS.ack("fuzz-kiosk"), Ack(SCAN_ID, AckStatus.ACCEPTED).to_json(),
                       qos=1).wait_for_publish(5)
        while True:
            event = events.get(timeout=5)  # queue.Empty here: the kiosk heard nothing more
            if isinstance(event, AckReceived):
                assert event.ack.id == SCAN_ID
                break
    finally:
        sender.loop_stop()
        sender.disconnect()
        link.stop()
