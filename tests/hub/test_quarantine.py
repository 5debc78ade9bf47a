"""Quarantine keeps what organisers can use and stays bounded under a flood (real SQLite)."""

import json
import uuid

import pytest

from hub.intake import Intake, Message
from hub.storage.quarantine import QuarantineLimits
from hub.store import Store
from tests.hub.kiosks import TOPICS, make_scan

HOUR = "2025-03-14T10"


@pytest.fixture
def store(hub_db, tmp_path):
    store = Store(hub_db)
    yield store
    store.close()


def junk(n: int, size: int = 3000) -> bytes:
    """A JSON object with an id that is not a scan: answered, refused, quarantined."""
    return json.dumps({"v": 1, "id": str(uuid.uuid4()), "n": n, "padding": "x" * size}).encode()


def database_bytes(store: Store) -> int:
    return store.db.size()


def test_junk_is_kept_whole_then_cut_short_then_only_counted(store):
    store.quarantine_limits = QuarantineLimits(junk_whole_per_kiosk_hour=3, junk_per_kiosk_hour=5)
    store.add_kiosk("hall-1")
    kept = [store.quarantine(TOPICS.scan("hall-1"), junk(n), "not a valid scan", f"{HOUR}:00:{n:02d}Z",
                             kiosk="hall-1") for n in range(8)]
    assert all(k is not None for k in kept[:5]) and kept[5:] == [None, None, None]
    records = sorted(store.quarantined(), key=lambda q: q.id)
    assert [q.cut_short for q in records] == [False, False, False, True, True]
    assert len(records[0].payload) > 3000 and len(records[3].payload) <= 256
    assert all(q.size > 3000 for q in records)
    [count] = store.refused_counts()
    assert (count.kiosk, count.refused, count.kept_whole, count.cut_short, count.counted_only) == \
        ("hall-1", 8, 3, 2, 3)


def test_refused_scans_stay_whole_and_countable_while_junk_is_cut(store):
    """A kiosk set up for the wrong event sends hundreds of good scans in an hour: every one of
    them can still be counted at the right event, however much junk came with them."""
    store.quarantine_limits = QuarantineLimits(junk_whole_per_kiosk_hour=1, junk_per_kiosk_hour=2)
    intake = Intake(store)
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    for n in range(5):
        intake.receive(TOPICS.scan("hall-1"), junk(n))
    scans = [make_scan("hall-1", "2025-03-14-wrong", ada.badge, seq=n) for n in range(30)]
    for scan in scans:
        assert intake.receive(TOPICS.scan("hall-1"), scan.to_json()).ack.status == "rejected"
    waiting = [q for q in store.quarantined() if q.scan_id in {s.id for s in scans}]
    assert len(waiting) == 30 and not any(q.cut_short for q in waiting)
    assert intake.reassign(waiting[0].id, event.id).status == "accepted"
    cut = next(q for q in store.quarantined() if q.cut_short)
    with pytest.raises(ValueError, match="only the start"):
        intake.reassign(cut.id, event.id)


def test_a_flood_of_junk_grows_the_database_by_little_and_every_id_is_answered(store):
    """Rule: what quarantine keeps is bounded per kiosk and hour. 2,000 junk messages of 3-5 KB
    used to add every payload whole (about 9 MB)."""
    intake = Intake(store)
    intake.receive(TOPICS.scan("hall-1"), junk(0), f"{HOUR}:00:00Z")
    before = database_bytes(store)
    answered = 0
    for start in range(0, 2000, 200):
        batch = [Message(TOPICS.scan("hall-1"), junk(n, 3000 + n % 2000), f"{HOUR}:{n // 60 % 60:02d}:00Z")
                 for n in range(start, start + 200)]
        answered += sum(a.ack is not None and a.ack.status == "rejected"
                        for a in intake.receive_batch(batch))
    grown = database_bytes(store) - before
    assert answered == 2000
    assert grown < 1_000_000, f"the database grew by {grown:,} bytes"
    [count] = store.refused_counts()
    assert count.refused == 2001 and count.counted_only > 1500


def test_made_up_kiosk_names_do_not_fill_the_kiosks_table(store, monkeypatch):
    import hub.storage.kiosks

    monkeypatch.setattr(hub.storage.kiosks, "MAX_KIOSKS_FROM_TRAFFIC", 5)
    intake = Intake(store)
    for n in range(20):
        intake.receive(TOPICS.scan(f"made-up-{n}"), junk(n, 10))
    assert len(store.kiosks()) == 5
    counts = {c.kiosk: c.refused for c in store.refused_counts()}
    assert counts[""] == 15  # the rest are counted as from a kiosk the hub does not know
    store.add_kiosk("real-one")  # organisers can always add one
    assert store.kiosk("real-one") is not None


def test_a_batch_from_many_made_up_kiosks_fills_only_the_room_left_and_marks_them_seen(store, monkeypatch):
    import hub.storage.kiosks

    monkeypatch.setattr(hub.storage.kiosks, "MAX_KIOSKS_FROM_TRAFFIC", 5)
    store.add_kiosk("hall-1")
    intake = Intake(store)
    intake.receive_batch([Message(TOPICS.scan(f"made-up-{n:02d}"), junk(n, 10), "2026-05-02T09:00:00Z")
                          for n in reversed(range(20))])
    kiosks = {k.id: k for k in store.kiosks()}
    assert sorted(kiosks) == ["hall-1", "made-up-00", "made-up-01", "made-up-02", "made-up-03"]
    assert {k.last_seen for i, k in kiosks.items() if i != "hall-1"} == {"2026-05-02T09:00:00Z"}
    assert kiosks["hall-1"].last_seen is None
    assert {c.kiosk: c.refused for c in store.refused_counts()}[""] == 16
