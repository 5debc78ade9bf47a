"""Several hub processes share one database and one broker: two ``serve --worker`` take the
scans (an MQTT v5 shared subscription deals each scan to one of them) and one ``serve
--no-ingest`` serves the web and speaks for the hub. Counting stays exact whichever worker gets
which scan, and a milestone is awarded once even when two kiosks race to reach it."""

from __future__ import annotations

import random
import re

from hub.rules import default_rules
from hub.scoring import CountedScan, score_people
from hub.store import NewScan, Store
from tests.hub.hubproc import HubProcess, WorkerProcess, cli
from tests.hub.kiosks import TOPICS, FakeKiosk, make_scan, retained
from tests.kiosk.sim import wait_for

PAST_EVENTS = 9  # juniors reach their 10 club at the event scanned here


def _seed(store: Store, juniors: list[str]) -> dict[str, str]:
    """Nine past events each junior attended; the event the test scans at. Event id -> date."""
    past = [store.add_event(f"Camp {n}", f"2025-02-{n + 1:02d}") for n in range(PAST_EVENTS)]
    store.insert_scans([NewScan(make_scan("seed", e.id, badge), "2025-02-28T10:00:00Z", "accepted")
                        for e in past for badge in juniors])
    store.recompute()
    return {e.id: e.date for e in past}


def _derived(store: Store) -> tuple[list, list]:
    """Standings and clubs as stored, without the times they were written."""
    standings = sorted(tuple(r)[:4] for r in store.db.execute(
        "SELECT badge, points, attended, volunteered FROM standings"))
    clubs = sorted(tuple(r) for r in store.db.execute(
        "SELECT badge, name, kind, target, reached_on, event FROM milestones"))
    return standings, clubs


def test_two_workers_and_a_web_process_count_exactly_and_award_each_milestone_once(tmp_path, own_broker):
    db = tmp_path / "hub.sqlite"
    store = Store(db)
    juniors = [store.add_person(f"Junior {n}", junior=True).badge for n in range(30)]
    adults = [store.add_person(f"Adult {n}").badge for n in range(50)]
    dates = _seed(store, juniors)
    today = store.add_event("Big Camp", "2025-03-14")
    dates[today.id] = today.date
    store.close()

    web = HubProcess(db, own_broker.url, tmp_path / "web.log", extra=("--no-ingest",)).start()
    workers = [WorkerProcess(db, own_broker.url, tmp_path / f"w{n}.log", f"turnout-hub-w{n}").start()
               for n in (1, 2)]
    kiosks = [FakeKiosk(own_broker.port, f"door-{n}") for n in range(4)]
    rng = random.Random(12)
    try:
        # Every junior is scanned at two doors at once (the second is a duplicate): both
        # workers race to score the scan that reaches the 10 club.
        sent = [make_scan(kiosks[n].kiosk, today.id, badge) for badge in juniors for n in (0, 1)]
        for badge in adults:
            for role in rng.sample(["attend", "cake", "pitch", "tidy", "organise"], 3):
                sent.append(make_scan(rng.choice(kiosks).kiosk, today.id, badge, role=role))
        undone = rng.sample([s for s in sent if s.badge in adults], 20)
        undos = [make_scan(s.kiosk, today.id, s.badge, role=s.role, annuls=s.id) for s in undone]
        by_kiosk = {k.kiosk: k for k in kiosks}
        order = sent + undos
        rng.shuffle(order)  # undos may come before what they undo
        for scan in order:
            by_kiosk[scan.kiosk].send(scan)
        for scan in rng.sample(sent, 40):  # re-sends, as a kiosk that missed its ack sends again
            by_kiosk[scan.kiosk].send(scan)
        acks = {}
        for kiosk in kiosks:
            acks.update(kiosk.wait_for([s.id for s in order if s.kiosk == kiosk.kiosk], timeout=60))
        assert all(a["status"] in ("accepted", "duplicate") for a in acks.values()), \
            [a for a in acks.values() if a["status"] == "rejected"][:3]

        # Each junior's 10 club is announced once, on exactly one of their two scans.
        announced = {}
        for scan in sent:
            if acks[scan.id].get("milestone"):
                announced.setdefault(scan.badge, []).append(acks[scan.id]["milestone"])
        assert sorted(announced) == sorted(juniors)
        assert all(len(names) == 1 for names in announced.values()), announced

        # The scans went to both workers, and only the web process spoke for the hub.
        for worker in workers:
            said = worker.log.read_text()
            assert re.search(r"accepted|duplicate", said), said[-2000:]
            assert "told kiosk" not in said
        assert retained(own_broker.port, TOPICS.hub_status)["state"] == "online"
        cli(db, "assign", "door-9", today.id)
        config = retained(own_broker.port, TOPICS.config("door-9"), timeout=15,
                          until=lambda c: c.get("event") == today.id)
        assert config is not None
        assert web.log.read_text().count("told kiosk door-9") == 1

        # The totals are those of the scans sent, scored from scratch, and a recompute agrees.
        store = Store(db)
        undone_ids = {s.id for s in undone}
        counted = [CountedScan(s.id, s.event, s.badge, s.role, s.annuls)
                   for s in sent + undos] + [
                   CountedScan(r["id"], r["event"], r["badge"], r["role"], None)
                   for r in store.scans() if r["kiosk"] == "seed"]
        expected = score_people(counted, dates, default_rules(), juniors)
        stored = store.standings_by_badge()
        assert {b: (s.points, s.attended) for b, s in stored.items()} == \
            {b: (s.points, s.attended) for b, s in expected.items()}
        assert store.count_scans() == len(sent) + len(undos) + PAST_EVENTS * len(juniors)
        assert {r["id"] for r in store.scans() if r["annulled"]} == undone_ids
        before = _derived(store)
        store.recompute()
        assert _derived(store) == before
        store.close()
    finally:
        for kiosk in kiosks:
            kiosk.close()
        for worker in workers:
            worker.stop()
        web.stop()


def test_a_worker_needs_its_own_client_id(tmp_path, own_broker):
    result = cli(tmp_path / "hub.sqlite", "serve", "--worker", "--broker", own_broker.url, check=False)
    assert result.returncode == 1 and "its own --client-id" in result.stderr
