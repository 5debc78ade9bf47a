"""A parkrun-sized Saturday morning: 2,000 kiosks, an hour of arrivals with a peak, at real hub
processes, beside a bare broker echo measured in the same run.

    .venv/bin/python bench/saturday.py [--speed 30] [--kiosks 2000] [--per-kiosk 30]
                                       [--postgres postgresql://…]   (a scratch database: emptied)

The morning: each of ``--kiosks`` kiosk ids (one per event, 2,000 events on one morning as
parkrun has) scans about ``--per-kiosk`` people (Poisson). Arrivals follow the shape of a
parkrun morning: 70% around the start (normal, peak 25 minutes into the hour, sd 7 minutes),
30% spread over the hour (volunteers early, stragglers late). 8% of people are volunteers, who
scan a role as well; 5% are scanned twice (a second scan, answered "duplicate"); 1% of scans
are sent twice (a kiosk that missed its ack: the same id); 1% are undone a few seconds later.
The hour is compressed ``--speed`` times (30: the hour in two minutes), so the rates below are
``--speed`` times a real morning's; "real-time" in the output divides them back.

For each configuration (1 and 2 hub processes, on SQLite and on PostgreSQL):
    burst     all of 20,000 scans at once, acked per second: the hub's capacity; its ratio to
              the bare echo (a paho subscriber that only answers) burst on the same broker
    morning   the whole compressed morning: sustained = scans / (first publish to last ack);
              peak = the most acks in any 5 s; p50/p99 scan->ack for the scans sent in the
              busiest 5 minutes of the (real) morning; the database's size at the end
"1 worker" is plain ``turnout-hub serve``; "2 workers" adds one ``serve --worker``: both take
scans through the shared subscription.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from bench.hub_ingest import cpu_seconds, wait_for_web  # noqa: E402
from turnout.local_broker import Broker, free_port  # noqa: E402
from turnout.mqtt import set_nodelay  # noqa: E402
from turnout.protocol import Scan, Topics  # noqa: E402

HOUR = 3600.0
PEAK_AT, PEAK_SD, PEAK_SHARE = 25 * 60.0, 7 * 60.0, 0.70
PEAK_WINDOW = 5 * 60.0  # real-morning seconds around the peak whose scans give the latency
RATE_WINDOW = 5.0  # wall seconds over which the peak ack rate is taken
ROLES = ("cake", "pitch", "tidy", "organise")
BURST = 20_000
PUBLISHERS = 8  # MQTT connections carrying the 2,000 kiosks' topics
RESEND_AFTER = 30.0  # as kiosk.outbox


@dataclass(frozen=True)
class Sending:
    at: float  # seconds into the real morning
    scan: Scan
    peak: bool  # sent in the busiest five minutes


def arrival(rng: random.Random) -> float:
    if rng.random() < PEAK_SHARE:
        return min(max(rng.gauss(PEAK_AT, PEAK_SD), 0.0), HOUR - 1)
    return rng.uniform(0, HOUR)


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for means of tens."""
    limit, n, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def morning(kiosks: list[str], events: list[str], badges: list[str], per_kiosk: float,
            day: str, rng: random.Random) -> list[Sending]:
    """Every message of the morning, in the order sent."""
    out: list[Sending] = []
    peak = (PEAK_AT - PEAK_WINDOW / 2, PEAK_AT + PEAK_WINDOW / 2)

    def send(at: float, scan: Scan) -> None:
        at = min(at, HOUR - 0.001)
        out.append(Sending(at, scan, peak[0] <= at < peak[1]))

    seq = 0

    def scan(kiosk: str, event: str, badge: str, role: str, annuls: str | None = None) -> Scan:
        nonlocal seq
        seq += 1
        return Scan(id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), kiosk=kiosk, event=event,
                    badge=badge, role=role, ts=f"{day}T09:00:00Z", seq=seq, clock_ok=True, annuls=annuls)

    for kiosk, event in zip(kiosks, events):
        for badge in rng.sample(badges, poisson(rng, per_kiosk)):
            roles = ["attend"] + ([rng.choice(ROLES)] if rng.random() < 0.08 else [])
            at = arrival(rng)
            for role in roles:
                first = scan(kiosk, event, badge, role)
                send(at, first)
                if rng.random() < 0.01:
                    send(at + 3, first)  # the same id again: its ack went missing
                if rng.random() < 0.05:
                    send(at + rng.uniform(2, 20), scan(kiosk, event, badge, role))  # scanned twice
                if rng.random() < 0.01:
                    send(at + 5, scan(kiosk, event, badge, role, annuls=first.id))  # undone
                at += rng.uniform(1, 10)
    out.sort(key=lambda s: s.at)
    return out


class Kiosks:
    """The morning's kiosks: PUBLISHERS connections, each carrying a share of the kiosk ids'
    scan and ack topics; every first ack is timestamped. As real kiosks do, a scan not answered
    within RESEND_AFTER seconds is sent again (a hub that could not hand its ack to the broker
    drops it and answers the re-send)."""

    def __init__(self, port: int, base: str, names: list[str]):
        self.topics = Topics(base)
        self.acked: dict[str, float] = {}
        self.unanswered: dict[str, tuple[Scan, float]] = {}
        self.resent = 0
        self._closing = threading.Event()
        self.expect, self.done = 0, threading.Event()
        self.lock = threading.Lock()
        self.clients = []
        subscribed = threading.Semaphore(0)
        chunks = 0
        for n in range(PUBLISHERS):
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sat-{base}-{n}-{uuid.uuid4().hex[:6]}")
            client.max_inflight_messages_set(0)
            client.max_queued_messages_set(0)
            client.on_message = self._on_ack
            mine = names[n::PUBLISHERS]
            parts = [[(self.topics.ack(k), 1) for k in mine[i:i + 100]] for i in range(0, len(mine), 100)]
            chunks += len(parts)

            def on_connect(c, userdata, flags, reason, props, parts=parts):
                set_nodelay(c)
                for part in parts:  # once connected: paho drops a subscribe made before
                    c.subscribe(part)

            client.on_connect = on_connect
            client.on_subscribe = lambda *a: subscribed.release()
            client.connect("127.0.0.1", port)
            client.loop_start()
            self.clients.append(client)
        for _ in range(chunks):
            if not subscribed.acquire(timeout=30):
                raise SystemExit("the kiosks could not subscribe to their acks")
        self.index = {name: n % PUBLISHERS for n, name in enumerate(names)}
        threading.Thread(target=self._resend, daemon=True).start()

    def _resend(self) -> None:
        while not self._closing.wait(1.0):
            now = time.perf_counter()
            with self.lock:
                due = [scan for scan, at in self.unanswered.values() if now - at >= RESEND_AFTER]
            for scan in due:
                self.resent += 1
                self.publish(scan)

    def _on_ack(self, client, userdata, msg) -> None:
        now = time.perf_counter()
        scan_id = json.loads(msg.payload)["id"]
        with self.lock:
            self.unanswered.pop(scan_id, None)
            if scan_id not in self.acked:
                self.acked[scan_id] = now
                if len(self.acked) >= self.expect:
                    self.done.set()

    def publish(self, scan: Scan) -> None:
        with self.lock:
            if scan.id not in self.acked:
                self.unanswered[scan.id] = (scan, time.perf_counter())
        self.clients[self.index[scan.kiosk]].publish(self.topics.scan(scan.kiosk), scan.to_json(), qos=1)

    def reset(self, expect: int) -> None:
        with self.lock:
            self.acked.clear()
            self.unanswered.clear()
            self.resent = 0
            self.expect, self.done = expect, threading.Event()

    def burst(self, scans: list[Scan], timeout: float = 300) -> float:
        self.reset(len({s.id for s in scans}))
        start = time.perf_counter()
        for scan in scans:
            self.publish(scan)
        if not self.done.wait(timeout):
            raise SystemExit(f"burst: only {len(self.acked)} of {self.expect} acks arrived")
        self.burst_resent = self.resent
        return self.expect / (max(self.acked.values()) - start)

    def run_morning(self, sendings: list[Sending], speed: float, timeout: float = 900) -> dict:
        self.reset(len({s.scan.id for s in sendings}))
        sent: dict[str, float] = {}
        start = time.perf_counter()
        for s in sendings:
            due = start + s.at / speed
            while (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            sent.setdefault(s.scan.id, time.perf_counter())
            self.publish(s.scan)
        if not self.done.wait(timeout):
            raise SystemExit(f"morning: only {len(self.acked)} of {self.expect} acks arrived")
        acked = dict(self.acked)
        times = sorted(t - start for t in acked.values())
        peak, lo = 0, 0
        for hi in range(len(times)):
            while times[hi] - times[lo] > RATE_WINDOW:
                lo += 1
            peak = max(peak, hi - lo + 1)
        at_peak = sorted((acked[s.scan.id] - sent[s.scan.id]) * 1000 for s in sendings if s.peak
                         and sent.get(s.scan.id) is not None)
        return {"sustained": len(acked) / (max(acked.values()) - start), "peak": peak / RATE_WINDOW,
                "resent": self.resent,
                "p50": statistics.median(at_peak),
                "p99": at_peak[min(len(at_peak) - 1, int(len(at_peak) * 0.99))]}

    def close(self) -> None:
        self._closing.set()
        for client in self.clients:
            client.disconnect()
            client.loop_stop()


# -- the hub's database --

def postgres_engine() -> bool:
    """Whether this branch's hub can store in PostgreSQL at all."""
    from hub.storage import database
    try:
        database.open_database("postgresql://nobody@127.0.0.1:1/none")
    except NotImplementedError:
        return False
    except Exception:  # it tried to connect, so there is an engine
        return True
    return True


def empty_postgres(url: str) -> None:
    import psycopg  # the PostgreSQL engine's own driver
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def seed(location: str, names: list[str], people: int, day: str) -> tuple[list[str], list[str]]:
    """Events (one per kiosk) and people; returns (event ids, badges)."""
    from hub.store import Store

    store = Store(location)
    try:
        with store.transaction():
            events = [store.add_event(f"Saturday {n}", day, id=f"{day}-sat-{n:04d}").id
                      for n in range(len(names))]
            badges = [store.add_person(f"Runner {n}").badge for n in range(people)]
    finally:
        store.close()
    return events, badges


def db_size(location: str) -> int:
    if location.startswith(("postgres://", "postgresql://")):
        import psycopg
        with psycopg.connect(location) as conn:
            return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return sum(os.path.getsize(p) for p in (location, location + "-wal") if os.path.exists(p))


class Hub:
    """Plain ``serve`` and, for two workers, one ``serve --worker`` beside it."""

    def __init__(self, location: str, broker: Broker, workers: int, work: Path):
        self.location = location
        self.log = open(work / "hub.log", "ab")
        self.procs = []
        http = free_port()
        base = [sys.executable, "-m", "hub.cli", "--db", location, "serve", "--broker", broker.url]
        self.procs.append(subprocess.Popen(base + ["--http", f"127.0.0.1:{http}", "--client-id",
                                                   f"sat-hub-{uuid.uuid4().hex[:6]}"],
                                           cwd=ROOT, stdout=self.log, stderr=self.log))
        for n in range(workers - 1):
            self.procs.append(subprocess.Popen(base + ["--worker", "--client-id", f"sat-w{n}-{uuid.uuid4().hex[:6]}"],
                                               cwd=ROOT, stdout=self.log, stderr=self.log))
        wait_for_web(http)
        time.sleep(1.0 if workers > 1 else 0.2)  # the worker subscribes

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(30)
        self.log.close()


def echo_burst(broker: Broker, names: list[str], rng: random.Random) -> float:
    echo = subprocess.Popen([sys.executable, str(ROOT / "bench" / "hub_ingest.py"), "--echo", str(broker.port)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert echo.stdout.readline().strip() == "ready"
        kiosks = Kiosks(broker.port, "echo", names)
        try:
            return kiosks.burst(burst_scans(names, ["e"] * len(names), [f"T{n}" for n in range(100)], rng, "echo"))
        finally:
            kiosks.close()
    finally:
        echo.terminate()
        echo.wait()


def burst_scans(names: list[str], events: list[str], badges: list[str], rng: random.Random,
                day: str) -> list[Scan]:
    out = []
    for n in range(BURST):
        k = rng.randrange(len(names))
        out.append(Scan(id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), kiosk=names[k], event=events[k],
                        badge=rng.choice(badges), role="attend", ts=f"{day}T09:00:00Z", seq=n, clock_ok=True))
    return out


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the broker and hub on the way out
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiosks", type=int, default=2000)
    ap.add_argument("--per-kiosk", type=float, default=30, help="people scanned per kiosk, on average")
    ap.add_argument("--people", type=int, default=20_000, help="people registered")
    ap.add_argument("--speed", type=float, default=30, help="the hour runs this many times faster")
    ap.add_argument("--sqlite", help="where to keep the SQLite databases (default: a temporary directory)")
    ap.add_argument("--postgres", help="postgresql://… a scratch database for the PostgreSQL rows (emptied)")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--configs", default="SQLite:1,SQLite:2,PostgreSQL:1,PostgreSQL:2",
                    help="engine:hub processes, comma-separated")
    args = ap.parse_args()

    work = Path(args.sqlite or tempfile.mkdtemp(prefix="turnout-saturday-"))
    work.mkdir(parents=True, exist_ok=True)
    day = date.today().isoformat()  # scans count from the day before their event
    rng = random.Random(args.seed)
    names = [f"parkrun-{n:04d}" for n in range(args.kiosks)]
    template = str(work / "template.sqlite")
    if os.path.exists(template):
        os.remove(template)
    started = time.perf_counter()
    events, badges = seed(template, names, args.people, day)
    sendings = morning(names, events, badges, args.per_kiosk, day, rng)
    unique = len({s.scan.id for s in sendings})
    busiest = max(sum(1 for s in sendings if lo <= s.at < lo + 60) for lo in range(0, int(HOUR), 60))
    print(f"morning: {args.kiosks} kiosks, {unique} scans ({len(sendings)} messages with re-sends), the hour "
          f"compressed {args.speed:g}x into {HOUR / args.speed:.0f} s; offered: average "
          f"{unique / HOUR * args.speed:.0f}/s, busiest minute {busiest / 60 * args.speed:.0f}/s "
          f"(real-time {busiest / 60:.1f}/s); prepared in {time.perf_counter() - started:.0f} s")

    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in args.configs.split(",")]
    has_pg = postgres_engine()
    broker = Broker(work / "mosquitto").start()
    rows, echoes = [], []
    try:
        for engine, workers in configs:
            if engine == "PostgreSQL" and not (has_pg and args.postgres):
                rows.append((engine, workers, None, "n/a (no postgres engine on this branch)" if not has_pg
                             else "n/a (give --postgres URL)"))
                continue
            echoes.append(echo_burst(broker, names, rng))  # the baseline, beside each configuration
            if engine == "SQLite":
                location = str(work / f"hub-{workers}.sqlite")
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(location + suffix):
                        os.remove(location + suffix)
                shutil.copy(template, location)
            else:
                location = args.postgres
                empty_postgres(location)
                seed(location, names, args.people, day)
            hub = Hub(location, broker, workers, work)
            kiosks = Kiosks(broker.port, "turnout", names)
            try:
                cpu0 = hub.cpu()
                rate = kiosks.burst(burst_scans(names, events, badges, rng, day))
                cpu_burst = hub.cpu() - cpu0
                result = kiosks.run_morning(sendings, args.speed)
            finally:
                kiosks.close()
                hub.stop()
            result.update(burst=rate, burst_resent=kiosks.burst_resent, echo=echoes[-1], cpu=cpu_burst / BURST * 1e6, size=db_size(location))
            rows.append((engine, workers, result, None))
    finally:
        broker.stop()

    echo = statistics.median(echoes) if echoes else float("nan")
    print(f"bare broker echo (burst of {BURST}, beside each configuration): "
          + ", ".join(f"{e:.0f}" for e in echoes) + f" acks/s; median {echo:.0f}")
    print(f"{'engine':<11}{'workers':>8}{'burst/s':>9}{'/echo':>7}{'CPU us/scan':>12}"
          f"{'sustained/s':>12}{'peak/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'DB MB':>8}{'re-sent':>9}")
    for engine, workers, r, why in rows:
        if r is None:
            print(f"{engine:<11}{workers:>8}  {why}")
            continue
        print(f"{engine:<11}{workers:>8}{r['burst']:>9.0f}{r['burst'] / r['echo']:>7.2f}{r['cpu']:>12.0f}"
              f"{r['sustained']:>12.0f}{r['peak']:>8.0f}{r['p50']:>8.1f}{r['p99']:>8.1f}"
              f"{r['size'] / 1e6:>8.1f}{r['burst_resent'] + r['resent']:>9}")
    print(f"(/echo: burst rate over the echo burst measured just before it; peak: most acks in any "
          f"{RATE_WINDOW:g} s; p50/p99: scan->ack of the scans sent in the busiest {PEAK_WINDOW / 60:g} "
          f"minutes; rates are {args.speed:g}x a real morning's; re-sent: scans the simulated kiosks "
          f"sent again after {RESEND_AFTER:g} s without an answer, burst and morning)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
