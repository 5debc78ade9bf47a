"""The hub's MQTT side: take scans from kiosks, hand them to ``Intake``, publish the acks.

Exactly-once counting rests on three things: the broker keeps our persistent session's QoS 1
messages while the hub is away; the hub tells the broker it has a message (PUBACK) only after
the batch holding it is committed; and scans are stored idempotently by id, so a message
delivered twice is answered twice but counted once.

Throughput comes from group commit: the ingest thread drains whatever has arrived (up to ``max_batch``),
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
    """Runs in the background of ``turnout-hub serve``: ``start()``, then ``stop()``.

    One thread does all the MQTT work and the storing: it reads what has arrived, stores it in
    one transaction, then writes the acks and PUBACKs itself. Keeping paho on one thread avoids
    waking a second network thread for every packet, which was the hub's main cost.
    """

    def __init__(self, store: Store, broker: str | BrokerURL, topics: Topics | None = None,
                 client_id: str = DEFAULT_CLIENT_ID, max_batch: int = 500):
        self.store = store
        self.broker = broker if isinstance(broker, BrokerURL) else BrokerURL.parse(broker)
        self.topics = topics or Topics()
        self.intake = Intake(store, self.topics)
        self.max_batch = max_batch
        self.connected = threading.Event()
        self._inbox: list[_Delivery] = []
        self._configs: queue.SimpleQueue[str] = queue.SimpleQueue()  # kiosks to send config to
        self._session = 0
        self._running = False
        self._dialled = False  # paho wants connect() the first time, reconnect() after
        self._thread: threading.Thread | None = None
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
        self._thread = threading.Thread(target=self._run, name="hub-ingest", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Finish the batch in hand, say we are going offline, disconnect."""
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=15)
        log.info("hub ingest stopped")

    def publish_config(self, kiosk_id: str) -> None:
        """Send a kiosk its event and roles (retained, so it gets them whenever it connects).
        Safe from any thread: the ingest thread does the sending."""
        self._configs.put(kiosk_id)

    # -- the ingest thread --

    def _run(self) -> None:
        log.info("connecting to the broker at %s", self.broker)
        delay = 1.0
        while self._running:
            if not self.client.is_connected() and not self._connect():
                time.sleep(delay)
                delay = min(delay * 2, 15)
                continue
            delay = 1.0
            self.client.loop(timeout=0.1 if not self._inbox else 0)
            self.client.loop_read(max_packets=self.max_batch)  # drain what is already here
            self._send_configs()
            if self._inbox:
                batch, self._inbox = self._inbox[:self.max_batch], self._inbox[self.max_batch:]
                self._handle(batch)
        self._goodbye()

    def _connect(self) -> bool:
        try:
            if not self._dialled:
                self._dialled = True
                self.client.connect(self.broker.host, self.broker.port, keepalive=30)
            else:
                self.client.reconnect()
        except OSError as exc:
            log.warning("cannot reach the broker at %s (%s); trying again", self.broker, exc)
            return False
        return True

    def _goodbye(self) -> None:
        if self.client.is_connected():
            info = self.client.publish(self.topics.hub_status, self._status(Availability.OFFLINE),
                                       qos=1, retain=True)
            deadline = time.monotonic() + 3
            while not info.is_published() and time.monotonic() < deadline:
                self.client.loop(timeout=0.05)
            self.client.disconnect()
            self.client.loop(timeout=0.1)

    def _send_configs(self) -> None:
        while not self._configs.empty():
            kiosk_id = self._configs.get()
            config = self.store.kiosk_config(kiosk_id)
            self.client.publish(self.topics.config(kiosk_id), config.to_json(), qos=1, retain=True)
            log.info("told kiosk %s to count for %s", kiosk_id, config.event or "no event")

    # -- paho callbacks (called on the ingest thread, from inside loop) --

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("the broker at %s refused the hub: %s", self.broker, reason_code)
            return
        self._session += 1
        self._inbox = [d for d in self._inbox if d.qos == 0]  # the broker sends the rest again
        set_nodelay(client)
        client.subscribe([(self.topics.all_scans, 1), (self.topics.all_statuses, 1)])
        client.publish(self.topics.hub_status, self._status(Availability.ONLINE), qos=1, retain=True)
        for kiosk in self.store.kiosks():
            if kiosk.event:
                self._configs.put(kiosk.id)
        self.connected.set()
        log.info("connected to the broker at %s; listening for scans", self.broker)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if self._running:
            log.warning("lost the broker at %s (%s); reconnecting", self.broker, reason_code)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        self._inbox.append(_Delivery(Message(msg.topic, msg.payload, utc_now()), msg.mid,
                                     msg.qos, self._session))

    # -- one batch: commit, then answer --

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
