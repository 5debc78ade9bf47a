"""The Mosquitto configuration the project ships runs as is, and bounds what any client can send."""

import os
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


def debian_main_conf(tmp_path: Path) -> Path:
    """Debian's /etc/mosquitto/mosquitto.conf (which includes conf.d/), its paths moved here."""
    (tmp_path / "data").mkdir()
    (tmp_path / "conf.d").mkdir()
    lines = [f"pid_file {tmp_path / 'mosquitto.pid'}", "persistence true",
             f"persistence_location {tmp_path / 'data'}/", "log_dest stderr", f"include_dir {tmp_path / 'conf.d'}"]
    if os.geteuid() == 0:  # as root Mosquitto would become the mosquitto user, who cannot reach tmp_path
        lines.insert(0, "user root")
    main = tmp_path / "mosquitto.conf"
    main.write_text("\n".join(lines) + "\n")
    return main


@pytest.fixture
def shipped_broker(tmp_path):
    """Mosquitto as docs/hub.md sets it up: the shipped file in Debian's conf.d, on a free port."""
    port = free_port()
    conf = debian_main_conf(tmp_path)
    (tmp_path / "conf.d" / "turnout.conf").write_text(
        SHIPPED.read_text().replace("listener 1883 ", f"listener {port} "))
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


def test_the_shipped_file_adds_to_debians_without_clashing_and_stays_on_loopback(shipped_broker):
    shipped = SHIPPED.read_text()
    assert [line for line in shipped.splitlines() if line.startswith("listener ")] == ["listener 1883 127.0.0.1"]
    # Debian's main file sets these; Mosquitto refuses a second persistence_location.
    assert not {"pid_file", "persistence", "persistence_location", "log_dest"} & settings(shipped).keys()


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
