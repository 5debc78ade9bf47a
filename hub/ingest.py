"""The hub's MQTT side: take scans from kiosks, hand them to the intake, publish the acks.

Exactly-once counting rests on three things: the broker keeps our persistent session's QoS 1
messages while the hub is away; the hub tells the broker it has a message (PUBACK) only after
the batch holding it is committed; and scans are stored idempotently by id, so a message
delivered twice is answered twice but counted once.

Several hubs share the load: each subscribes to the scans with an MQTT v5 shared
subscription (``$share/turnout-hub/…``), so the broker hands each scan to one of them, and any
of them may answer a re-send. Counting stays exact because the database decides: a scan's id is
unique, and a batch reads and scores its badges inside a transaction that serialises with every
other hub's (SQLite: one writer at a time; PostgreSQL: the badges' locks, see hub.storage).
One process speaks for the hub (``control``): its retained status, the kiosks' configs, and
the kiosks' statuses; the others (``serve --worker``) only take scans.

Throughput comes from group commit and a pipeline: the ingest thread drains whatever has
arrived (up to ``max_batch``) and hands it to the intake process (hub.worker), which stores it
in one transaction; meanwhile the thread reads the next batch and, when the answers come
back, publishes every ack and PUBACK.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub import __version__
from hub.intake import Message
from hub.store import Store, utc_now
from hub.worker import BatchFailed, IntakeWorker, WorkerLost
from turnout.broker_url import BrokerURL
from turnout.mqtt import set_nodelay, tls_context
from turnout.protocol import Availability, HubStatus, Topics

log = logging.getLogger("turnout.hub")

DEFAULT_CLIENT_ID = "turnout-hub"
SHARE_GROUP = "turnout-hub"  # every hub process takes scans in this one shared subscription
# A hub that dies keeps its session (and the scans the broker queues for it) this long; one
# that stops on purpose ends it, so that its share of the scans goes to the others at once.
# (Mosquitto deals a shared subscription's messages to absent members too.) Past either, the
# kiosks send again what was not acked: they keep every scan until it is.
SESSION_EXPIRY_SECONDS = 3600
DRAIN_SECONDS = 10.0  # a stopping hub answers what it has read for this long at most
CONFIG_CHECK_SECONDS = 2.0  # how soon an assignment made in another process reaches its kiosk
# Acks on their way out: in flight to the broker, then queued in paho. Past both, an ack is
# dropped (and logged); the kiosk re-sends the scan after 30 s and is answered then.
MAX_ACKS_IN_FLIGHT = 1_000
MAX_ACKS_QUEUED = 10_000
ACK_ROOM = MAX_ACKS_IN_FLIGHT + MAX_ACKS_QUEUED
# Past this without a turn of the ingest loop, or with one batch in the intake's hands, the
# ingest is stuck (its longest honest wait is the broker's back-off, 15 s, and a 5 s connect).
STUCK_SECONDS = 60.0


@dataclass(frozen=True)
class _Delivery:
    message: Message
    mid: int
    qos: int
    session: int  # which connection it came on: a PUBACK is only valid on that one
    arrived: float  # monotonic seconds, for the ack latency


class Ingest:
    """Runs in the background of ``turnout-hub serve``: ``start()``, then ``stop()``.

    One thread does all the MQTT work: it reads what has arrived, sends a batch to the intake
    process, and writes the acks and PUBACKs when its answers are back. Keeping paho on one
    thread avoids waking a second network thread for every packet.
    """

    def __init__(self, store: Store, broker: str | BrokerURL, topics: Topics | None = None,
                 client_id: str = DEFAULT_CLIENT_ID, max_batch: int = 500,
                 max_inbox: int | None = None, ca: str | None = None, metrics=None,
                 scans: bool = True, control: bool = True):
        if not (scans or control):
            raise ValueError("an ingest with neither scans nor control has nothing to do")
        self.store = store
        self.scans = scans  # take kiosks' scans (the shared subscription)
        self.control = control  # speak for the hub: its status, kiosk configs and statuses
        self.broker = broker if isinstance(broker, BrokerURL) else BrokerURL.parse(broker)
        self.topics = topics or Topics()
        self.max_batch = max_batch
        # Messages read and waiting for the intake. When it is full the hub stops reading, so a
        # flood waits at the broker (and in TCP) rather than in the hub's memory.
        self.max_inbox = max_inbox or 2 * max_batch
        self.inbox_high_water = 0  # the most ever waiting: for tests and the metrics
        self.acks_dropped = 0
        self._acks_unconfirmed = 0  # acks handed to paho that the broker has not PUBACKed yet
        self.ca = ca  # a CA file to trust for mqtts (the hub's own CA); None: the system's
        self.metrics = metrics  # a hub.metrics.HubMetrics, or None
        self.connected = threading.Event()
        self._inbox: list[_Delivery] = []
        self._pending: list[_Delivery] | None = None  # the batch the intake has in hand
        self._config_check = threading.Event()  # set: look for configs to send now
        self._config_checked = 0.0
        self._session = 0
        self._subscribing: int | None = None  # the message id of the subscribe the broker has not granted
        self._stamp, self._stamped = utc_now(), time.monotonic()
        self._running = False
        self._dialled = False  # paho wants connect() the first time, reconnect() after
        self._thread: threading.Thread | None = None
        self._worker: IntakeWorker | None = None
        self.turned = time.monotonic()  # the last turn of the ingest loop (see stuck())
        self._submitted = time.monotonic()  # when the batch in hand went to the intake
        self.client = self._make_client(client_id)

    def _make_client(self, client_id: str) -> mqtt.Client:
        # manual_ack: the broker hears "got it" only after the database has it. MQTT v5 for the
        # shared subscription; the session persists (clean_start=False in _connect).
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=MQTTProtocolVersion.MQTTv5, manual_ack=True)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set_context(tls_context(self.ca))
        if self.control:  # a worker going away is not the hub going away
            client.will_set(self.topics.hub_status, self._status(Availability.OFFLINE), qos=1, retain=True)
        client.max_inflight_messages_set(MAX_ACKS_IN_FLIGHT)
        client.max_queued_messages_set(ACK_ROOM)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        # Our own loop writes (see _step): paho then queues each publish instead of writing it
        # at once, so a batch's acks and PUBACKs leave together.
        client.on_socket_register_write = lambda client, userdata, sock: None
        return client

    @staticmethod
    def _status(state: Availability) -> bytes:
        return HubStatus(state, __version__).to_json()

    # -- lifecycle --

    def start(self) -> "Ingest":
        self._worker = IntakeWorker(self.store.db.path, self.store.file_rules, self.topics,
                                    logging.getLogger().getEffectiveLevel())
        self._running = True
        self._thread = threading.Thread(target=self._run, name="hub-ingest", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Finish the batch in hand, say we are going offline, disconnect."""
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=15)
        if self._worker is not None:
            self._worker.stop()
        log.info("hub ingest stopped")

    def stuck(self, now: float | None = None, limit: float = STUCK_SECONDS) -> str | None:
        """What is wrong, in words, if the ingest is not doing its work; None when it is. The
        hub's watchdog (hub.watchdog) stops telling systemd it is alive while this says so."""
        now = time.monotonic() if now is None else now
        if self._thread is None or not self._thread.is_alive():
            return "the ingest thread is not running"
        if now - self.turned > limit:
            return f"the ingest loop has not moved for {now - self.turned:.0f} s"
        if self._pending is not None and now - self._submitted > limit:
            return (f"the intake process has held a batch of {len(self._pending)} messages for "
                    f"{now - self._submitted:.0f} s")
        return None

    @property
    def waiting(self) -> int:
        """Messages read from the broker and not yet answered."""
        return len(self._inbox) + len(self._pending or ())

    def publish_config(self, kiosk_id: str | None = None) -> None:
        """Send kiosks their new event and roles now rather than at the next look (every few
        seconds). Safe from any thread: the ingest thread does the sending."""
        self._config_check.set()

    # -- the ingest thread --

    def _run(self) -> None:
        log.info("connecting to the broker at %s", self.broker)
        delay = 1.0
        while self._running:
            self.turned = time.monotonic()
            sock = self.client.socket()
            if sock is None:  # not connected: dial, and back off while the broker is away
                if not self._connect():
                    time.sleep(delay)
                    delay = min(delay * 2, 15)
                continue
            delay = 1.0
            self._step(sock)
        self._drain()
        if self._pending is not None:
            self._answer()  # the batch in hand is committed or not: answer it either way
        self._goodbye()

    def _step(self, sock) -> None:
        """One turn of the loop, run here rather than by paho's loop() so that one select()
        waits on both the broker and the intake's answers, and a whole batch of acks goes
        out in one write instead of a send() per publish."""
        # Else back-pressure: leave scans at the broker. Still read while acks await their
        # PUBACKs (the broker's Receive Maximum bounds what else can come).
        room = len(self._inbox) < self.max_inbox or self._acks_unconfirmed > 0
        buffered = sock.pending() if room and hasattr(sock, "pending") else 0  # TLS bytes already read
        waiting = ([sock] if room else []) + ([self._worker] if self._pending is not None else [])
        idle = not buffered and not (self._inbox and self._pending is None)
        readable, writable, _ = select.select(waiting, [sock] if self.client.want_write() else [], [],
                                              0.1 if idle else 0)
        if room and (sock in readable or buffered):
            self.client.loop_read()  # drain what is already here
            self.inbox_high_water = max(self.inbox_high_water, len(self._inbox))
        if self.client.socket() is None:
            return  # the connection went: reconnect
        self.client.loop_misc()  # keepalive
        self._send_configs()
        if self._pending is not None and self._worker in readable:
            self._answer()
        # A new batch only when its acks will have room in paho's queue: otherwise they would
        # be dropped, and the kiosks wait 30 s to send again. The scans wait at the broker.
        if self._pending is None and self._inbox and self._acks_unconfirmed <= ACK_ROOM - self.max_batch:
            self._pending, self._inbox = self._inbox[:self.max_batch], self._inbox[self.max_batch:]
            self._submit()
        if sock in writable or self.client.want_write():
            self.client.loop_write()

    def _connect(self) -> bool:
        try:
            if not self._dialled:
                self._dialled = True
                session = Properties(PacketTypes.CONNECT)
                session.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
                # The broker sends no more unanswered scans than the inbox holds: the rest wait
                # there, and the socket can always be read for the PUBACKs of our acks.
                session.ReceiveMaximum = self.max_inbox + self.max_batch
                self.client.connect(self.broker.host, self.broker.port, keepalive=30, clean_start=False,
                                    properties=session)
            else:
                self.client.reconnect()
        except OSError as exc:
            log.warning("cannot reach the broker at %s (%s); trying again", self.broker, exc)
            return False
        return True

    def _drain(self) -> None:
        """Stopping: say the hub is going (kiosks then hold their scans), take no more scans,
        and answer those already read, so nothing waits for a kiosk's re-send."""
        if not self.client.is_connected():
            return
        if self.control:
            self._publish_and_wait(self.topics.hub_status, self._status(Availability.OFFLINE))
        if self.scans:
            self.client.unsubscribe(f"$share/{SHARE_GROUP}/{self.topics.all_scans}")
        deadline = time.monotonic() + DRAIN_SECONDS
        while (self._inbox or self._pending) and time.monotonic() < deadline:
            sock = self.client.socket()
            if sock is None:
                return
            self.turned = time.monotonic()
            self._step(sock)

    def _publish_and_wait(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=True)
        deadline = time.monotonic() + 3
        while not info.is_published() and time.monotonic() < deadline and self.client.is_connected():
            self.client.loop(timeout=0.05)

    def _goodbye(self) -> None:
        if not self.client.is_connected():
            return
        self.client.loop_write()  # the last acks and PUBACKs
        ended = Properties(PacketTypes.DISCONNECT)
        ended.SessionExpiryInterval = 0  # stopped on purpose: the session ends (see SESSION_EXPIRY_SECONDS)
        self.client.disconnect(properties=ended)
        self.client.loop(timeout=0.1)

    def _send_configs(self, everything: bool = False) -> None:
        """Publish each kiosk's retained config that changed since it was last sent: an
        organiser's assignment from the web admin or the command line (another process), or
        new roles. The database says what was sent, so nothing depends on this process."""
        now = time.monotonic()
        if not self.control:
            return  # the one process that speaks for the hub sends them
        if not everything and not self.connected.is_set():
            return  # connecting sends them all
        if not (everything or self._config_check.is_set() or now - self._config_checked >= CONFIG_CHECK_SECONDS):
            return
        self._config_check.clear()
        self._config_checked = now
        try:
            due = self.store.configs_to_send(everything)
            for kiosk_id, config in due.items():
                self.client.publish(self.topics.config(kiosk_id), config.to_json(), qos=1, retain=True)
                self.store.config_sent(kiosk_id, config)
                log.info("told kiosk %s to count for %s", kiosk_id, config.event or "no event")
        except Exception:  # the database is busy: the next look sends them
            log.exception("could not send kiosk configs; trying again shortly")

    # -- paho callbacks (called on the ingest thread, from inside loop) --

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("the broker at %s refused the hub: %s", self.broker, reason_code)
            return
        self._session += 1
        self._inbox = [d for d in self._inbox if d.qos == 0]  # the broker sends the rest again
        set_nodelay(client)
        if flags.session_present:  # a session from before shared subscriptions: not twice
            client.unsubscribe(self.topics.all_scans)
        wanted = [(f"$share/{SHARE_GROUP}/{self.topics.all_scans}", 1)] if self.scans else []
        if self.control:  # not shared: the retained statuses come with a plain subscription
            wanted.append((self.topics.all_statuses, 1))
            # and our own: an earlier hub process's last will, sent late by the broker once that
            # connection times out, must not leave "offline" standing while this one serves
            wanted.append((self.topics.hub_status, 1))
        # Connected means scans reach us: that is once the broker has the subscriptions (its
        # SUBACK), not now. A scan sent before then to a topic nobody holds is dropped.
        self._subscribing = client.subscribe(wanted)[1] if wanted else None
        if self.control:
            client.publish(self.topics.hub_status, self._status(Availability.ONLINE), qos=1, retain=True)
            self._send_configs(everything=True)  # a broker without persistence lost the retained ones
        if self._subscribing is None:
            self.connected.set()
        log.info("connected to the broker at %s; %s", self.broker,
                 "listening for scans" + (" and speaking for the hub" if self.control else " (a worker)")
                 if self.scans else "speaking for the hub (scans go to the workers)")

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._acks_unconfirmed = max(0, self._acks_unconfirmed - 1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [str(code) for code in reason_codes if code.is_failure]
        if refused:  # e.g. a broker without shared subscriptions, or an ACL that forbids them
            log.error("the broker at %s refused the hub's subscriptions (%s): no scans arrive; "
                      "it needs MQTT v5 shared subscriptions (docs/scaling.md)", self.broker,
                      ", ".join(refused))
        if mid == self._subscribing:
            self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if self._running:
            log.warning("lost the broker at %s (%s); reconnecting", self.broker, reason_code)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self.topics.hub_status:
            if self.control and self._running and msg.payload != self._status(Availability.ONLINE):
                log.warning("the broker said the hub is offline (an old connection's last will);"
                            " saying online again")
                client.publish(self.topics.hub_status, self._status(Availability.ONLINE), qos=1, retain=True)
            return
        self._inbox.append(_Delivery(Message(msg.topic, msg.payload, self._arrival_time()), msg.mid,
                                     msg.qos, self._session, time.monotonic()))

    def _arrival_time(self) -> str:
        """Now, to the millisecond; formatted once per millisecond, not once per message."""
        now = time.monotonic()
        if now - self._stamped >= 0.001:
            self._stamp, self._stamped = utc_now(), now
        return self._stamp

    # -- one batch: the intake commits it, then the acks and PUBACKs go out --

    def _submit(self) -> None:
        self._submitted = time.monotonic()
        while True:
            try:
                return self._worker.submit([(d.message.topic, d.message.payload, d.message.received_at)
                                        for d in self._pending])
            except WorkerLost as exc:
                self._replace_worker(exc)

    def _answer(self) -> None:
        """Publish the answers to the batch in hand; on failure, hand the batch in again."""
        try:
            answers = self._worker.answers()
        except BatchFailed as exc:  # the database is busy or full: keep the batch, try again
            log.error("could not store %d messages (%s); trying again in 2 s", len(self._pending), exc)
            time.sleep(2)
            self._submit()
            return
        except WorkerLost as exc:
            self._replace_worker(exc)
            self._submit()
            return
        dropped = self.acks_dropped
        for kiosk, ack, _, _ in answers:
            if ack is not None and kiosk is not None:
                if self.client.publish(self.topics.ack(kiosk), ack, qos=1).rc != mqtt.MQTT_ERR_SUCCESS:
                    self.acks_dropped += 1  # the broker is not taking them: the kiosk re-sends
                else:
                    self._acks_unconfirmed += 1
        if self.metrics is not None:
            self._measure(answers)
        if self.acks_dropped // 100 > dropped // 100 or (self.acks_dropped and not dropped):
            log.warning("%d acks could not be sent (the broker is slow to take them); kiosks "
                        "re-send those scans and are answered then", self.acks_dropped)
        for delivery in self._pending:
            if delivery.qos > 0 and delivery.session == self._session:
                self.client.ack(delivery.mid, delivery.qos)
        self._pending = None

    def _measure(self, answers) -> None:
        now = time.monotonic()
        scans = [d for d in self._pending if d.message.topic.endswith("/scan")]
        for delivery, (_, ack, status, reason) in zip(scans, answers):
            self.metrics.answered(status, reason)
            if ack is not None:
                self.metrics.ack_latency.observe(now - delivery.arrived)
        self.metrics.waiting.set(len(self._inbox))

    def _replace_worker(self, exc: Exception) -> None:
        log.error("%s; starting a new one and handing it the batch again", exc)
        time.sleep(1)  # not a tight loop if it cannot start at all
        self._worker.restart()
