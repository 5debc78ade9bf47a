"""Test doubles for kiosks on a real broker: publish scans, collect the hub's acks."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from turnout.protocol import Scan, Topics

TOPICS = Topics()


def make_scan(kiosk: str, event: str | None, badge: str, role: str = "attend", seq: int = 1,
              annuls: str | None = None, scan_id: str | None = None) -> Scan:
    # Scanned on the event's own day (event ids start with their date), as a real kiosk would.
    day = event[:10] if event and re.match(r"\d{4}-\d{2}-\d{2}", event) else "2025-03-14"
    return Scan(id=scan_id or str(uuid.uuid4()), kiosk=kiosk, event=event, badge=badge, role=role,
                ts=f"{day}T10:00:00Z", seq=seq, clock_ok=True, annuls=annuls)


class FakeKiosk:
    """Publishes on its scan topic (QoS 1) and records every ack by scan id."""

    def __init__(self, broker_port: int, kiosk: str):
        self.kiosk = kiosk
        self.acks: dict[str, dict] = {}
        self.ack_count = 0
        self._cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{kiosk}-{uuid.uuid4().hex[:6]}")
        self.client.max_inflight_messages_set(0)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", broker_port)
        self.client.loop_start()
        self.client.subscribe(TOPICS.ack(kiosk), qos=1)
        assert subscribed.wait(5), "could not subscribe to acks"

    def _on_message(self, client, userdata, msg):
        data = json.loads(msg.payload)
        with self._cond:
            self.acks[data["id"]] = data
            self.ack_count += 1
            self._cond.notify_all()

    def send(self, scan: Scan | bytes, topic_kiosk: str | None = None) -> None:
        payload = scan.to_json() if isinstance(scan, Scan) else scan
        self.client.publish(TOPICS.scan(topic_kiosk or self.kiosk), payload, qos=1)

    def wait_for(self, ids, timeout: float = 20) -> dict[str, dict]:
        ids = set(ids)
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ids <= set(self.acks):
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = ids - set(self.acks)
                    raise AssertionError(f"{len(missing)} scans never acked, e.g. {sorted(missing)[:3]}")
                self._cond.wait(left)
            return {i: self.acks[i] for i in ids}

    def ask(self, scan: Scan, timeout: float = 20) -> dict:
        self.acks.pop(scan.id, None)
        self.send(scan)
        return self.wait_for([scan.id], timeout)[scan.id]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained(broker_port: int, topic: str, timeout: float = 5,
             until=lambda message: True) -> dict | None:
    """The retained message on a topic, parsed, or None if there is none; with ``until``, the
    first one (retained or published while listening) for which it is true."""
    got: list[bytes] = []
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)

    def on_message(c, u, msg):
        if until(json.loads(msg.payload)):
            got.append(msg.payload)
            done.set()

    client.on_message = on_message
    client.connect("127.0.0.1", broker_port)
    client.loop_start()
    client.subscribe(topic, qos=1)
    done.wait(timeout)
    client.disconnect()
    client.loop_stop()
    return json.loads(got[-1]) if got else None
