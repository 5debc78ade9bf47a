"""The local Mosquitto the demo, tests and benchmarks start: ports that stay ours."""

from __future__ import annotations

import socket

from turnout import local_broker
from turnout.local_broker import Broker, free_port


def test_free_ports_are_outside_the_range_outgoing_connections_take():
    ephemeral = local_broker._ephemeral_ports()
    ports = {free_port() for _ in range(50)}
    assert not ports & set(ephemeral)
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # and free when handed out


def test_a_broker_whose_port_is_taken_before_it_binds_moves_to_another(tmp_path, monkeypatch):
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", free_port()))
    squatter.listen()
    taken = squatter.getsockname()[1]
    handed_out = iter([taken])
    monkeypatch.setattr(local_broker, "free_port", lambda: next(handed_out, None) or free_port())
    broker = Broker(tmp_path).start()
    try:
        assert broker.port != taken
        assert broker.proc.poll() is None
        broker.restart()  # a restart keeps the port it settled on
        assert broker.proc.poll() is None
    finally:
        broker.stop()
        squatter.close()


def test_a_broker_given_a_taken_port_says_so(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", free_port()))
        squatter.listen()
        broker = Broker(tmp_path, port=squatter.getsockname()[1])
        try:
            broker.start()
        except local_broker.PortTaken:
            pass
        else:
            raise AssertionError("started on a port someone else listens on")
        finally:
            broker.stop()
