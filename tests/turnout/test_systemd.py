"""sd_notify over a real datagram socket bound here, as systemd binds $NOTIFY_SOCKET."""

import logging
import os
import socket
import uuid

import pytest

from turnout.systemd import ServiceManager


@pytest.fixture(params=["path", "abstract"])
def notify_socket(request, tmp_path):
    """(address as systemd writes it in $NOTIFY_SOCKET, the bound socket)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "abstract":
        name = f"@turnout-test-{uuid.uuid4().hex}"
        sock.bind("\0" + name[1:])
    else:
        name = str(tmp_path / "notify")
        sock.bind(name)
    sock.settimeout(5)
    yield name, sock
    sock.close()


def received(sock) -> list[str]:
    """Every datagram waiting, without waiting for more."""
    sock.setblocking(False)
    got = []
    try:
        while True:
            got.append(sock.recv(4096).decode())
    except BlockingIOError:
        return got
    finally:
        sock.settimeout(5)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_ready_and_status_reach_the_socket_named_in_the_environment(notify_socket):
    name, sock = notify_socket
    service = ServiceManager.from_environment({"NOTIFY_SOCKET": name})
    service.ready("online, 0 scans waiting")
    assert sock.recv(4096) == b"READY=1\nSTATUS=online, 0 scans waiting"
    service.status("offline: 12 scans\nwaiting")  # a newline would start a field of its own
    assert sock.recv(4096) == b"STATUS=offline: 12 scans waiting"
    service.status("offline: 12 scans waiting")  # unchanged: not sent again
    service.stopping()
    assert received(sock) == ["STOPPING=1"]


def test_watchdog_pings_at_half_the_timeout_systemd_set(notify_socket):
    name, sock = notify_socket
    clock = Clock()
    service = ServiceManager.from_environment({"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "20000000",
                                               "WATCHDOG_PID": str(os.getpid())})
    service.clock = clock
    assert service.watchdog_interval == 10.0
    sent = []
    for _ in range(50):  # a loop ticking every 0.5 s for 25 s
        sent.append(service.watchdog())
        clock.now += 0.5
    assert sent.count(True) == 3  # at 0, 10 and 20 s
    assert received(sock) == ["WATCHDOG=1"] * 3


def test_a_watchdog_meant_for_another_process_is_not_ours(notify_socket):
    name, sock = notify_socket
    service = ServiceManager.from_environment({"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "20000000",
                                               "WATCHDOG_PID": str(os.getpid() + 1)})
    assert service.watchdog_interval is None
    assert service.watchdog() is False
    assert received(sock) == []


def test_outside_systemd_nothing_is_sent_and_nothing_fails():
    service = ServiceManager.from_environment({})
    assert not service.present
    service.ready("up")
    assert service.watchdog() is False
    service.stopping()


def test_a_socket_that_went_away_is_said_once_and_never_raises(tmp_path, caplog):
    service = ServiceManager.from_environment({"NOTIFY_SOCKET": str(tmp_path / "gone"),
                                               "WATCHDOG_USEC": "2"})
    with caplog.at_level(logging.WARNING, logger="turnout.systemd"):
        service.ready()
        service.status("still here")
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["could not tell systemd READY=1"]


def test_a_watchdog_setting_that_is_not_a_number_is_ignored_with_a_warning(caplog):
    service = ServiceManager.from_environment({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "soon"})
    assert service.watchdog_interval is None
    assert "not a number" in caplog.text
