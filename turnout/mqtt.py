"""paho-mqtt 2.x clients set up the Turnout way: persistent session, retained availability
with a last will, TCP_NODELAY. The one place kiosk and hub build their MQTT clients."""

from __future__ import annotations

import socket
import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from turnout.broker_url import BrokerURL


def tls_context(ca: str | None = None) -> ssl.SSLContext:
    """Certificates checked, host name included. ``ca``: the CA to trust instead of the system's
    (a hub's own CA, which kiosks pin): a PEM file's path, or the PEM text itself."""
    if ca and ca.lstrip().startswith("-----BEGIN"):
        return ssl.create_default_context(cadata=ca)
    return ssl.create_default_context(cafile=ca or None)


def make_client(client_id: str, broker: BrokerURL, will_topic: str, will_payload: bytes,
                username: str | None = None, password: str | None = None,
                ca: str | None = None) -> mqtt.Client:
    """A client with a persistent session (the broker keeps our QoS 1 messages while we are
    away) and a retained last will, so others see us go offline when we vanish."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                         protocol=MQTTProtocolVersion.MQTTv311)
    user = username or broker.username
    if user:
        client.username_pw_set(user, password or broker.password)
    if broker.tls:
        client.tls_set_context(tls_context(ca))
    client.will_set(will_topic, will_payload, qos=1, retain=True)
    # Back within seconds of the venue wi-fi returning, without hammering a broker that is down.
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    # paho's own queue is in memory only; our outboxes are the truth, so don't let it grow.
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(100)
    return client


def set_nodelay(client: mqtt.Client) -> None:
    """Without TCP_NODELAY, Nagle's algorithm delays small MQTT packets by tens of ms."""
    sock = client.socket()
    if sock is not None and hasattr(sock, "setsockopt"):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def connect(client: mqtt.Client, broker: BrokerURL, keepalive: int = 30) -> None:
    """Start connecting in the background; paho retries by itself when the broker is away."""
    client.connect_async(broker.host, broker.port, keepalive=keepalive)
    client.loop_start()
