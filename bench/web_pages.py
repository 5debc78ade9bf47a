"""Web page benchmark: each main page from a hub of 100,000 people and 1,000,000 scans.

    .venv/bin/python bench/web_pages.py [--people 100000] [--scans 1000000] [--runs 25] [--rebuild]

Builds the database once (bulk inserts in one transaction, standings by one SQL aggregate) and keeps
it under var/ for the next run. Each page is fetched through the app in process (FastAPI's
TestClient, so no socket time), warm, ``--runs`` times; beside it, the bare SQL query that
answers the page's main question is timed on its own. Prints median ms and page/SQL. Also the
cold time of the first statistics page after the data changed (the snapshot rebuild, which a
running hub does in the background while pages keep the last figures). Goal: < 100 ms median.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message=".*httpx.*")

from fastapi.testclient import TestClient  # noqa: E402

from hub.reports import Reports  # noqa: E402
from hub.sample import FIRST_NAMES, ORGANISATIONS, SERIES, SURNAMES  # noqa: E402
from hub.store import Store, utc_now  # noqa: E402
from hub.web import WebSettings, create_web_app  # noqa: E402
from turnout.codes import badge_code  # noqa: E402

COUNTED = "annuls IS NULL AND annulled = 0"


def build(path: Path, people: int, scans: int, seed: int = 7) -> None:
    """People, two seasons of events, and scans: regulars come often, most people now and then."""
    rng = random.Random(seed)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = Store(path)
    db = store.db
    now = utc_now()
    started = time.perf_counter()
    events_count = max(10, scans // 1000)  # ~900 people at each event, a big unconference
    start = date(2025, 1, 4)
    events = []
    for n in range(events_count):
        series = SERIES[n % len(SERIES)]
        day = start + timedelta(days=(n * 600) // events_count)
        events.append((f"bench-{n:04d}", f"{series[0]} {n}", day.isoformat(), series[0], series[1][0],
                       '["agenda", "hashtag"]' if n % 2 else '["agenda"]', rng.randint(20, 90) * 1000))
    badges = [badge_code(n) for n in range(1, people + 1)]
    weight = [rng.paretovariate(1.2) for _ in badges]
    total = sum(weight)
    rows = []
    per_event = scans // events_count
    for e in events:
        came = set()
        while len(came) < per_event * 0.9:
            came.update(rng.choices(range(people), weights=weight, k=per_event))
        came = list(came)[: int(per_event * 0.9)]
        for i in came:
            rows.append((e[0], badges[i], "attend"))
        for i in rng.sample(came, per_event - len(came)):
            rows.append((e[0], badges[i], rng.choice(["cake", "tidy", "pitch", "organise"])))
    with store.transaction():
        db.executemany(
            "INSERT INTO people (badge, number, name, org, junior, consent, claimed, created_at,"
            " claimed_at) VALUES (?, ?, ?, ?, 0, ?, 1, ?, ?)",
            ((b, n + 1, f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
              rng.choice(ORGANISATIONS) if rng.random() < 0.7 else None,
              rng.choices(["initial", "full", "hidden"], [70, 25, 5])[0], now, now)
             for n, b in enumerate(badges)))
        db.executemany(
            "INSERT INTO events (id, name, date, series, venue, openness, cost_pence, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ((*e, now) for e in events))
        db.executemany(
            "INSERT INTO scans (id, kiosk, event, badge, role, ts, seq, clock_ok, received_at,"
            " status) VALUES (?, 'door-1', ?, ?, ?, ?, ?, 1, ?, 'accepted')",
            ((f"s{n:08d}", ev, b, role, now, n, now) for n, (ev, b, role) in enumerate(rows)))
    print(f"inserted {people:,} people, {len(events)} events, {len(rows):,} scans"
          f" in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    # Standings by the same SQL the season leaderboards use (tests/hub/web/test_reports.py checks
    # it against the pure scoring engine): quicker to build than Store.recompute() (~13 s on a
    # million scans, see bench/hub_recompute.py), which is not what this benchmark measures.
    reports = Reports(store, background=False)  # also creates its indexes
    with store.transaction():
        db.executemany("INSERT INTO standings (badge, points, attended, volunteered, updated_at)"
                       " VALUES (?, ?, ?, ?, ?)",
                       ((*row, now) for row in reports._standings(None, None, kept=False)))
    store.db.execute("ANALYZE")
    print(f"standings and indexes in {time.perf_counter() - started:.1f} s", flush=True)
    store.close()
    del total


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--scans", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    path = ROOT / "var" / f"bench-web-{args.people}-{args.scans}.sqlite"
    if args.rebuild or not path.exists():
        print(f"building {path.relative_to(ROOT)} (kept for the next run)…", flush=True)
        build(path, args.people, args.scans)
    store = Store(path)
    db = store.db
    settings = WebSettings(today=date(2026, 6, 1), stats_min_interval=3600)
    app = create_web_app(store, settings=settings)
    client = TestClient(app)

    started = time.perf_counter()
    assert client.get("/impact").status_code == 200
    cold = (time.perf_counter() - started) * 1000

    events = store.events()
    middle = events[len(events) // 2].id
    top = db.execute("SELECT badge FROM standings ORDER BY points DESC LIMIT 1").fetchone()[0]
    one = lambda sql, *p: (lambda: db.execute(sql, p).fetchall())  # noqa: E731
    pages = [
        ("/", one(f"SELECT COUNT(*), COUNT(DISTINCT badge) FROM (SELECT DISTINCT event, badge"
                  f" FROM scans WHERE {COUNTED})")),
        ("/events", one(f"SELECT event, COUNT(DISTINCT badge) FROM scans WHERE {COUNTED}"
                        " GROUP BY event")),
        (f"/events/{middle}", one(f"SELECT badge, role FROM scans WHERE event = ? AND {COUNTED}",
                                  middle)),
        (f"/people/{top}", one("SELECT s.event, s.role, e.date FROM scans s JOIN events e"
                               " ON e.id = s.event WHERE s.badge = ?", top)),
        ("/leaderboard", one("SELECT s.badge, s.points FROM standings s JOIN people p"
                             " ON p.badge = s.badge WHERE p.consent <> 'hidden'"
                             " ORDER BY s.points DESC, s.attended DESC LIMIT 50")),
        ("/leaderboard?season=2025", one(
            f"SELECT s.badge, COUNT(DISTINCT s.event) FROM scans s JOIN events e ON e.id = s.event"
            f" WHERE s.{COUNTED.replace(' AND ', ' AND s.')} AND e.date BETWEEN '2025-01-01'"
            " AND '2025-12-31' GROUP BY s.badge")),
        ("/impact", one(f"SELECT substr(first, 1, 7), COUNT(*) FROM (SELECT c.badge,"
                        f" MIN(e.date) AS first FROM (SELECT DISTINCT event, badge FROM scans"
                        f" WHERE {COUNTED}) c JOIN events e ON e.id = c.event GROUP BY c.badge)"
                        " GROUP BY 1")),
        ("/impact/print", None),
        ("/data/v1/events.csv", None),
        ("/events.ics", one("SELECT * FROM events WHERE date >= ?", "2026-06-01")),
        ("/data", None),
    ]
    for url, _ in pages:  # warm: every snapshot figure the pages use
        assert client.get(url).status_code == 200, url
    print(f"\n{store.count_people():,} people, {store.count_scans():,} scans, {len(events)} events;"
          f" median of {args.runs} runs, warm\n")
    print(f"{'page':34} {'page ms':>9} {'bare SQL ms':>12} {'page/SQL':>9}")
    sql_ms = None
    worst = 0.0
    for url, sql in pages:
        page_ms = median_ms(lambda: client.get(url), args.runs)
        worst = max(worst, page_ms)
        if sql is not None:
            sql_ms = median_ms(sql, max(3, args.runs // 5))
            print(f"{url:34} {page_ms:9.1f} {sql_ms:12.1f} {page_ms / sql_ms:9.2f}")
        else:
            print(f"{url:34} {page_ms:9.1f} {'(as above)':>12} {'':>9}")
    print(f"\ncold: first /impact after start (waits for the start-up snapshot): {cold:.0f} ms")
    started = time.perf_counter()
    app.state.reports._take(app.state.reports.fingerprint())
    print(f"snapshot rebuild (background, after data changes): "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")
    print(f"\nslowest page median {worst:.1f} ms: goal < 100 ms {'met' if worst < 100 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
