"""Recompute benchmark: Store.recompute() at a few sizes, beside the bare read of every counted scan.

    .venv/bin/python bench/hub_recompute.py [--people 10000] [--scans 100000] [--runs 3] [--rebuild]

Three hubs are built under var/ (kept for the next run): the size given and a tenth and a
hundredth of it. Each has two seasons of events, regulars who reach clubs, juniors, badges
nobody claimed, duplicate scans and undos. For each hub, the median of ``--runs`` recomputes:

- fresh: standings and milestones emptied first, so every row is written;
- unchanged: straight after, nothing to write;
- rescored: after an organiser changes a role's points.

Beside them, the bare ``SELECT`` that reads every counted scan, and recompute/SQL as a ratio.
``--people 100000 --scans 1000000`` is the size from the web benchmark (building it takes a
minute or two; one recompute there takes seconds, so use ``--runs 1``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.store import Store, utc_now  # noqa: E402
from turnout.codes import badge_code  # noqa: E402

COUNTED_SCANS = "SELECT event, badge, role FROM scans WHERE annuls IS NULL AND annulled = 0"
ROLES = ["cake", "tidy", "pitch", "organise"]


def build(path: Path, people: int, scans: int, seed: int = 11) -> None:
    """Scans by a few regulars and many occasional people; 2 % repeats, 1 % undone."""
    rng = random.Random(seed)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = Store(path)
    now = utc_now()
    count = max(10, scans // 1000)  # two seasons of events
    events = [(f"bench-{n:04d}", f"Camp {n}", (date(2025, 1, 4) + timedelta(days=n * 600 // count)).isoformat())
              for n in range(count)]
    badges = [badge_code(n) for n in range(1, people + 1)]
    weights = [rng.paretovariate(1.2) for _ in badges]
    rows: list[tuple] = []
    per_event = max(1, scans // len(events))
    for event, _, _ in events:
        came: set[int] = set()
        while len(came) < per_event * 0.98:
            came.update(rng.choices(range(people), weights=weights, k=int(per_event * 0.98) - len(came) + 1))
        mine = [(event, badges[i], "attend" if rng.random() < 0.85 else rng.choice(ROLES), None)
                for i in sorted(came)]
        rows += mine + rng.choices(mine, k=max(0, per_event - len(mine)))  # scanned twice
    rows = rows[:scans]
    for n in rng.sample(range(len(rows)), len(rows) // 100):  # undo 1 % (the undo is one more scan)
        event, badge, role, _ = rows[n]
        rows.append((event, badge, role, f"s{n:08d}"))
    undone = {r[3] for r in rows if r[3]}
    with store.transaction():
        store.db.executemany(
            "INSERT INTO people (badge, number, name, junior, claimed, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            ((b, n + 1, f"Person {n}", int(n % 20 == 0), int(n % 10 != 0), now)
             for n, b in enumerate(badges)))
        store.db.executemany("INSERT INTO events (id, name, date, created_at) VALUES (?, ?, ?, ?)",
                             ((*e, now) for e in events))
        store.db.executemany(
            "INSERT INTO scans (id, kiosk, event, badge, role, ts, seq, clock_ok, received_at,"
            " annuls, annulled, status) VALUES (?, 'door-1', ?, ?, ?, ?, ?, 1, ?, ?, ?, 'accepted')",
            ((f"s{n:08d}", event, badge, role, now, n, now, annuls, int(f"s{n:08d}" in undone))
             for n, (event, badge, role, annuls) in enumerate(rows)))
    store.db.execute("ANALYZE")
    store.close()


def median_s(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(path: Path, runs: int) -> dict[str, float]:
    store = Store(path)
    db = store.db
    cake = store.rules().roles["cake"]

    def fresh():
        with store.transaction():
            db.execute("DELETE FROM standings")
            db.execute("DELETE FROM milestones")
        started = time.perf_counter()
        store.recompute()
        return time.perf_counter() - started

    def rescored():
        store.set_role("cake", cake + 1 if store.rules().roles["cake"] == cake else cake)
        started = time.perf_counter()
        store.recompute()
        return time.perf_counter() - started

    result = {
        "sql": median_s(lambda: db.execute(COUNTED_SCANS).fetchall(), max(runs, 3)),
        "fresh": statistics.median(fresh() for _ in range(runs)),
        "unchanged": median_s(store.recompute, runs),
        "rescored": statistics.median(rescored() for _ in range(runs)),
        "scans": store.count_scans(),
        "scored": db.execute("SELECT COUNT(*) FROM standings").fetchone()[0],
        "clubs": db.execute("SELECT COUNT(*) FROM milestones").fetchone()[0],
    }
    store.set_role("cake", cake)
    store.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--scans", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    print(f"{'people':>8} {'scans':>10} {'scored':>8} {'clubs':>6} {'bare SQL s':>11}"
          f" {'fresh s':>8} {'ratio':>6} {'unchanged s':>12} {'ratio':>6} {'rescored s':>11} {'ratio':>6}")
    for scale in (100, 10, 1):
        people, scans = max(10, args.people // scale), max(100, args.scans // scale)
        path = ROOT / "var" / f"bench-recompute-{people}-{scans}.sqlite"
        if args.rebuild or not path.exists():
            started = time.perf_counter()
            build(path, people, scans)
            print(f"(built {path.relative_to(ROOT)} in {time.perf_counter() - started:.1f} s)", flush=True)
        r = measure(path, args.runs)
        print(f"{people:8,} {r['scans']:10,} {r['scored']:8,} {r['clubs']:6,} {r['sql']:11.3f}"
              f" {r['fresh']:8.2f} {r['fresh'] / r['sql']:6.1f} {r['unchanged']:12.2f}"
              f" {r['unchanged'] / r['sql']:6.1f} {r['rescored']:11.2f} {r['rescored'] / r['sql']:6.1f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
