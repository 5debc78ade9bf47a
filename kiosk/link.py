"""The kiosk's MQTT link: sends scans and status, receives acks and config.

Callbacks run on paho's network thread; they only turn messages into machine events and
hand them to ``post`` (the daemon's queue). Nothing here decides anything.

"Online" means a scan sent now will be answered: connected to the broker, and the hub has not
said it is offline (its retained status, or its last will).

Rule: nothing raises into paho. paho 2 re-raises an exception from a callback
(``suppress_exceptions`` is off), which ends its network thread: the kiosk would stay
"connected" while nothing is sent or received. So every callback here is ``_guarded``, and the
daemon still watches ``running`` in case the thread dies some other way.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Callable

import paho.mqtt.client as mqtt

from kiosk.daemon import HubOnline
from kiosk.machine import AckReceived, ConfigReceived, Event, LinkChanged
from turnout import __version__
from turnout.broker_url import BrokerURL
from turnout.mqtt import connect, make_client, set_nodelay
from turnout.protocol import (Availability, KioskStatus, ProtocolError, Scan, Topics,
                              decode_ack, decode_config, decode_hub_status)

log = logging.getLogger("turnout.kiosk.link")

# paho's in-memory queue (the outbox in SQLite is the truth): when full, a send fails and
# the outbox sends it later. The outbox keeps at most 64 in flight, so this is slack.
MAX_QUEUED_IN_PAHO = 256


def _guarded(callback):
    """A paho callback that never raises: a failure is logged (and counted) instead."""

    @functools.wraps(callback)
    def guarded(self: "KioskLink", *args) -> None:
        try:
            callback(self, *args)
        except Exception as exc:  # anything at all: an exception here would end paho's thread
            self.callback_failures += 1
            log.error("MQTT %s failed (%s: %s); carrying on (%d so far)", callback.__name__.strip("_"),
                      type(exc).__name__, exc, self.callback_failures)

    return guarded


class KioskLink:
    def __init__(self, kiosk_id: str, broker: BrokerURL, post: Callable[[Event | HubOnline], None],
                 base_topic: str = "turnout", ca: str | None = None):
        self.kiosk_id = kiosk_id
        self.broker = broker  # with its credentials: they go to this host only
        self.topics = Topics(base_topic)
        self.post = post
        self.connected = False
        self.hub_offline = False  # the hub said so; unknown counts as there (it may be older)
        self.bad_messages = 0  # messages on our topics that were not protocol v1
        self.callback_failures = 0
        self._stopping = False
        self._started = False
        self._network: threading.Thread | None = None
        self._queued, self._event, self._storage = 0, None, None  # what the status and will report
        self.client = make_client(f"turnout-kiosk-{kiosk_id}", broker,
                                  self.topics.status(kiosk_id), self._offline_status(), ca=ca)
        self.client.max_queued_messages_set(MAX_QUEUED_IN_PAHO)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        log.info("connecting to broker %s as kiosk %s", self.broker, self.kiosk_id)
        connect(self.client, self.broker)
        self._started = True
        # paho 2 offers no public handle on the thread loop_start() made; this is it.
        thread = getattr(self.client, "_thread", None)
        self._network = thread if isinstance(thread, threading.Thread) else None

    @property
    def running(self) -> bool:
        """Whether paho's network thread is alive: once it has died nothing is sent or received,
        whatever ``connected`` says. (A paho without the thread to watch counts as running.)"""
        if self._network is None:
            return self._started
        return self._network.is_alive()

    def send_scan(self, scan: Scan) -> bool:
        """Hand a scan to paho; False when offline (the outbox will send it later)."""
        if not self.connected:
            return False
        info = self.client.publish(self.topics.scan(self.kiosk_id), scan.to_json(), qos=1)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    @property
    def online(self) -> bool:
        return self.connected and not self.hub_offline

    def send_status(self, queued: int, event: str | None, storage: str | None = None) -> None:
        """Publish the status when connected; either way the last will of the next connection
        carries the same numbers, so a kiosk that vanishes still says how much it holds."""
        self._queued, self._event, self._storage = queued, event, storage
        self.client.will_set(self.topics.status(self.kiosk_id), self._offline_status(),
                             qos=1, retain=True)
        if self.connected:
            payload = KioskStatus(Availability.ONLINE, __version__, queued, event, storage).to_json()
            self.client.publish(self.topics.status(self.kiosk_id), payload, qos=1, retain=True)

    def _offline_status(self) -> bytes:
        return KioskStatus(Availability.OFFLINE, __version__, self._queued, self._event,
                           self._storage).to_json()

    def stop(self) -> None:
        """A clean goodbye: retained offline status, then disconnect. A link whose network
        thread has died only drops its connection (nothing would carry the goodbye)."""
        self._stopping = True
        alive = self.running
        try:
            if self.connected and alive:
                self.client.publish(self.topics.status(self.kiosk_id), self._offline_status(), qos=1,
                                    retain=True).wait_for_publish(2)
            self.client.disconnect()
            self.client.loop_stop()
        except Exception as exc:  # a broken socket: there is nothing left to say goodbye on
            log.debug("closing the MQTT link: %s", exc)
        self.connected = False

    # paho callbacks (network thread): each _guarded, so nothing raises into paho

    @_guarded
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker %s refused the connection: %s", self.broker, reason_code)
            return
        set_nodelay(client)
        client.subscribe([(self.topics.ack(self.kiosk_id), 1), (self.topics.config(self.kiosk_id), 1),
                          (self.topics.hub_status, 1)])
        self.connected = True
        log.info("online: connected to %s", self.broker)
        self.post(LinkChanged(self.online))

    @_guarded
    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected and not self._stopping:
            log.warning("offline: lost the broker (%s); scans wait in the outbox", reason_code)
        self.connected = False
        self.post(LinkChanged(False))

    def _on_hub_status(self, state: object, retained: bool) -> None:
        was = self.online
        self.hub_offline = state == Availability.OFFLINE
        if self.online != was:
            log.info("the hub is %s; scans %s", state,
                     "go out again" if self.online else "wait in the outbox until it is back")
            self.post(LinkChanged(self.online))  # coming online re-sends whatever was in flight
        elif state == Availability.ONLINE and not retained:
            # A hub restarted behind our back may have lost what was in flight. (The retained
            # copy that comes with every subscription is old news: connecting re-sent already.)
            self.post(HubOnline())

    @_guarded
    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        try:
            if msg.topic == self.topics.ack(self.kiosk_id):
                self.post(AckReceived(decode_ack(msg.payload)))
            elif msg.topic == self.topics.config(self.kiosk_id):
                if msg.payload:  # an empty retained message clears the config topic: nothing to apply
                    self.post(ConfigReceived(decode_config(msg.payload)))
            elif msg.topic == self.topics.hub_status:
                self._on_hub_status(decode_hub_status(msg.payload), msg.retain)
        except ProtocolError as exc:
            self.bad_messages += 1
            log.warning("ignored a bad message on %s (%d so far): %s", msg.topic, self.bad_messages, exc)
        except Exception as exc:  # a decoder bug, not the sender's: still nothing reaches paho
            self.bad_messages += 1
            log.error("ignored a message on %s that could not be read (%d so far): %s: %s",
                      msg.topic, self.bad_messages, type(exc).__name__, exc)
