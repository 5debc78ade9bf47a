"""The hub SIGKILLed mid-stream and restarted while kiosks re-send what was not acked:
every scan is stored once, every person's totals are exact."""

import random
import time

import pytest

from hub.store import Store
from tests.hub.hubproc import HubProcess
from tests.hub.kiosks import FakeKiosk, make_scan


@pytest.mark.slow
def test_killed_mid_stream_and_restarted_totals_are_exact(hub_db, tmp_path, own_broker):
    db = hub_db
    store = Store(db)
    events = [store.add_event(f"Camp {n}", f"2025-0{n + 1}-14") for n in range(3)]
    people = [store.add_person(f"Person {n}") for n in range(60)]
    rng = random.Random(7)
    kiosks = [FakeKiosk(own_broker.port, f"door-{n}") for n in range(3)]
    scans = []
    for n in range(1500):
        kiosk = kiosks[n % 3]
        scans.append((kiosk, make_scan(kiosk.kiosk, rng.choice(events).id, rng.choice(people).badge,
                                       role=rng.choice(["attend"] * 5 + ["cake", "pitch", "tidy"]), seq=n)))
    undone = [s for _, s in scans[:1500:50]]
    for scan in undone:  # some undos, sent later in the stream
        kiosk = next(k for k in kiosks if k.kiosk == scan.kiosk)
        scans.insert(rng.randrange(600, len(scans)), (kiosk, make_scan(
            kiosk.kiosk, scan.event, scan.badge, role=scan.role, annuls=scan.id)))

    hub = HubProcess(db, own_broker.url, tmp_path / "hub.log").start()
    try:
        for kiosk, scan in scans[:600]:
            kiosk.send(scan)
        deadline = time.monotonic() + 30
        while sum(k.ack_count for k in kiosks) < 150 and time.monotonic() < deadline:
            time.sleep(0.005)
        hub.kill(keep_session=True)
        acked_before = sum(len(k.acks) for k in kiosks)
        assert 0 < acked_before < 600, "the hub was not killed mid-stream"
        for kiosk, scan in scans[600:]:  # the broker keeps these for the hub's session
            kiosk.send(scan)
        hub.start()
        # kiosks re-send whatever has no ack yet, as they do on reconnect and every 30 s
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            missing = [(k, s) for k, s in scans if s.id not in k.acks]
            if not missing:
                break
            for kiosk, scan in missing:
                kiosk.send(scan)
            time.sleep(1.0)
        assert not [s for k, s in scans if s.id not in k.acks], "some scans were never acked"
    finally:
        hub.kill()
        for k in kiosks:
            k.close()

    assert store.count_scans() == len(scans)
    # Worked out here, independently of hub.scoring: what counts is each badge's distinct
    # (event, role) pairs, less the undone scans; attend 1 point an event, other roles theirs.
    points = {"attend": 1, "pitch": 3, "cake": 2, "tidy": 2}
    undone_ids = {s.annuls for _, s in scans if s.annuls}
    done: dict[str, set[tuple[str, str]]] = {}
    for _, s in scans:
        if not s.annuls and s.id not in undone_ids:
            done.setdefault(s.badge, set()).add((s.event, s.role))
    expected = {}
    for badge, pairs in done.items():
        present = {e for e, _ in pairs}
        helped = {e for e, r in pairs if r != "attend"}
        expected[badge] = (len(present) + sum(points[r] for _, r in pairs if r != "attend"),
                           len(present), len(helped))
    kept = {row[0]: tuple(row[1:]) for row in store.db.execute(
        "SELECT badge, points, attended, volunteered FROM standings")}
    assert kept == expected, "the standings the hub kept while ingesting"
    for person in people:
        got = store.standing(person.badge)
        assert (got.points, got.attended, got.volunteered) == expected.get(person.badge, (0, 0, 0))
    board = {p.badge: s.points for p, s in store.leaderboard(limit=None, include_hidden=True)}
    assert board == {b: e[0] for b, e in expected.items()}
    assert all(k.acks[s.id]["status"] in ("accepted", "duplicate") for k, s in scans)
