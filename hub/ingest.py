"""The hub's MQTT side: take scans from kiosks, hand them to ``Intake``, publish the acks.

Exactly-once counting rests on three things: the broker keeps our persistent session's QoS 1
messages while the hub is away; the hub tells the broker it has a message (PUBACK) only after
the batch holding it is committed; and scans are stored idempotently by id, so a message
delivered twice is answered twice but counted once.

Throughput comes from group commit: the worker drains whatever has arrived (up to ``max_batch``),
stores it in one transaction, then publishes every ack.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hub import __version__
from hub.intake import Intake, Message
from hub.store import Store, utc_now
from turnout.broker_url import BrokerURL
from turnout.mqtt import set_nodelay
from turnout.protocol import Availability, HubStatus, Topics

log = logging.getLogger("turnout.hub")

DEFAULT_CLIENT_ID = "turnout-hub"


@dataclass(frozen=True)
class _Delivery:
    message: Message
    mid: int
    qos: int
    session: int  # which connection it came on: a PUBACK is only valid on that one


class Ingest:
    """Runs in the background of ``turnout-hub serve``: ``start()``, then ``stop()``."""

    def __init__(self, store: Store, broker: str | BrokerURL, topics: Topics | None = None,
                 client_id: str = DEFAULT_CLIENT_ID, max_batch: int = 500):
        self.store = store
        self.broker = broker if isinstance(broker, BrokerURL) else BrokerURL.parse(broker)
        self.topics = topics or Topics()
        self.intake = Intake(store, self.topics)
        self.max_batch = max_batch
        self.connected = threading.Event()
        self._deliveries: queue.Queue[_Delivery] = queue.Queue()
        self._session = 0
        self._running = False
        self._worker: threading.Thread | None = None
        self.client = self._make_client(client_id)

    def _make_client(self, client_id: str) -> mqtt.Client:
        # manual_ack: the broker hears "got it" only after the database has it.
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                             protocol=MQTTProtocolVersion.MQTTv311, manual_ack=True)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set()
        client.will_set(self.topics.hub_status, self._status(Availability.OFFLINE), qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=15)
        client.max_inflight_messages_set(0)  # acks go out as fast as batches commit
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    @staticmethod
    def _status(state: Availability) -> bytes:
        return HubStatus(state, __version__).to_json()

    # -- lifecycle --

    def start(self) -> "Ingest":
        self._running = True
        self._worker = threading.Thread(target=self._work, name="hub-ingest", daemon=True)
        self._worker.start()
        log.info("connecting to the broker at %s", self.broker)
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        return self

    def stop(self) -> None:
        """Say we are going offline, finish the batch in hand, disconnect."""
        self._running = False
        if self._worker is not None:
            self._worker.join(timeout=10)
        if self.client.is_connected():
            info = self.client.publish(self.topics.hub_status, self._status(Availability.OFFLINE),
                                       qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=3)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()
        log.info("hub ingest stopped")

    def publish_config(self, kiosk_id: str) -> None:
        """Send a kiosk its event and roles (retained, so it gets them whenever it connects)."""
        config = self.store.kiosk_config(kiosk_id)
        self.client.publish(self.topics.config(kiosk_id), config.to_json(), qos=1, retain=True)
        log.info("told kiosk %s to count for %s", kiosk_id, config.event or "no event")

    # -- paho callbacks (network thread) --

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("the broker at %s refused the hub: %s", self.broker, reason_code)
            return
        self._session += 1
        set_nodelay(client)
        client.subscribe([(self.topics.all_scans, 1), (self.topics.all_statuses, 1)])
        client.publish(self.topics.hub_status, self._status(Availability.ONLINE), qos=1, retain=True)
        for kiosk in self.store.kiosks():
            if kiosk.event:
                self.publish_config(kiosk.id)
        self.connected.set()
        log.info("connected to the broker at %s; listening for scans", self.broker)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if self._running:
            log.warning("lost the broker at %s (%s); reconnecting", self.broker, reason_code)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        self._deliveries.put(_Delivery(Message(msg.topic, msg.payload, utc_now()), msg.mid,
                                       msg.qos, self._session))

    # -- the worker: batch, commit, answer --

    def _work(self) -> None:
        while self._running or not self._deliveries.empty():
            try:
                first = self._deliveries.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._deliveries.get_nowait())
                except queue.Empty:
                    break
            self._handle(batch)

    def _handle(self, batch: list[_Delivery]) -> None:
        scans = [d for d in batch if d.message.topic.endswith("/scan")]
        while True:
            try:
                answers = self.intake.receive_batch([d.message for d in scans])
                break
            except Exception:  # the database is busy or full: keep the batch and try again
                log.exception("could not store %d scans; trying again in 2 s", len(scans))
                time.sleep(2)
        for delivery in batch:
            if not delivery.message.topic.endswith("/scan"):
                try:
                    self.intake.receive_status(delivery.message.topic, delivery.message.payload)
                except Exception:
                    log.exception("could not record a kiosk status")
        for answer in answers:
            if answer.ack is not None and answer.kiosk is not None:
                self.client.publish(self.topics.ack(answer.kiosk), answer.ack.to_json(), qos=1)
        for delivery in batch:
            if delivery.qos > 0 and delivery.session == self._session:
                self.client.ack(delivery.mid, delivery.qos)
