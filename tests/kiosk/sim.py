"""Test helpers: the real kiosk daemon as a subprocess in --sim mode, and a stand-in hub
that answers scans over a real broker (the real hub is tested in tests/hub)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from turnout.protocol import Ack, AckStatus, Availability, HubStatus, NextMilestone, PersonSummary, Topics

ROOT = Path(__file__).resolve().parents[2]
WAIT = 15.0  # generous: CI machines are slow; tests never assert on time


class KioskProcess:
    def __init__(self, broker_url: str | None, data_dir: Path, kiosk_id: str | None = "hall-1",
                 event: str | None = "barcamp", extra: list[str] | None = None,
                 env: dict[str, str] | None = None):
        cmd = [sys.executable, "-m", "kiosk.cli", "--sim", "--data-dir", str(data_dir)]
        if kiosk_id:  # None: the kiosk id comes from --config or a login card
            cmd += ["--kiosk-id", kiosk_id]
        if broker_url:  # None: the broker comes from --config or the kiosk's database
            cmd += ["--broker", broker_url]
        if event:
            cmd += ["--event", event]
        self.data_dir = Path(data_dir)
        self.kiosk_id = kiosk_id
        self.proc = subprocess.Popen(cmd + (extra or []), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=ROOT, bufsize=1,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.errors: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self, stream, lines) -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))

    def _read_err(self) -> None:
        for line in self.proc.stderr:
            self.errors.append(line.rstrip("\n"))

    def type(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def expect(self, predicate, what: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.log.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"kiosk never printed {what}; stderr:\n" + "\n".join(self.errors[-30:]))

    def expect_tone(self, tone: str) -> str:
        return self.expect(lambda line: line.startswith("♪") and line.split()[-1] == tone, f"tone {tone}")

    def wait_online(self) -> None:
        wait_for(lambda: any("online: connected to" in e for e in self.errors), "kiosk online")

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def wait_for(check, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class StandInHub:
    """Records every scan and, while ``answering``, acks it like the hub would."""

    def __init__(self, broker_port: int, answering: bool = True, milestone_for: str | None = None):
        self.scans: list[dict] = []
        self.statuses: dict[str, dict] = {}
        self.answering = answering
        self.milestone_for = milestone_for
        self.topics = Topics()
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"stand-in-hub-{id(self)}")
        self.client.on_connect = lambda c, *a: c.subscribe([(self.topics.all_scans, 1),
                                                            (self.topics.all_statuses, 1)])
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker_port)
        self.client.loop_start()
        wait_for(lambda: self.client.is_connected(), "stand-in hub connected")
        self.say("online")

    def say(self, state: str) -> None:
        """Publish the hub's retained status, as the real hub does (and its last will)."""
        payload = HubStatus(Availability(state), "stand-in").to_json()
        self.client.publish(self.topics.hub_status, payload, qos=1, retain=True).wait_for_publish(WAIT)

    def _on_message(self, client, userdata, msg) -> None:
        kiosk, kind = self.topics.kiosk_of(msg.topic)
        data = json.loads(msg.payload)
        if kind == "status":
            with self.lock:
                self.statuses[kiosk] = data
            return
        with self.lock:
            self.scans.append(data)
            answering = self.answering
        if answering:
            person = PersonSummary("Ada L.", 12, 7, NextMilestone("10 club", "attend", 10, 3))
            milestone = "10 club" if data["badge"] == self.milestone_for else None
            ack = Ack(data["id"], AckStatus.ACCEPTED, None, person, milestone)
            client.publish(self.topics.ack(kiosk), ack.to_json(), qos=1)

    def ids(self) -> set[str]:
        with self.lock:
            return {s["id"] for s in self.scans}

    def badges(self) -> set[str]:
        with self.lock:
            return {s["badge"] for s in self.scans}

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
