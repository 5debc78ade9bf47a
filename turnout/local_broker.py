"""A local Mosquitto of our own: started on a free port, stopped (or killed) on demand.

Used by `make demo`, the tests and the benchmarks, so none of them depends on a broker
already running on the machine."""

from __future__ import annotations

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Broker:
    """One Mosquitto process. ``restart()`` keeps the port, so clients can reconnect."""

    def __init__(self, workdir: Path, port: int | None = None, persistence: bool = False,
                 max_inflight: int = MAX_INFLIGHT):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
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
        log = open(self.workdir / "mosquitto.log", "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: see {self.workdir / 'mosquitto.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
