"""Run ``turnout-hub`` as a separate process, the way an organiser would."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.broker import free_port

ROOT = Path(__file__).resolve().parents[2]


def cli(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "hub.cli", "--db", str(db), *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"turnout-hub {' '.join(args)} failed:\n{result.stderr}")
    return result


def last_token(result: subprocess.CompletedProcess) -> str:
    return result.stdout.split()[-1]


def end_session(broker_url: str, client_id: str) -> None:
    """End a killed hub's MQTT session: the broker would otherwise go on dealing it a share of
    the scans in the shared subscription while it is away (an hour), and a later test's hub on
    the same broker would see only part of its scans (test kiosks do not re-send)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    from turnout.broker_url import BrokerURL

    url = BrokerURL.parse(broker_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
    client.connect(url.host, url.port, clean_start=True)  # no session expiry: it ends on disconnect
    client.loop_start()
    deadline = time.monotonic() + 5
    while not client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.02)
    client.disconnect()
    client.loop_stop()


class _Served:
    proc: subprocess.Popen | None = None
    broker_url: str
    client_id: str

    def kill(self, keep_session: bool = False) -> None:
        """SIGKILL: no goodbye. Then its session ends (see end_session), unless the test
        starts it again and wants what the broker kept for it."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
            if not keep_session:
                end_session(self.broker_url, self.client_id)

    def stop(self) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            return self.proc.wait(20)
        return self.proc.returncode if self.proc else 0


class HubProcess(_Served):
    """``turnout-hub serve`` in a subprocess; ``kill()`` is SIGKILL, no goodbye."""

    def __init__(self, db: Path, broker_url: str, log: Path, config: Path | None = None,
                 extra: tuple[str, ...] = ()):
        self.db, self.broker_url, self.log, self.config = db, broker_url, log, config
        self.extra = extra  # more serve options, e.g. --no-ingest
        self.client_id = "turnout-hub"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self, tries: int = 3) -> "HubProcess":
        out = open(self.log, "ab")
        logged = out.tell()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "--db", str(self.db),
             *(["--config", str(self.config)] if self.config else []), "serve", "--broker",
             self.broker_url, "--client-id", self.client_id, "--http", f"127.0.0.1:{self.port}", *self.extra], cwd=ROOT, stdout=out,
            stderr=out)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                said = self.log.read_bytes()[logged:].decode(errors="replace")
                # The free port was taken before the hub bound it (its own broker connection
                # can be given the same number): another port.
                if "address already in use" in said and tries > 1:
                    self.port = free_port()
                    return self.start(tries - 1)
                raise AssertionError(f"hub exited: {self.log.read_text()[-2000:]}")
            try:
                httpx.get(f"{self.api}/kiosks", timeout=0.5).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("hub did not start serving")



class WorkerProcess(_Served):
    """``turnout-hub serve --worker``: takes scans, no web server. ``start()`` returns once it
    is subscribed (its log says so)."""

    def __init__(self, db: Path | str, broker_url: str, log: Path, client_id: str,
                 extra: tuple[str, ...] = ()):
        self.db, self.broker_url, self.log, self.client_id, self.extra = db, broker_url, log, client_id, extra
        self.proc: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> "WorkerProcess":
        out = open(self.log, "ab")
        logged = out.tell()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "--db", str(self.db), "serve", "--worker", "--broker",
             self.broker_url, "--client-id", self.client_id, *self.extra], cwd=ROOT, stdout=out, stderr=out)
        deadline = time.monotonic() + 30
        while wait and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited: {self.log.read_text()[-2000:]}")
            if b"connected to the broker" in self.log.read_bytes()[logged:]:
                return self
            time.sleep(0.05)
        if wait:
            raise AssertionError("worker did not connect")
        return self
