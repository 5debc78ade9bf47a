"""The Mosquitto configuration the project ships runs as is, and bounds what any client can send."""

import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from turnout import local_broker
from turnout.local_broker import MOSQUITTO, free_port

SHIPPED = Path(__file__).parents[2] / "hub" / "mosquitto.conf.example"


def settings(text: str) -> dict[str, str]:
    pairs = (line.split(None, 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {key: value.strip() for key, value in pairs}


@pytest.fixture
def shipped_broker(tmp_path):
    """Mosquitto run from the shipped file, with only its port, data and log moved here."""
    port = free_port()
    text = SHIPPED.read_text().replace("listener 1883", f"listener {port} 127.0.0.1")
    text = text.replace("/var/lib/mosquitto/", f"{tmp_path}/").replace("log_dest syslog", "log_dest stderr")
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(text)
    log = open(tmp_path / "mosquitto.log", "wb")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "mosquitto.log").read_text()
        client = mqtt.Client(CallbackAPIVersion.VERSION2)
        try:
            client.connect("127.0.0.1", port)
            client.disconnect()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)


def test_the_shipped_configuration_bounds_packets_queues_and_in_flight_messages():
    shipped = settings(SHIPPED.read_text())
    assert 0 < int(shipped["max_packet_size"]) <= 64 * 1024
    assert 0 < int(shipped["max_inflight_messages"]) <= 10_000
    assert 1_000 < int(shipped["max_queued_messages"]) <= 1_000_000  # a burst fits; memory bounded
    # The broker the demo, tests and benchmarks start uses the same bounds.
    assert int(shipped["max_packet_size"]) == local_broker.MAX_PACKET_SIZE
    assert int(shipped["max_inflight_messages"]) == local_broker.MAX_INFLIGHT
    assert int(shipped["max_queued_messages"]) == local_broker.MAX_QUEUED


def test_a_client_sending_an_oversized_packet_is_cut_off_by_the_broker(shipped_broker):
    limit = int(settings(SHIPPED.read_text())["max_packet_size"])
    received, lost = [], threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2)
    listener.on_message = lambda c, u, msg: received.append(len(msg.payload))
    listener.connect("127.0.0.1", shipped_broker)
    listener.subscribe("turnout/#", qos=1)
    listener.loop_start()
    sender = mqtt.Client(CallbackAPIVersion.VERSION2)
    sender.on_disconnect = lambda *args: lost.set()
    sender.connect("127.0.0.1", shipped_broker)
    sender.loop_start()
    time.sleep(0.3)
    sender.publish("turnout/kiosk/k1/scan", b"x" * 1000, qos=1).wait_for_publish(5)
    sender.publish("turnout/kiosk/k1/scan", b"x" * (limit + 1), qos=1)
    assert lost.wait(5), "the broker kept a client that sent a packet over max_packet_size"
    time.sleep(0.3)
    assert received == [1000]
    for client in (sender, listener):
        client.loop_stop()
        client.disconnect()
