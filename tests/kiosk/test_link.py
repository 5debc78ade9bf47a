"""The kiosk's MQTT link against a real Mosquitto: nothing the broker sends can stop it, and a
network thread that dies anyway is noticed and replaced."""

import sqlite3
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.machine import CodeRead
from tests.kiosk.in_process import InProcessKiosk
from tests.kiosk.sim import KioskProcess, StandInHub, wait_for
from turnout.protocol import MAX_PAYLOAD_BYTES, KioskConfig, Topics

TOPICS = Topics()

# What a broker (or anyone who may publish on it) could send on the kiosk's topics.
HOSTILE = {
    "4 KB of nested brackets": b"[" * MAX_PAYLOAD_BYTES,
    "an object nested 4,000 deep": b'{"v":1,"id":' * 400,
    "invalid UTF-8": b'{"v":1,"id":"\xff\xfe","status":"accepted"}',
    "wrong types": b'{"v":1,"id":["x"],"status":{"a":1},"event":7,"roles":"cake","state":[]}',
    # over the protocol's 4 KB, under the 16 KB packets the broker lets through at all
    "oversized": b'{"v":1,"pad":"' + b"x" * 12_000 + b'"}',
    "NaN": b'{"v":NaN}',
    "an event id that is not one": KioskConfig("../../etc/passwd", "Hijack", ()).to_json(),
    "an event name with control characters": b'{"v":1,"event":"ok","event_name":"\\u001b[2J"}',
    "not JSON": b"\x00\x01\x02",
}


def publisher(port):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hostile-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_for(client.is_connected, "the hostile publisher connected")
    return client


def pending(data_dir):
    db = sqlite3.connect(data_dir / "kiosk.db")
    try:
        return db.execute("select count(*) from scans where acked_at is null").fetchone()[0]
    finally:
        db.close()


@pytest.fixture
def kiosk_process():
    started = []
    yield lambda *a, **kw: started.append(KioskProcess(*a, **kw)) or started[-1]
    for k in started:
        k.close()


def test_hostile_payloads_on_every_topic_never_stop_the_kiosk(own_broker, tmp_path, kiosk_process):
    hub = StandInHub(own_broker.port)
    kid = f"hostile-{uuid.uuid4().hex[:8]}"
    evil = publisher(own_broker.port)
    # Retained: the broker hands these over on every (re)connection, before anything else.
    evil.publish(TOPICS.config(kid), HOSTILE["4 KB of nested brackets"], qos=1, retain=True).wait_for_publish(5)
    evil.publish(TOPICS.hub_status, HOSTILE["an object nested 4,000 deep"], qos=1,
                 retain=True).wait_for_publish(5)
    k = kiosk_process(own_broker.url, tmp_path, kiosk_id=kid, extra=["-v"])
    k.wait_online()
    for topic in (TOPICS.ack(kid), TOPICS.config(kid), TOPICS.hub_status):
        for payload in HOSTILE.values():
            evil.publish(topic, payload, qos=1).wait_for_publish(5)
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: "T5724" in hub.badges(), "the scan at the hub")
    wait_for(lambda: pending(tmp_path) == 0, "its ack recorded: the link still reads")
    assert hub.scans[0]["event"] == "barcamp", "no config with a bad event id was applied"
    bad = [e for e in k.errors if "ignored a bad message" in e]
    wait_for(lambda: len([e for e in k.errors if "ignored a bad message" in e]) >= 3 * len(HOSTILE),
             "every hostile message counted and logged")
    assert not any("Traceback" in e for e in k.errors), "\n".join(k.errors[-20:])
    assert k.proc.poll() is None
    assert bad  # e.g. "ignored a bad message on turnout/kiosk/…/config (1 so far): nested more than 8 deep"
    evil.publish(TOPICS.config(kid), b"", retain=True).wait_for_publish(5)
    evil.publish(TOPICS.hub_status, b"", retain=True).wait_for_publish(5)
    evil.loop_stop()
    hub.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the death itself
def test_a_network_thread_that_dies_is_noticed_and_the_link_rebuilt(broker, tmp_path, caplog):
    hub = StandInHub(broker.port)
    kiosk = InProcessKiosk(tmp_path, broker.url)

    def steps(k: InProcessKiosk) -> None:
        k.wait_online()
        first = k.kill_network_thread(hub.client)
        assert k.daemon.link is not first and k.daemon.link.running
        k.daemon.post(CodeRead("T5724"))
        wait_for(lambda: "T5724" in hub.badges(), "a scan made after the death reaches the hub")
        wait_for(lambda: pending(tmp_path) == 0, "and its ack is recorded")

    kiosk.run(steps)
    assert any("MQTT link stopped working" in r.getMessage() for r in caplog.records)
    hub.close()


def test_a_guarded_callback_counts_what_went_wrong_and_the_thread_lives_on(broker, tmp_path):
    """Belt and braces: even a failure inside the link's own handling never reaches paho."""
    hub = StandInHub(broker.port)
    kiosk = InProcessKiosk(tmp_path, broker.url)

    def steps(k: InProcessKiosk) -> None:
        k.wait_online()
        link = k.daemon.link

        def refuse(event):
            raise MemoryError("posting failed")  # not a ProtocolError: the link must still hold

        link.post = refuse
        hub.client.publish(TOPICS.ack(k.kiosk_id), b'{"v":1,"id":"x","status":"accepted"}',
                           qos=1).wait_for_publish(5)
        wait_for(lambda: link.bad_messages == 1, "the failure counted")
        assert link.running
        link.post = k.daemon.post
        k.daemon.post(CodeRead("T5724"))
        wait_for(lambda: pending(tmp_path) == 0, "the same link still syncs")
        assert k.daemon.link is link

    kiosk.run(steps)
    hub.close()
