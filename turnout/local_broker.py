"""A local Mosquitto of our own: started on a free port, stopped (or killed) on demand.

Used by `make demo`, the tests and the benchmarks, so none of them depends on a broker
already running on the machine."""

from __future__ import annotations

import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
# The same bounds as the configuration the project ships (hub/mosquitto.conf.example).
MAX_QUEUED = 100_000
MAX_INFLIGHT = 2_000
MAX_PACKET_SIZE = 16_384


def _ephemeral_ports() -> range:
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default
    return range(low, high + 1)


def free_port() -> int:
    """A loopback port nobody listens on now, chosen outside the kernel's ephemeral range.

    Why not bind(0): that hands out an ephemeral port, and the next outgoing connection of
    any process (a test's HTTP or MQTT client) may take it before our server binds it, so
    the server fails with "Address already in use" (seen in CI, under pytest-xdist)."""
    ephemeral = _ephemeral_ports()
    ours = range(10_000, ephemeral.start) if ephemeral.start > 11_000 else range(ephemeral.stop, 65_536)
    pick = random.SystemRandom()
    for _ in range(200):
        port = pick.choice(ours)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))  # no SO_REUSEADDR: a port in TIME_WAIT is skipped too
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # that range is full: fall back to the kernel's choice
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# MQTT 3.1.1 CONNECT: protocol "MQTT" level 4, clean session, keep-alive 60 s, empty client id.
_CONNECT = bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 0x02, 0, 60, 0, 0])


class PortTaken(RuntimeError):
    """Mosquitto could not listen: something else took the port first."""


class Broker:
    """One Mosquitto process. ``restart()`` keeps the port, so clients can reconnect."""

    def __init__(self, workdir: Path, port: int | None = None, persistence: bool = False,
                 max_inflight: int = MAX_INFLIGHT):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self._may_move = port is None  # a port we chose may be taken before Mosquitto binds it
        self.persistence = persistence
        self.max_inflight = max_inflight
        self.proc: subprocess.Popen | None = None
        self.conf = self.workdir / "mosquitto.conf"
        self._write_conf()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _write_conf(self) -> None:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            # As hub/mosquitto.conf.example (see there for why): bounded, but room for a burst.
            f"max_queued_messages {MAX_QUEUED}",
            f"max_inflight_messages {self.max_inflight}",
            f"max_packet_size {MAX_PACKET_SIZE}",
            # Without it Mosquitto delays small packets (Nagle): ~45 ms per ack instead of ~4.
            "set_tcp_nodelay true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self) -> "Broker":
        for attempt in range(4):
            try:
                self._start()
                break
            except PortTaken:
                if not self._may_move or attempt == 3:
                    raise
                self.port = free_port()
                self._write_conf()
        self._may_move = False  # from now on clients know this port
        return self

    def _start(self) -> "Broker":
        log_path = self.workdir / "mosquitto.log"
        logged = log_path.stat().st_size if log_path.exists() else 0
        with open(log_path, "ab") as log:  # Mosquitto keeps its own copy of the descriptor
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                with open(log_path, "rb") as said:
                    said.seek(logged)
                    if b"Address already in use" in said.read():
                        raise PortTaken(self.port)
                raise RuntimeError(f"mosquitto exited: see {log_path}")
            if self._answers_mqtt():
                return self
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def _answers_mqtt(self) -> bool:
        """True once our Mosquitto answers a CONNECT: a bare TCP connect would also succeed to
        whatever else took the port."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(_CONNECT)
                answered = sock.recv(4).startswith(b"\x20")  # CONNACK
                sock.sendall(b"\xe0\x00")  # DISCONNECT
                return answered
        except OSError:
            return False

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
