"""Hub ingest benchmark: scans acked per second end to end, beside a bare paho echo subscriber.

    .venv/bin/python bench/hub_ingest.py [--kiosks 5] [--scans 20000] [--paced 1000]

Starts its own Mosquitto. Each round has two bursts on the same broker: a bare subscriber (its
own process) that only echoes an ack for each scan, then ``turnout-hub serve`` (its own process,
a fresh copy of a database with the people and the event). In both, N simulated kiosks publish
all scans at once (QoS 1) and wait for every ack. Rounds alternate so that both meet the same
machine; the ratio is of the median rates. The CPU each subscriber spent per message (the hub
with its intake process) is printed too: unlike the rates it hardly moves with other load. Last, on the final hub,
scans paced at 100/s give scan->ack latency.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from turnout.local_broker import Broker, free_port  # noqa: E402
from turnout.mqtt import set_nodelay  # noqa: E402
from turnout.protocol import Scan, Topics  # noqa: E402


class BenchBroker(Broker):
    """The test broker plus set_tcp_nodelay, as docs/hub.md recommends for the hub's broker."""

    def _write_conf(self) -> None:
        super()._write_conf()
        with open(self.conf, "a") as fh:
            fh.write("set_tcp_nodelay true\n")


def echo_main(port: int, base: str) -> None:
    """The bare subscriber: an ack with the scan's id for each message, nothing else."""
    topics = Topics(base)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-echo", clean_session=False)
    client.max_inflight_messages_set(0)

    def on_connect(c, u, f, rc, p):
        set_nodelay(c)
        c.subscribe(topics.all_scans, qos=1)

    def on_subscribe(c, u, mid, rcs, p):
        print("ready", flush=True)

    def on_message(c, u, msg):
        kiosk = msg.topic.split("/")[-2]
        scan_id = json.loads(msg.payload)["id"]
        c.publish(topics.ack(kiosk), json.dumps({"v": 1, "id": scan_id, "status": "accepted"}), qos=1)

    client.on_connect, client.on_message, client.on_subscribe = on_connect, on_message, on_subscribe
    client.connect("127.0.0.1", port)
    client.loop_forever()


class Kiosks:
    """N publishing kiosks that timestamp every ack as it arrives."""

    def __init__(self, port: int, base: str, count: int):
        self.topics = Topics(base)
        self.names = [f"bench-{n}" for n in range(count)]
        self.acked: dict[str, float] = {}
        self.sent: dict[str, float] = {}
        self.done = threading.Event()
        self.expect = 0
        self.lock = threading.Lock()
        self.clients = []
        for name in self.names:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:6]}")
            client.max_inflight_messages_set(0)
            client.on_message = self._on_ack
            client.on_connect = lambda c, *a: set_nodelay(c)  # as real kiosks do
            client.connect("127.0.0.1", port)
            client.loop_start()
            client.subscribe(self.topics.ack(name), qos=1)
            self.clients.append(client)
        time.sleep(0.5)

    def _on_ack(self, client, userdata, msg):
        now = time.perf_counter()
        scan_id = json.loads(msg.payload)["id"]
        with self.lock:
            self.acked.setdefault(scan_id, now)
            if len(self.acked) >= self.expect:
                self.done.set()

    def burst(self, scans: list[Scan], timeout: float = 300) -> float:
        """Publish everything at once; seconds from first publish to last ack."""
        self.acked.clear()
        self.expect, self.done = len(scans), threading.Event()
        start = time.perf_counter()
        for n, scan in enumerate(scans):
            self.clients[n % len(self.clients)].publish(self.topics.scan(scan.kiosk), scan.to_json(), qos=1)
        if not self.done.wait(timeout):
            raise SystemExit(f"only {len(self.acked)} of {len(scans)} acks arrived")
        return max(self.acked.values()) - start

    def paced(self, scans: list[Scan], rate: float) -> list[float]:
        """Publish at a steady rate; each scan's publish->ack time in milliseconds."""
        self.acked.clear()
        self.expect, self.done = len(scans), threading.Event()
        start = time.perf_counter()
        for n, scan in enumerate(scans):
            due = start + n / rate
            while (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            self.sent[scan.id] = time.perf_counter()
            self.clients[n % len(self.clients)].publish(self.topics.scan(scan.kiosk), scan.to_json(), qos=1)
        if not self.done.wait(60):
            raise SystemExit(f"only {len(self.acked)} of {len(scans)} paced acks arrived")
        return [(self.acked[s.id] - self.sent[s.id]) * 1000 for s in scans]

    def close(self):
        for c in self.clients:
            c.disconnect()
            c.loop_stop()


def make_scans(names: list[str], event: str, badges: list[str], count: int, rng: random.Random) -> list[Scan]:
    roles = ["attend"] * 6 + ["cake", "pitch", "tidy", "organise"]
    return [Scan(id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), kiosk=names[n % len(names)],
                 event=event, badge=rng.choice(badges), role=rng.choice(roles),
                 ts="2025-03-14T10:00:00Z", seq=n, clock_ok=True) for n in range(count)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live children (the hub's intake
    process), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        total += sum(cpu_seconds(int(child)) for child in children.read_text().split())
    return total


def timed_burst(kiosks: "Kiosks", scans: list[Scan], pid: int) -> tuple[float, float]:
    """(seconds from first publish to last ack, CPU seconds the subscriber process spent)."""
    before = cpu_seconds(pid)
    seconds = kiosks.burst(scans)
    return seconds, cpu_seconds(pid) - before


def echo_round(broker: Broker, args, rng: random.Random) -> tuple[float, float]:
    echo = subprocess.Popen([sys.executable, __file__, "--echo", str(broker.port)],
                            stdout=subprocess.PIPE, text=True)
    assert echo.stdout.readline().strip() == "ready"
    kiosks = Kiosks(broker.port, "echo", args.kiosks)
    badges = [f"T{n}" for n in range(args.people)]  # the echo never looks at them
    try:
        return timed_burst(kiosks, make_scans(kiosks.names, "e", badges, args.scans, rng), echo.pid)
    finally:
        kiosks.close()
        echo.terminate()
        echo.wait()


def wait_for_web(port: int) -> None:
    """Until the hub's web server answers (30 s at most)."""
    import httpx
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/kiosks", timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)


class HubProcess:
    """``turnout-hub serve`` on a copy of the prepared database, in its own process."""

    def __init__(self, template: Path, work: Path, broker: Broker, profile: str | None):
        self.db = work / f"hub-{uuid.uuid4().hex[:6]}.sqlite"
        shutil.copy(template, self.db)
        http = free_port()
        self.log = open(work / "hub.log", "ab")
        cprofile = ["-m", "cProfile", "-o", profile] if profile else []
        self.proc = subprocess.Popen([sys.executable, *cprofile, "-m", "hub.cli", "--db", str(self.db),
                                      "serve", "--broker", broker.url, "--http", f"127.0.0.1:{http}"],
                                     cwd=ROOT, stdout=self.log, stderr=self.log)
        wait_for_web(http)

    def stop(self) -> int:
        """Stop it; the number of scans it stored."""
        from hub.store import Store
        self.proc.terminate()
        self.proc.wait(15)
        self.log.close()
        store = Store(self.db)
        try:
            return store.count_scans()
        finally:
            store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiosks", type=int, default=5)
    ap.add_argument("--scans", type=int, default=20000)
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3, help="echo and hub bursts, taken in turn")
    ap.add_argument("--paced", type=int, default=1000, help="scans in the 100/s latency run")
    ap.add_argument("--echo", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--profile", help="write a cProfile of the hub process to this file")
    args = ap.parse_args()
    if args.echo:
        return echo_main(args.echo, "echo")

    from hub.store import Store

    work = Path(tempfile.mkdtemp(prefix="turnout-bench-"))
    broker = BenchBroker(work / "mosquitto").start()
    rng = random.Random(1)
    rounds = []
    try:
        # The hub's database: people registered and an event to count at; each round copies it.
        template = work / "template.sqlite"
        store = Store(template)
        event = store.add_event("Benchmark Camp", "2025-03-14").id
        badges = [p.badge for p in (store.add_person(f"Bench Person {n}") for n in range(args.people))]
        store.close()
        # Echo and hub in turn, so both meet the same machine (other load comes and goes).
        for n in range(args.rounds):
            echo_secs, echo_cpu = echo_round(broker, args, rng)
            hub = HubProcess(template, work, broker, args.profile)
            kiosks = Kiosks(broker.port, "turnout", args.kiosks)
            hub_secs, hub_cpu = timed_burst(kiosks, make_scans(kiosks.names, event, badges, args.scans, rng),
                                            hub.proc.pid)
            if n == args.rounds - 1:  # paced latency on the last, now warm, hub
                latencies = sorted(kiosks.paced(make_scans(kiosks.names, event, badges, args.paced, rng), 100))
            kiosks.close()
            stored = hub.stop()
            rounds.append((echo_secs, echo_cpu, hub_secs, hub_cpu, stored))
    finally:
        broker.stop()

    print(f"{args.kiosks} kiosks, {args.scans} scans a burst, {args.people} people, {args.rounds} rounds")
    print(f"{'round':>5} {'echo acks/s':>12} {'hub acked/s':>12} {'ratio':>6}  "
          f"{'echo CPU us/msg':>15} {'hub CPU us/scan':>15}  stored")
    ratios = []
    for n, (echo_secs, echo_cpu, hub_secs, hub_cpu, stored) in enumerate(rounds, 1):
        echo_rate, hub_rate = args.scans / echo_secs, args.scans / hub_secs
        ratios.append(hub_rate / echo_rate)
        print(f"{n:>5} {echo_rate:>12.0f} {hub_rate:>12.0f} {ratios[-1]:>6.2f}  "
              f"{echo_cpu / args.scans * 1e6:>15.0f} {hub_cpu / args.scans * 1e6:>15.0f}  {stored}"
              + (f" (with the {args.paced} paced)" if n == len(rounds) else ""))
    echo_rate = statistics.median(args.scans / r[0] for r in rounds)
    hub_rate = statistics.median(args.scans / r[2] for r in rounds)
    print(f"median: echo {echo_rate:.0f} acks/s, hub {hub_rate:.0f} scans acked/s")
    print(f"ratio hub/echo (medians): {hub_rate / echo_rate:.2f} (goal >= 0.50); "
          f"rounds {min(ratios):.2f}-{max(ratios):.2f}")
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"paced 100 scans/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms scan->ack ({len(latencies)} scans)")


if __name__ == "__main__":
    main()
