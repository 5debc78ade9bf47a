"""A hub left running: open descriptors, memory and threads over a run of scans and page views.

    .venv/bin/python bench/hub_longrun.py [--minutes 10] [--scans-per-second 20] [--pages-per-second 10]

Starts its own Mosquitto and ``turnout-hub serve`` (its own process, on a sample season). Five
simulated kiosks scan the sample people into today's event (every scan must be acked), while a
visitor reads pages and the JSON API and an organiser signs in and out now and then. Every 30 s
it samples the hub process and its intake process: open file descriptors, resident memory
(VmRSS) and threads. A hub that leaks grows here; a healthy one levels off after warming up.
The last lines compare the end with the first sample after warm-up (ratios, 1.00 = flat).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from turnout.local_broker import Broker, free_port  # noqa: E402
from turnout.protocol import Scan, Topics  # noqa: E402

TOPICS = Topics()
PASSWORD = "longrun-password-1"


def hub_cli(db: Path, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "hub.cli", "--db", str(db), *args], cwd=ROOT,
                          check=True, text=True, capture_output=True).stdout


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def sample(pid: int) -> tuple[int, float, int]:
    """(open descriptors, resident MB, threads) of one process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
    threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
    return len(os.listdir(f"/proc/{pid}/fd")), rss, threads


class Kiosk:
    """A kiosk double: scans at a pace, counts the acks."""

    def __init__(self, port: int, kiosk: str, event: str, badges: list[str]):
        self.kiosk, self.event, self.badges = kiosk, event, badges
        self.sent, self.acked, self.seq = set(), set(), 0
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"longrun-{kiosk}")
        self.client.on_message = self._on_ack
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(TOPICS.ack(kiosk), qos=1)
        self.client.loop_start()

    def _on_ack(self, client, userdata, msg) -> None:
        with self.lock:
            self.acked.add(json.loads(msg.payload)["id"])

    def scan(self, rng: random.Random) -> None:
        self.seq += 1
        role = rng.choice(["attend"] * 6 + ["cake", "pitch", "tidy"])
        scan = Scan(id=str(uuid.uuid4()), kiosk=self.kiosk, event=self.event, badge=rng.choice(self.badges),
                    role=role, ts=datetime.now(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z",
                    seq=self.seq, clock_ok=True)
        with self.lock:
            self.sent.add(scan.id)
        self.client.publish(TOPICS.scan(self.kiosk), scan.to_json(), qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def visitor(web: str, badges: list[str], events: list[str], per_second: float, stop: threading.Event,
            counts: dict[str, int]) -> None:
    """Reads public pages and the API; an organiser signs in and out every 50 page views."""
    rng = random.Random(7)
    paths = ["/", "/events", "/leaderboard", "/leaderboard?season=2025", "/impact", "/data",
             "/api/v1/leaderboard?limit=200", "/api/v1/events", "/api/v1/kiosks", "/events.ics"]
    n = 0
    while not stop.is_set():
        n += 1
        choice = rng.random()
        if choice < 0.2:
            path = f"/people/{rng.choice(badges)}"
        elif choice < 0.3:
            path = f"/events/{rng.choice(events)}"
        elif choice < 0.35:
            path = f"/api/v1/people/{rng.choice(badges)}"
        else:
            path = rng.choice(paths)
        try:
            with urllib.request.urlopen(web + path, timeout=30) as response:
                response.read()
            counts["pages"] += 1
        except urllib.error.HTTPError as exc:
            counts[f"HTTP {exc.code}"] = counts.get(f"HTTP {exc.code}", 0) + 1
        except OSError:
            counts["failed"] += 1
        if n % 50 == 0:
            sign_in_and_out(web, counts)
        stop.wait(1 / per_second)


def sign_in_and_out(web: str, counts: dict[str, int]) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    try:
        form = opener.open(web + "/admin/login", timeout=30).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        opener.open(web + "/admin/login", urlencode({"csrf_token": token, "password": PASSWORD}).encode(),
                    timeout=30).read()
        page = opener.open(web + "/admin", timeout=30).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        opener.open(web + "/admin/logout", urlencode({"csrf_token": token}).encode(), timeout=30).read()
        counts["sign-ins"] += 1
    except (OSError, AttributeError):
        counts["failed"] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--scans-per-second", type=float, default=20)
    parser.add_argument("--pages-per-second", type=float, default=10)
    parser.add_argument("--every", type=float, default=30, help="seconds between samples")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="turnout-longrun-"))
    broker = Broker(work / "mosquitto").start()
    db = work / "hub.sqlite"
    hub_cli(db, "seed-sample", "--people", "300", "--events", "20")
    event = hub_cli(db, "event", "add", "Long run", "--date", datetime.now().date().isoformat()).split()[-1]
    badges = [line.split("\t")[0] for line in hub_cli(db, "person", "list").splitlines()]
    events = [line.split("\t")[0] for line in hub_cli(db, "event", "list").splitlines()]
    http = free_port()
    env = {**os.environ, "TURNOUT_HUB_ADMIN_PASSWORD": PASSWORD}
    hub = subprocess.Popen([sys.executable, "-m", "hub.cli", "--db", str(db), "serve", "--broker", broker.url,
                            "--http", f"127.0.0.1:{http}"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=open(work / "hub.log", "wb"))
    web = f"http://127.0.0.1:{http}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(web + "/", timeout=5).read()
            break
        except OSError:
            if time.monotonic() > deadline or hub.poll() is not None:
                raise SystemExit(f"the hub did not start: see {work / 'hub.log'}")
            time.sleep(0.3)
    kiosks = [Kiosk(broker.port, f"longrun-{n}", event, badges) for n in range(5)]
    stop = threading.Event()
    counts = {"pages": 0, "failed": 0, "sign-ins": 0}
    threading.Thread(target=visitor, args=(web, badges, events, args.pages_per_second, stop, counts),
                     daemon=True).start()
    rng = random.Random(1)
    started = time.monotonic()
    next_sample = started
    rows = []
    print(f"hub pid {hub.pid}; {len(badges)} people; {args.minutes} min at {args.scans_per_second} scans/s "
          f"and {args.pages_per_second} pages/s")
    print(f"{'min':>5} {'fds hub':>8} {'fds intake':>10} {'RSS hub MB':>10} {'RSS intake MB':>13} "
          f"{'threads':>8} {'scans acked':>12} {'pages':>7}")
    try:
        while time.monotonic() - started < args.minutes * 60:
            now = time.monotonic()
            if now >= next_sample:
                intake = children(hub.pid)
                fds, rss, threads = sample(hub.pid)
                ifds, irss = (sample(intake[-1])[:2] if intake else (0, 0.0))
                acked = sum(len(k.acked) for k in kiosks)
                rows.append((fds, ifds, rss, irss, threads))
                print(f"{(now - started) / 60:5.1f} {fds:8d} {ifds:10d} {rss:10.1f} {irss:13.1f} {threads:8d} "
                      f"{acked:12,d} {counts['pages']:7,d}", flush=True)
                next_sample += args.every
            rng.choice(kiosks).scan(rng)
            time.sleep(1 / args.scans_per_second)
        time.sleep(3)
        sent = sum(len(k.sent) for k in kiosks)
        acked = sum(len(k.acked & k.sent) for k in kiosks)
        final = sample(hub.pid)
        intake = children(hub.pid)
        ifinal = sample(intake[-1]) if intake else (0, 0.0, 0)
        base = rows[min(2, len(rows) - 1)]  # after a minute of warm-up
        print(f"scans sent {sent:,}, acked {acked:,}; pages {counts['pages']:,}, sign-ins {counts['sign-ins']}, "
              f"failures {counts['failed']}, other answers {({k: v for k, v in counts.items() if k.startswith('HTTP')})}")
        print(f"end / after warm-up: fds hub {final[0]}/{base[0]} = {final[0] / base[0]:.2f}, "
              f"fds intake {ifinal[0]}/{base[1]}, RSS hub {final[1]:.1f}/{base[2]:.1f} MB = {final[1] / base[2]:.2f}, "
              f"RSS intake {ifinal[1]:.1f}/{base[3]:.1f} MB, threads {final[2]}/{base[4]}")
        return 0 if acked == sent and hub.poll() is None else 1
    finally:
        stop.set()
        for k in kiosks:
            k.close()
        hub.terminate()
        hub.wait(15)
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
