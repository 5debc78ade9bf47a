"""Ingest against a real Mosquitto: an ack for every message with an id, whatever it holds."""

import json
import os
import signal
import time
import uuid

import pytest

from hub.ingest import Ingest
from hub.store import Store
from hub.validate import Reason
from tests.hub.kiosks import TOPICS, FakeKiosk, make_scan, retained


@pytest.fixture
def hub(hub_db, tmp_path, broker):
    store = Store(hub_db)
    ingest = Ingest(store, broker.url, client_id=f"hub-{uuid.uuid4().hex[:8]}").start()
    assert ingest.connected.wait(10)
    kiosk = FakeKiosk(broker.port, f"k{uuid.uuid4().hex[:8]}")
    yield store, ingest, kiosk
    kiosk.close()
    ingest.stop()
    store.close()


def test_accepted_duplicate_and_resent(hub):
    store, ingest, kiosk = hub
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    scan = make_scan(kiosk.kiosk, event.id, ada.badge)
    ack = kiosk.ask(scan)
    assert ack["status"] == "accepted" and ack["v"] == 1
    assert ack["person"]["name"] == "Ada" and ack["person"]["points"] == 1
    assert ack["person"]["next_milestone"] == {"name": "25 club", "kind": "attend", "target": 25, "to_go": 24}
    assert kiosk.ask(scan)["status"] == "accepted"
    assert kiosk.ask(make_scan(kiosk.kiosk, event.id, ada.badge))["status"] == "duplicate"
    assert store.count_scans() == 2 and store.kiosk(kiosk.kiosk) is not None


def test_every_rejection_reason_is_acked_and_the_hub_keeps_going(hub):
    store, ingest, kiosk = hub
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    good = make_scan(kiosk.kiosk, event.id, ada.badge)

    def raw(**changes):
        data = {**make_scan(kiosk.kiosk, event.id, ada.badge).to_dict(), **changes}
        return data["id"], json.dumps(data).encode()

    cases = {
        Reason.VERSION: raw(v=7),
        Reason.SCHEMA: raw(seq=-1),
        Reason.SPOOFED: raw(kiosk="someone-else"),
        Reason.CHECK_DIGIT: raw(badge="T5725"),
        Reason.UNKNOWN_ROLE: raw(role="juggle"),
        Reason.UNKNOWN_EVENT: raw(event="no-such-event"),
        Reason.NO_EVENT: raw(event=None),
        Reason.OVERSIZE: raw(padding="x" * 5000),
    }
    for scan_id, payload in cases.values():
        kiosk.send(payload)
    kiosk.send(b"\x00\x01 not json at all")
    kiosk.send(b'{"v": 1, "id": ')
    acks = kiosk.wait_for([scan_id for scan_id, _ in cases.values()])
    for reason, (scan_id, _) in cases.items():
        assert acks[scan_id]["status"] == "rejected"
        assert acks[scan_id]["reason"].startswith(reason), (reason, acks[scan_id]["reason"])
    assert kiosk.ask(good)["status"] == "accepted"  # still alive, and in order after the junk
    assert len(store.quarantined()) == len(cases) + 2


def test_hub_status_is_retained_and_kiosks_get_their_config(hub, broker):
    store, ingest, kiosk = hub
    status = retained(broker.port, TOPICS.hub_status)
    assert status["state"] == "online" and status["v"] == 1
    event = store.add_event("Camp", "2025-03-14")
    store.assign_kiosk(kiosk.kiosk, event.id)
    ingest.publish_config(kiosk.kiosk)
    config = retained(broker.port, TOPICS.config(kiosk.kiosk))
    assert config["event"] == event.id and "cake" in config["roles"]


def test_kiosk_status_messages_are_recorded(hub, broker):
    store, ingest, kiosk = hub
    kiosk.client.publish(TOPICS.status(kiosk.kiosk),
                         b'{"v":1,"state":"online","version":"0.1.0","queued":4,"event":null}',
                         qos=1, retain=True).wait_for_publish(5)
    event = store.add_event("Camp", "2025-03-14")
    kiosk.ask(make_scan(kiosk.kiosk, event.id, "T13"))  # acks come after the status is stored
    k = store.kiosk(kiosk.kiosk)
    assert (k.state, k.queued) == ("online", 4)
    kiosk.client.publish(TOPICS.status(kiosk.kiosk), b"", retain=True).wait_for_publish(5)


def test_hub_says_offline_when_it_stops(hub_db, tmp_path, own_broker):
    store = Store(hub_db)
    ingest = Ingest(store, own_broker.url).start()
    assert ingest.connected.wait(10)
    ingest.stop()
    assert retained(own_broker.port, TOPICS.hub_status)["state"] == "offline"


def test_a_burst_from_several_kiosks_is_acked_in_full(hub, broker):
    store, ingest, _ = hub
    event = store.add_event("Camp", "2025-03-14")
    badges = store.add_blank_badges(600)  # printed for the door, scanned before anyone claims them
    kiosks = [FakeKiosk(broker.port, f"burst{n}-{uuid.uuid4().hex[:6]}") for n in range(3)]
    try:
        sent = {}
        for n in range(600):
            k = kiosks[n % 3]
            scan = make_scan(k.kiosk, event.id, badges[n], seq=n)
            sent.setdefault(k, []).append(scan.id)
            k.send(scan)
        for k, ids in sent.items():
            assert all(a["status"] == "accepted" for a in k.wait_for(ids, timeout=60).values())
        assert store.count_scans() == 600
    finally:
        for k in kiosks:
            k.close()


def test_the_intake_process_killed_mid_stream_is_replaced_and_nothing_is_lost(hub, broker):
    store, ingest, kiosk = hub
    event = store.add_event("Camp", "2025-03-14")
    badges = store.add_blank_badges(400)
    scans = [make_scan(kiosk.kiosk, event.id, badges[n], seq=n) for n in range(400)]
    first_worker = ingest._worker._proc.pid
    for scan in scans[:200]:
        kiosk.send(scan)
    kiosk.wait_for([s.id for s in scans[:20]])
    os.kill(first_worker, signal.SIGKILL)  # whatever batch it had in hand is not acked yet
    for scan in scans[200:]:
        kiosk.send(scan)
    acks = kiosk.wait_for([s.id for s in scans], timeout=60)
    assert all(a["status"] == "accepted" for a in acks.values())
    assert store.count_scans() == 400 and ingest._worker._proc.pid != first_worker


def test_the_hub_reconnects_after_the_broker_is_killed_and_answers_again(hub_db, tmp_path, own_broker):
    store = Store(hub_db)
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    ingest = Ingest(store, own_broker.url).start()
    try:
        assert ingest.connected.wait(10)
        kiosk = FakeKiosk(own_broker.port, "hall-1")
        assert kiosk.ask(make_scan("hall-1", event.id, ada.badge))["status"] == "accepted"
        kiosk.close()
        own_broker.stop(kill=True)
        deadline = time.monotonic() + 10
        while ingest.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not ingest.connected.is_set(), "the hub noticed the broker went"
        own_broker.start()
        assert ingest.connected.wait(30), "the hub came back by itself"
        kiosk = FakeKiosk(own_broker.port, "hall-1")
        assert kiosk.ask(make_scan("hall-1", event.id, ada.badge, "cake"))["status"] == "accepted"
        assert retained(own_broker.port, TOPICS.hub_status)["state"] == "online"
        kiosk.close()
    finally:
        ingest.stop()
        store.close()


def test_a_flood_the_intake_cannot_keep_up_with_waits_at_the_broker(tmp_path):
    """Rule: the hub reads no more than its inbox holds; the rest waits at the broker. Shown on a
    broker with no in-flight bound of its own, so the hub's own back-pressure is what holds."""
    import sqlite3

    from tests.broker import Broker

    broker = Broker(tmp_path / "mosquitto", max_inflight=0).start()
    store = Store(tmp_path / "hub.sqlite")
    ingest = Ingest(store, broker.url, max_batch=50).start()
    kiosk = None
    try:
        assert ingest.connected.wait(10)
        kiosk = FakeKiosk(broker.port, "hall-1")
        blocker = sqlite3.connect(tmp_path / "hub.sqlite", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # the intake cannot store: the first batch waits
        ids = []
        for n in range(2000):
            payload = json.dumps({"v": 1, "id": str(uuid.uuid4()), "junk": n}).encode()
            ids.append(json.loads(payload)["id"])
            kiosk.send(payload)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and ingest.inbox_high_water < ingest.max_inbox:
            time.sleep(0.05)
        time.sleep(1)  # long enough for an unbounded reader to take thousands more
        held = ingest.inbox_high_water
        blocker.execute("ROLLBACK")
        blocker.close()
        assert ingest.max_inbox <= held <= ingest.max_inbox + 5, held
        acks = kiosk.wait_for(ids, timeout=120)
        assert all(a["status"] == "rejected" for a in acks.values())  # every id answered
    finally:
        if kiosk:
            kiosk.close()
        ingest.stop()
        store.close()
        broker.stop()


def test_an_old_hub_connections_late_will_does_not_leave_the_hub_offline(hub, broker):
    """A hub killed and started again under another client id: the broker sends the old
    connection's last will ("offline", retained) only when that connection times out, after the
    new hub said online. The running hub puts it right."""
    store, ingest, kiosk = hub
    kiosk.client.publish(TOPICS.hub_status, b'{"v":1,"state":"offline"}', qos=1,
                         retain=True).wait_for_publish(5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if retained(broker.port, TOPICS.hub_status)["state"] == "online":
            break
        time.sleep(0.1)
    assert retained(broker.port, TOPICS.hub_status)["state"] == "online"


def test_the_hub_says_it_is_connected_only_once_the_broker_has_its_subscriptions(hub_db, own_broker):
    """Rule: ``connected`` means scans reach the hub. Over a slow uplink the hub's subscribe
    arrives a second after its connect was accepted; a scan sent when ``connected`` is set
    must still be answered (a scan sent to a topic nobody subscribes to yet is dropped). A broker
    of its own: the hub's goodbye may still be on the slow link when it closes, and the session
    left behind would take a share of every later test's scans."""
    from tests.slowlink import SlowLink

    store = Store(hub_db)
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    link = SlowLink(own_broker.port, delay=1.0)
    ingest = Ingest(store, link.url, client_id=f"hub-{uuid.uuid4().hex[:8]}").start()
    kiosk = FakeKiosk(own_broker.port, f"k{uuid.uuid4().hex[:8]}")
    try:
        assert ingest.connected.wait(10)
        assert kiosk.ask(make_scan(kiosk.kiosk, event.id, ada.badge), timeout=5)["status"] == "accepted"
    finally:
        kiosk.close()
        ingest.stop()
        link.close()
        store.close()
