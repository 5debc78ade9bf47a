"""The read-side figures agree with the pure scoring engine, and follow changes."""

from __future__ import annotations

from datetime import date

import pytest

from hub.reports import Reports
from hub.sample import seed_sample
from hub.store import Store


@pytest.fixture(scope="module")
def store(hub_db_shared):
    store = Store(hub_db_shared)
    seed_sample(store, people=60, events=8, start=date(2024, 9, 1))
    return store


def test_season_and_series_standings_match_the_scoring_engine(store):
    reports = Reports(store, min_interval=0, background=False)
    for season, series in [(None, None), ("2024", None), ("2025", None),
                           (None, "CityCamp Bristol"), ("2025", "LocalGovCamp North")]:
        sql = {b: (p, a, v) for b, p, a, v in reports.scoped_standings(season, series)}
        pure = {p.badge: (s.points, s.attended, s.volunteered)
                for p, s in store.leaderboard(season=season, series=series, limit=None,
                                              include_hidden=True) if s.attended}
        assert {b: v for b, v in sql.items() if b in pure} == pure
        assert set(pure) <= set(sql)
    # All time, scored in SQL (as bench/web_pages.py fills standings) equals the kept standings.
    assert sorted(reports._standings(None, None, kept=False)) == sorted(reports._standings(None, None))


def test_leaderboard_leaves_out_hidden_people(store):
    top = store.leaderboard(limit=1)[0][0]
    store.update_person(top.badge, consent="hidden")
    reports = Reports(store, min_interval=0, background=False)
    hidden = {p.badge for p in store.people() if p.consent == "hidden"}
    assert top.badge in hidden
    shown = {r.badge for r in reports.leaderboard(limit=10_000)}
    assert shown and not shown & hidden
    assert shown == {p.badge for p, _ in store.leaderboard(limit=None)}


def test_totals_add_up(store):
    reports = Reports(store, min_interval=0, background=False)
    totals = reports.totals()
    per_event = [store.event_report(e.id) for e in store.events()]
    assert totals["attendances"] == sum(len(r.present) for r in per_event)
    assert totals["unique_people"] == len({p.badge for r in per_event for p in r.present})
    assert totals["events_held"] == sum(1 for r in per_event if r.present)
    firsts = sum(1 for r in per_event for p in r.present if p.first_time)
    assert firsts == totals["unique_people"]
    assert sum(m["new_people"] for m in reports.by_month()) == totals["unique_people"]


def test_a_snapshot_is_reused_until_the_interval_passes(store):
    reports = Reports(store, min_interval=3600, background=False)
    before = reports.snapshot()
    store.add_person("Someone New")
    assert reports.snapshot() is before  # within the interval: the same figures
    reports.min_interval = 0
    assert reports.snapshot() is not before  # the people table changed: rebuilt


def test_background_rebuild_keeps_serving_the_last_figures(store):
    import time

    reports = Reports(store, min_interval=0, background=True)
    reports.warm()
    first = reports.snapshot()  # waits for the warm-up rather than building twice
    assert first is reports._snapshot
    store.add_person("Yet Another")
    assert reports.snapshot() is first  # changed: rebuilt in the background meanwhile
    deadline = time.monotonic() + 30
    while reports.snapshot() is first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reports.snapshot() is not first
    assert reports.snapshot().fingerprint == reports.fingerprint()


def _open_descriptors() -> int:
    import os
    return len(os.listdir("/proc/self/fd"))


def test_background_rebuilds_leave_no_descriptors_behind(hub_db, tmp_path):
    """Rule: a rebuild reuses its thread's connection. Each rebuild used to start a thread with a
    connection of its own that was never closed: two descriptors a rebuild, every 10 s under load,
    until paho's select() could not watch its socket."""
    import time

    store = Store(hub_db)
    seed_sample(store, people=10, events=2, start=date(2024, 9, 1))
    reports = Reports(store, min_interval=0, background=True)
    reports.warm()
    first = reports.snapshot()

    def rebuild_once(n: int) -> None:
        before = reports.snapshot()
        store.add_person(f"Person {n}")  # the fingerprint moves: the next look rebuilds
        deadline = time.monotonic() + 30
        while reports.snapshot() is before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reports._snapshot is not before

    for n in range(5):  # settle: the rebuild thread and this thread have their connections
        rebuild_once(n)
    settled = _open_descriptors()
    for n in range(5, 60):
        rebuild_once(n)
    assert reports._snapshot is not first
    assert _open_descriptors() <= settled + 1
    assert store.db.open_connections() <= 3  # this thread, the rebuild thread, and the warm-up's
    store.close()


def test_connections_of_ended_threads_are_closed(hub_db, tmp_path):
    """Rule: a connection lives no longer than its thread (web servers' pool threads come and go)."""
    import threading

    store = Store(hub_db)
    store.count_people()
    settled = _open_descriptors()
    for _ in range(40):
        worker = threading.Thread(target=store.count_people)
        worker.start()
        worker.join()
    store.count_people()
    assert _open_descriptors() <= settled + 3  # the last thread's (file, WAL, shared memory), until the next
    assert store.db.open_connections() <= 2
    store.close()
