"""Fault-injection soak: nothing lost, nothing counted twice, whatever breaks meanwhile.

    .venv/bin/python bench/soak.py [--scans 10000] [--minutes 8] [--outage 150] [--seed 1] [--postgres]

Three real kiosk daemons (``turnout-kiosk --sim``, badges typed on their stdin as a USB scanner
types them) scan badges, role cards and undos at a real Mosquitto; the hub runs as it would at
scale: one ``serve --no-ingest`` process that speaks for the hub, and two ``serve --worker``
processes sharing the scans. Meanwhile a chaos loop, at random:

    broker killed      SIGKILL, started again after a few seconds (its persistence on)
    broker paused      SIGSTOP for seconds: a dead network for everyone
    worker killed      SIGKILL, started again
    worker restarted   SIGTERM (a deploy), started again
    worker paused      SIGSTOP for seconds: a worker on a dead network
    hub killed         the process that speaks for the hub, SIGKILL, started again
    kiosk killed       SIGKILL (a power cut), started again on its own data
    kiosk paused       SIGSTOP for seconds
    kiosk cut off      its network (a TCP relay between it and the broker) cut; it keeps
                       scanning, so its outbox fills, for ``--outage`` seconds (once a run)

With ``--postgres`` the hub's processes share a PostgreSQL database instead of a SQLite file: a
cluster of the soak's own (initdb and pg_ctl in a temporary directory, on a free port, as
tests/postgres.py starts one), and two more kinds of fault:

    PostgreSQL killed  the server and every backend SIGKILLed (a crash), started again after
                       a few seconds (it replays its WAL)
    PostgreSQL paused  the server and every backend SIGSTOPped for seconds, then SIGCONT

At the end everything is mended and the kiosks' outboxes drain. The truth is what the kiosks
committed (each kiosk's own SQLite record, before its OK beep); the hub must hold every one of
those scans exactly once, and its standings must equal scoring the kiosks' records from scratch
and survive ``recompute`` unchanged. ``tests/test_soak.py`` runs a short version in make test.
"""

from __future__ import annotations

import argparse
import os
import random
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from turnout.local_broker import Broker, free_port  # noqa: E402

KINDS = ("broker killed", "broker paused", "worker killed", "worker restarted", "worker paused",
         "hub killed", "kiosk killed", "kiosk paused", "kiosk cut off")
POSTGRES_KINDS = ("PostgreSQL killed", "PostgreSQL paused")
ROLES = ("cake", "pitch", "tidy", "organise")


class Wire:
    """A kiosk's network: a TCP relay between it and the broker, which can be cut (every
    connection closed, new ones refused) and mended."""

    def __init__(self, target_port: int):
        self.target = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.up = True
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.server.accept()
            except OSError:
                return  # closed
            if not self.up:
                near.close()
                continue
            try:
                far = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:  # the broker is down: so is the kiosk's connection
                near.close()
                continue
            with self._lock:
                self._open.update((near, far))
            threading.Thread(target=self._relay, args=(near, far), daemon=True).start()

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            self._close(a, b)

    def _close(self, *socks: socket.socket) -> None:
        with self._lock:
            for sock in socks:
                self._open.discard(sock)
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def cut(self) -> None:
        self.up = False
        with self._lock:
            socks = list(self._open)
        self._close(*socks)

    def mend(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.server.close()


class Process:
    """A child process the chaos loop may kill, pause and start again."""

    def __init__(self, name: str, log: Path):
        self.name, self.log = name, log
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()  # one fault at a time on one process

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.command(), cwd=ROOT, stdout=out, stderr=out,
                                         stdin=subprocess.DEVNULL)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            self.proc.send_signal(signum)

    def kill(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class HubPart(Process):
    def __init__(self, name: str, log: Path, db: str, broker_url: str, worker: bool):
        super().__init__(name, log)
        self.db, self.broker_url, self.worker = db, broker_url, worker
        self.http = free_port()

    def command(self) -> list[str]:
        mode = ["--worker"] if self.worker else ["--no-ingest", "--http", f"127.0.0.1:{self.http}"]
        return [sys.executable, "-m", "hub.cli", "--db", self.db, "serve", "--broker", self.broker_url,
                "--client-id", f"soak-{self.name}", *mode]


class PostgresServer:
    """The soak's own PostgreSQL cluster (tests/postgres.py's), which the chaos loop may crash
    and freeze: every process of the server at once, as when its machine stops."""

    def __init__(self):
        from tests.postgres import OwnServer

        self.name = "PostgreSQL"
        self.server = OwnServer().start()
        self.url = self.server.url
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return bool(self.server.processes())

    def signal(self, signum: int) -> None:
        for pid in self.server.processes():
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        deadline = time.monotonic() + 30
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.1)

    def start(self) -> None:
        from tests.postgres import PostgresUnavailable

        for _ in range(20):  # a killed backend may hold the shared memory a moment longer
            try:
                self.server.run_server()
                return
            except PostgresUnavailable:
                time.sleep(0.5)
        self.server.run_server()

    def stop(self) -> None:
        self.signal(signal.SIGCONT)
        self.server.stop()


class SimKiosk(Process):
    """``turnout-kiosk --sim``: codes typed on its stdin, as a USB scanner types them."""

    def __init__(self, name: str, log: Path, data_dir: Path, broker_port: int, event: str):
        super().__init__(name, log)
        self.data_dir, self.event, self.broker_port = data_dir, event, broker_port
        self.typing = threading.Lock()

    @property
    def db(self) -> Path:
        return self.data_dir / "kiosk.db"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "kiosk.cli", "--sim", "--data-dir", str(self.data_dir), "--kiosk-id",
                self.name, "--broker", f"mqtt://127.0.0.1:{self.broker_port}", "--event", self.event,
                "--display", "none"]

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.command(), cwd=ROOT, stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=out,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def type(self, code: str) -> bool:
        """Type a code and Enter; False if the kiosk is not there to read it (killed)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return False
        try:
            proc.stdin.write(code.encode() + b"\n")
            proc.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError):
            return False

    def stop(self) -> None:
        """End of input: the daemon finishes and exits, as at the end of a simulation."""
        if self.alive():
            self.proc.send_signal(signal.SIGCONT)
            try:
                self.proc.stdin.close()
                self.proc.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()

    def unacked(self) -> int | None:
        try:
            with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5) as conn:
                return conn.execute("SELECT COUNT(*) FROM scans WHERE acked_at IS NULL").fetchone()[0]
        except sqlite3.Error:
            return None  # not there yet, or busy


@dataclass
class SoakReport:
    typed: int = 0
    produced: int = 0
    delivered: int = 0
    twice: int = 0
    lost: int = 0
    phantom: int = 0  # at the hub, from these kiosks, but in no kiosk's record
    rejected: int = 0
    badges_off: int = 0  # standings that differ from scoring the kiosks' records from scratch
    recompute_changed: bool = False
    unacked_at_end: int = 0
    faults: Counter = field(default_factory=Counter)
    kinds: tuple[str, ...] = KINDS
    exited: Counter = field(default_factory=Counter)  # hub processes that stopped on their own
    found_down: list = field(default_factory=list)  # parts not running when the chaos ended
    seconds: float = 0.0
    drain_seconds: float = 0.0

    @property
    def exact(self) -> bool:
        return (self.lost == 0 and self.twice == 0 and self.phantom == 0 and self.badges_off == 0
                and not self.recompute_changed and self.rejected == 0 and self.produced > 0)

    def lines(self) -> list[str]:
        return [f"typed {self.typed} codes; the kiosks committed {self.produced} scans (and undos)",
                f"produced {self.produced}, delivered {self.delivered}, counted twice {self.twice}, "
                f"lost {self.lost}, unknown to the kiosks {self.phantom}, rejected {self.rejected}",
                f"standings equal a recomputation from the kiosks' records: "
                f"{'yes' if self.badges_off == 0 else f'NO, {self.badges_off} badges differ'}; "
                f"recompute changes nothing: {'no, it changed' if self.recompute_changed else 'yes'}",
                "faults injected: " + ", ".join(f"{k} {self.faults[k]}" for k in self.kinds),
                "hub processes that exited on their own and were started again 2 s later, as systemd"
                " does: " + (", ".join(f"{k} {n}" for k, n in sorted(self.exited.items())) or "none")
                + "; parts found not running at the end: " + (", ".join(self.found_down) or "none"),
                f"{self.seconds:.0f} s in all, {self.drain_seconds:.0f} s of it draining the outboxes"
                + ("" if not self.unacked_at_end else f"; {self.unacked_at_end} scans still unacked")]


class Soak:
    def __init__(self, work: Path, scans: int, seconds: float, outage: float, seed: int,
                 people: int = 400, kiosks: int = 3, workers: int = 2, fault_every: float = 4.0,
                 drain_limit: float = 300.0, pause: tuple[float, float] = (2, 8), say=print,
                 postgres: bool = False):
        self.work, self.scans, self.seconds, self.outage = Path(work), scans, seconds, outage
        self.rng, self.say = random.Random(seed), say
        self.people, self.kiosk_count, self.worker_count = people, kiosks, workers
        self.fault_every, self.drain_limit = fault_every, drain_limit
        self.pause = pause  # how long a pause (SIGSTOP) lasts, at random between these seconds
        self.postgres = postgres
        self.kinds = KINDS + (POSTGRES_KINDS if postgres else ())
        self.report = SoakReport(kinds=self.kinds)
        self._stop = threading.Event()
        self._over = threading.Event()  # the end: nothing is started again any more
        self._faults: list[threading.Thread] = []
        self._lock = threading.Lock()

    # -- setting up --

    def _prepare(self) -> None:
        from hub.store import Store

        self.work.mkdir(parents=True, exist_ok=True)
        self.database = PostgresServer() if self.postgres else None
        self.db = self.database.url if self.database else str(self.work / "hub.sqlite")
        store = Store(self.db)
        today = date.today().isoformat()  # kiosks' scans count from the day before their event
        self.event = store.add_event("Soak Camp", today, id=f"{today}-soak").id
        self.event_date = today
        self.juniors = set()
        self.badges = []
        for n in range(self.people):
            person = store.add_person(f"Soak Person {n}", junior=n % 10 == 0)
            self.badges.append(person.badge)
            if person.junior:
                self.juniors.add(person.badge)
        self.kiosk_names = [f"soak-{n + 1}" for n in range(self.kiosk_count)]
        for name in self.kiosk_names:
            store.assign_kiosk(name, self.event)
        store.close()
        self.broker = Broker(self.work / "broker", persistence=True)
        self.broker.start()
        self.wires = {name: Wire(self.broker.port) for name in self.kiosk_names}
        self.hub = HubPart("hub", self.work / "hub.log", self.db, self.broker.url, worker=False)
        self.workers = [HubPart(f"worker-{n + 1}", self.work / f"worker-{n + 1}.log", self.db,
                                self.broker.url, worker=True) for n in range(self.worker_count)]
        self.kiosks = [SimKiosk(name, self.work / f"{name}.log", self.work / name, self.wires[name].port,
                                self.event) for name in self.kiosk_names]
        for part in [self.hub, *self.workers, *self.kiosks]:
            part.start()

    # -- the scanning --

    def _scanner(self, kiosk: SimKiosk, count: int, rate: float) -> None:
        """Type ``count`` scans at ``rate`` a second: mostly badges, some after a role card,
        some undone, some scanned twice."""
        rng = random.Random(self.rng.random())
        start = time.monotonic()
        typed = 0
        for n in range(count):
            while (wait := start + n / rate - time.monotonic()) > 0:
                time.sleep(wait)
            with kiosk.typing:
                roll = rng.random()
                if roll < 0.15:
                    typed += kiosk.type(f"TURNOUT:ROLE:{rng.choice(ROLES)}")
                typed += kiosk.type(rng.choice(self.badges))
                if roll > 0.97:
                    typed += kiosk.type("TURNOUT:UNDO")
        with self._lock:
            self.report.typed += typed

    # -- the chaos --

    def _chaos(self) -> None:
        cycle: list[str] = []
        rounds, outage_done = 0, False
        # Past the end of the scanning if need be, until every kind has been injected once.
        while True:
            delay = self.rng.uniform(0.5, 1.5) * self.fault_every
            if self._stop.is_set():
                time.sleep(delay)
            else:
                self._stop.wait(delay)
            if self._stop.is_set() and (rounds > 1 or (rounds == 1 and not cycle)):
                return
            if not cycle:
                rounds += 1
                cycle = [k for k in self.kinds if k != "kiosk cut off" or not outage_done]
                self.rng.shuffle(cycle)
            kind = cycle.pop()
            outage_done |= kind == "kiosk cut off"
            thread = threading.Thread(target=self._fault, args=(kind,), daemon=True)
            thread.start()
            self._faults.append(thread)

    def _fault(self, kind: str) -> None:
        rng = random.Random(self.rng.random())
        what, verb = kind.split(" ", 1)
        if what == "broker":
            target = None
        elif what == "PostgreSQL":
            target = self.database
        elif what == "worker":
            target = rng.choice(self.workers)
        elif what == "hub":
            target = self.hub
        else:
            target = rng.choice(self.kiosks)
        lock = self.broker_lock if target is None else target.lock
        lock.acquire()  # one fault at a time on one part
        try:
            self._inject(kind, verb, target, rng)
        finally:
            lock.release()

    broker_lock = threading.Lock()

    def _inject(self, kind: str, verb: str, target: Process | None, rng: random.Random) -> None:
        with self._lock:
            self.report.faults[kind] += 1
        self.say(f"  {time.monotonic() - self.started:6.1f} s  {kind}" + (f": {target.name}" if target else ""))
        if target is not None and target is self.database and verb == "killed":
            target.kill()
            time.sleep(rng.uniform(self.pause[0] / 2, self.pause[1] / 2))
            target.start()
        elif target is None:
            if verb == "killed":
                self.broker.stop(kill=True)
                time.sleep(rng.uniform(self.pause[0] / 2, self.pause[1] / 2))
                self.broker.start()
            else:
                self.broker.proc.send_signal(signal.SIGSTOP)
                time.sleep(rng.uniform(*self.pause))
                self.broker.proc.send_signal(signal.SIGCONT)
        elif verb == "cut off":
            wire = self.wires[target.name]
            wire.cut()
            self._stop.wait(self.outage)
            wire.mend()
        elif verb == "paused":
            target.signal(signal.SIGSTOP)
            time.sleep(rng.uniform(*self.pause))
            target.signal(signal.SIGCONT)
        else:
            with getattr(target, "typing", threading.Lock()):  # a killed kiosk reads nothing more
                (target.stop if verb == "restarted" else target.kill)()
                time.sleep(rng.uniform(self.pause[0] / 4, self.pause[1] / 3))
                target.start()

    def _supervise(self) -> None:
        """As systemd does for the hub's unit (Restart=always, RestartSec=2): a hub process that
        exits on its own (one started while the database is down does) is started again."""
        while not self._over.wait(2):
            for part in [self.hub, *self.workers]:
                if not part.lock.acquire(blocking=False):
                    continue  # a fault is under way on it, and starts it again itself
                try:
                    if not part.alive() and not self._over.is_set():
                        with self._lock:
                            self.report.exited[part.name] += 1
                        self.say(f"  {time.monotonic() - self.started:6.1f} s  {part.name} had exited;"
                                 " started again")
                        part.start()
                finally:
                    part.lock.release()

    # -- the end --

    def _mend(self) -> None:
        for thread in self._faults:
            thread.join()
        for wire in self.wires.values():
            wire.mend()
        if self.broker.proc is None or self.broker.proc.poll() is not None:
            self.broker.start()
        for part in [*([self.database] if self.database else []), self.hub, *self.workers, *self.kiosks]:
            part.signal(signal.SIGCONT)
            if not part.alive():
                self.report.found_down.append(part.name)
                part.start()

    def _drain(self) -> int:
        """Wait until every kiosk has every scan acked; how many are not, at the limit."""
        deadline = time.monotonic() + self.drain_limit
        while True:
            counts = [k.unacked() for k in self.kiosks]
            if counts and all(c == 0 for c in counts):
                return 0
            if time.monotonic() > deadline:
                return sum(c or 0 for c in counts)
            time.sleep(0.5)

    def _count(self) -> None:
        from hub.rules import default_rules
        from hub.scoring import CountedScan, score_people
        from hub.store import Store

        produced: dict[str, tuple] = {}
        for kiosk in self.kiosks:
            with sqlite3.connect(kiosk.db) as conn:
                for row in conn.execute("SELECT id, kiosk, event, badge, role, annuls, ack_status FROM scans"):
                    produced[row[0]] = row
        report = self.report
        report.produced = len(produced)
        report.rejected = sum(1 for row in produced.values() if row[6] == "rejected")
        store = Store(self.db)
        try:
            names = tuple(self.kiosk_names)
            marks = ",".join("?" * len(names))
            at_hub = Counter(r[0] for r in store.db.execute(
                f"SELECT id FROM scans WHERE kiosk IN ({marks})", names))
            report.twice = sum(n - 1 for n in at_hub.values())
            report.delivered = len(produced.keys() & at_hub.keys())
            report.lost = len(produced.keys() - at_hub.keys())
            report.phantom = len(at_hub.keys() - produced.keys())
            truth = score_people([CountedScan(i, e, b, r, a) for i, _, e, b, r, a, _ in produced.values()],
                                 {self.event: self.event_date}, default_rules(), self.juniors)
            kept = store.standings_by_badge()
            fields = lambda s: (s.points, s.attended, s.volunteered)  # noqa: E731
            report.badges_off = sum(1 for b in truth.keys() | kept.keys()
                                    if (b in truth) != (b in kept) or fields(truth[b]) != fields(kept[b]))
            before = _derived(store)
            store.recompute()
            report.recompute_changed = _derived(store) != before
        finally:
            store.close()

    def run(self) -> SoakReport:
        self.started = time.monotonic()
        self._prepare()
        supervisor = threading.Thread(target=self._supervise, daemon=True)
        supervisor.start()
        try:
            time.sleep(2)  # the hub and kiosks connect
            per_kiosk = self.scans // self.kiosk_count
            scanners = [threading.Thread(target=self._scanner, args=(k, per_kiosk, per_kiosk / self.seconds),
                                         daemon=True) for k in self.kiosks]
            chaos = threading.Thread(target=self._chaos, daemon=True)
            for thread in [*scanners, chaos]:
                thread.start()
            for thread in scanners:
                thread.join()
            self._stop.set()
            chaos.join()
            self.say(f"  {time.monotonic() - self.started:6.1f} s  scanning over; mending everything")
            self._mend()
            drain_start = time.monotonic()
            self.report.unacked_at_end = self._drain()
            self.report.drain_seconds = time.monotonic() - drain_start
        finally:
            self._over.set()
            supervisor.join()
            for part in [*self.kiosks, *self.workers, self.hub]:
                part.stop()
            for wire in getattr(self, "wires", {}).values():
                wire.close()
            if getattr(self, "broker", None) is not None:
                self.broker.stop()
        try:
            self._count()
        finally:
            if getattr(self, "database", None) is not None:
                self.database.stop()
        self.report.seconds = time.monotonic() - self.started
        return self.report


def _derived(store) -> tuple[list, list]:
    """Standings and clubs as stored, without the times they were written."""
    standings = sorted(tuple(r) for r in store.db.execute(
        "SELECT badge, points, attended, volunteered FROM standings"))
    clubs = sorted(tuple(r) for r in store.db.execute(
        "SELECT badge, name, kind, target, reached_on, event FROM milestones"))
    return standings, clubs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scans", type=int, default=10_000, help="scans typed in all (default 10,000)")
    ap.add_argument("--minutes", type=float, default=8, help="how long the scanning lasts")
    ap.add_argument("--outage", type=float, default=150, help="seconds one kiosk is cut off (its outbox fills)")
    ap.add_argument("--fault-every", type=float, default=4.0, help="seconds between faults, on average")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", help="where to keep the run (default: a new temporary directory)")
    ap.add_argument("--postgres", action="store_true",
                    help="the hub on a PostgreSQL cluster of its own, which is killed and paused too")
    args = ap.parse_args()
    import tempfile

    work = Path(args.work or tempfile.mkdtemp(prefix="turnout-soak-"))
    print(f"soak: {args.scans} scans on 3 kiosks over {args.minutes:g} min, a fault every ~{args.fault_every:g} s,"
          f" one kiosk cut off for {args.outage:g} s; the hub on {'PostgreSQL' if args.postgres else 'SQLite'};"
          f" logs in {work}")
    report = Soak(work, args.scans, args.minutes * 60, args.outage, args.seed,
                  fault_every=args.fault_every, postgres=args.postgres).run()
    for line in report.lines():
        print(line)
    print("EXACT: every scan at the hub once, totals as recomputed" if report.exact else "NOT EXACT")
    return 0 if report.exact else 1


if __name__ == "__main__":
    sys.exit(main())
