"""The local Mosquitto the demo, tests and benchmarks start: ports that stay ours."""

from __future__ import annotations

import socket

import pytest

from turnout import local_broker
from turnout.local_broker import Broker, free_port


def test_free_ports_are_outside_the_range_outgoing_connections_take():
    ephemeral = local_broker._ephemeral_ports()
    ports = {free_port() for _ in range(50)}
    assert not ports & set(ephemeral)
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # and free when handed out


def listening_squatter() -> socket.socket:
    """Something else listening on a free port (it accepts, but never speaks MQTT)."""
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", free_port()))
    squatter.listen()
    return squatter


def test_a_broker_whose_port_is_taken_before_it_binds_moves_to_another(tmp_path, monkeypatch):
    with listening_squatter() as squatter:
        taken = squatter.getsockname()[1]
        handed_out = iter([taken])
        monkeypatch.setattr(local_broker, "free_port", lambda: next(handed_out, None) or free_port())
        broker = Broker(tmp_path).start()
        try:
            assert broker.port != taken
            assert broker.proc.poll() is None
            settled = broker.port
            broker.restart()
            assert broker.port == settled  # clients reconnect to the port it settled on
            assert broker.proc.poll() is None
        finally:
            broker.stop()


def test_a_broker_given_a_taken_port_says_so(tmp_path):
    with listening_squatter() as squatter:
        broker = Broker(tmp_path, port=squatter.getsockname()[1])
        try:
            with pytest.raises(local_broker.PortTaken):  # not fooled by the squatter accepting
                broker.start()
        finally:
            broker.stop()
