"""Kiosk latency: a code arriving on the scanner input -> the OK tone being issued.

Runs the real daemon (`turnout-kiosk --sim`, stdin scanner, text tones) against a local
Mosquitto, types N badge codes one at a time and times each until its tone line appears.
Beside it, in the same run and on the same disk: the cost of a bare WAL + synchronous=FULL
SQLite insert, which is the floor (a scan must be on disk before the beep).
Goal: median ratio <= 1.5. Also prints the daemon's peak RSS (goal <= 60 MB), and what a bare
pipe round trip to a child process costs here (part of the kiosk figure, not of the floor).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from turnout.codes import badge_code  # noqa: E402
from turnout.local_broker import Broker  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class BareInsert:
    """The floor: one scan-shaped row, its own transaction, WAL + synchronous=FULL."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=full")
        self.db.execute("create table scans (id text primary key, seq integer unique, kiosk text,"
                        " event text, badge text, role text, ts text, clock_ok integer, annuls text,"
                        " stored_at text, acked_at text, ack_status text, ack_reason text)")
        self.seq = 0

    def __call__(self) -> float:
        self.seq += 1
        row = (str(uuid.uuid4()), self.seq, "bench", "e1", badge_code(self.seq), "attend",
               "2026-11-23T10:00:00.000Z", 1, None, "2026-11-23T10:00:00.000Z")
        t0 = time.perf_counter()
        self.db.execute("begin")
        self.db.execute("insert into scans (id, seq, kiosk, event, badge, role, ts, clock_ok, annuls,"
                        " stored_at) values (?,?,?,?,?,?,?,?,?,?)", row)
        self.db.execute("commit")
        return time.perf_counter() - t0


# Not part of the ratio: what typing a line to a child process and reading its answer costs
# here, so a reader can see how much of the kiosk's figure is the harness's own pipes.
ECHO = "import sys\nfor line in sys.stdin:\n    sys.stdout.write('\u266a ok\\n'); sys.stdout.flush()\n"


def spawn(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, bufsize=1, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def until_tone(proc: subprocess.Popen, code: str) -> float:
    t0 = time.perf_counter()
    proc.stdin.write(code + "\n")
    proc.stdin.flush()
    for line in proc.stdout:
        if line.startswith("♪"):
            break
    return time.perf_counter() - t0


def measure(directory: Path, broker: Broker, n: int, pause: float):
    """Alternate a bare insert, a kiosk scan and a pipe echo, so all see the same conditions."""
    bare = BareInsert(directory / "bare.db")
    proc = spawn([sys.executable, "-m", "kiosk.cli", "--sim", "--kiosk-id", "bench", "--broker", broker.url,
                  "--data-dir", str(directory / "kiosk"), "--event", "bench"])
    echo = spawn([sys.executable, "-c", ECHO])
    times, floor, pipe = [], [], []
    try:
        time.sleep(1.0)  # let it start and connect; not part of any measurement
        for i in range(n):
            floor.append(bare())
            times.append(until_tone(proc, badge_code(10_000 + i)))
            time.sleep(pause)  # people do not scan back to back; let the screen redraw
            pipe.append(until_tone(echo, badge_code(10_000 + i)))
        rss_kb = peak_rss_kb(proc.pid)
    finally:
        for p in (proc, echo):
            p.stdin.close()
            p.wait(timeout=30)
    return floor, times, pipe, rss_kb


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--pause", type=float, default=0.02, help="seconds between scans")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").is_dir() else None) as tmp:
        directory = Path(tmp)
        broker = Broker(directory / "mosquitto").start()
        try:
            bare, scans, pipe, rss_kb = measure(directory, broker, args.n, args.pause)
        finally:
            broker.stop()
    ms = lambda s: s * 1000  # noqa: E731
    print(f"kiosk latency, {args.n} scans (code on stdin -> tone issued), disk of {directory.parent}")
    print(f"{'':28}{'median ms':>10}{'p99 ms':>10}")
    print(f"{'bare FULL sqlite insert':28}{ms(statistics.median(bare)):>10.3f}{ms(pct(bare, 99)):>10.3f}")
    print(f"{'kiosk scan -> OK tone':28}{ms(statistics.median(scans)):>10.3f}{ms(pct(scans, 99)):>10.3f}")
    print(f"{'(harness pipe round trip)':28}{ms(statistics.median(pipe)):>10.3f}{ms(pct(pipe, 99)):>10.3f}"
          "   included in the kiosk figure, not in the bare one")
    ratio = statistics.median(scans) / statistics.median(bare)
    print(f"median ratio: {ratio:.2f} (goal <= 1.5)   p99 ratio: {pct(scans, 99) / pct(bare, 99):.2f}")
    print(f"daemon peak RSS: {rss_kb / 1024:.1f} MB (goal <= 60 MB)")


if __name__ == "__main__":
    main()
