"""Erasure leaves no stable link from a person to their open-data records (Store.erase_person
with the pseudonyms hub/reports.py keeps for the participation download)."""

from __future__ import annotations

import pytest

from hub.intake import Intake
from hub.reports import Reports
from hub.store import Store
from tests.hub.kiosks import TOPICS, make_scan


@pytest.fixture
def store(hub_db, tmp_path):
    store = Store(hub_db)
    yield store
    store.close()


def scan(store: Store, event: str, badge: str, role: str = "attend") -> None:
    Intake(store).receive(TOPICS.scan("door-1"), make_scan("door-1", event, badge, role).to_json())


def participation(reports: Reports) -> list[tuple[str, str, str]]:
    return [(r["person_id"], r["event_id"], r["role"]) for r in reports.participation_rows()]


def pseudonym(store: Store, badge: str) -> str | None:
    row = store.db.execute("SELECT pid FROM pseudonyms WHERE badge = ?", (badge,)).fetchone()
    return row[0] if row else None


def test_erasure_forgets_the_pseudonym_and_a_new_scan_gets_a_new_one(store):
    reports = Reports(store, background=False)
    events = [store.add_event(f"Camp {n}", f"2025-0{n}-01").id for n in (1, 2, 3)]
    ada, bob = store.add_person("Ada Lovelace", consent="full").badge, store.add_person("Bob").badge
    for event in events:
        scan(store, event, ada)
    scan(store, events[1], ada, "cake")
    scan(store, events[0], bob)
    before = participation(reports)
    old, bobs = pseudonym(store, ada), pseudonym(store, bob)
    assert sum(1 for row in before if row[0] == old) == 4

    store.erase_person(ada)

    assert pseudonym(store, ada) is None
    after = participation(reports)
    assert len(after) == len(before)  # the counts stay right
    assert old not in {pid for pid, _, _ in after}
    hers = {(e, r): pid for pid, e, r in after if pid != bobs}
    assert set(hers) == {(e, "attend") for e in events} | {(events[1], "cake")}
    assert hers[(events[1], "attend")] == hers[(events[1], "cake")]  # one event: one id
    assert len({hers[(e, "attend")] for e in events}) == 3  # events not linked to each other
    assert pseudonym(store, bob) == bobs  # nobody else's id moves

    scan(store, events[2], ada)  # the old badge turns up again
    participation(reports)
    assert pseudonym(store, ada) not in (None, old)


def test_erasure_takes_badges_merged_in_with_it(store):
    reports = Reports(store, background=False)
    events = [store.add_event(f"Camp {n}", f"2025-0{n}-01").id for n in (1, 2)]
    ada, spare = store.add_person("Ada Lovelace").badge, store.add_person("Ada again").badge
    scan(store, events[0], spare)
    participation(reports)
    spare_pid = pseudonym(store, spare)
    store.merge_badges(ada, spare)
    scan(store, events[1], spare)  # the old badge still used after the merge
    scan(store, events[1], ada, "tidy")
    participation(reports)

    moved = store.erase_person(ada)

    assert moved == 3
    assert store.scans(badge=ada) == [] and store.scans(badge=spare) == []
    assert pseudonym(store, ada) is None and pseudonym(store, spare) is None
    pids = {pid for pid, _, _ in participation(reports)}
    assert spare_pid not in pids and len(pids) == 2  # one fresh id per event
    store.recompute()
    assert store.standing(ada).attended == store.standing(spare).attended == 0


def test_erasure_works_before_any_open_data_was_made(store):
    event = store.add_event("Camp", "2025-01-01").id
    ada = store.add_person("Ada Lovelace").badge
    scan(store, event, ada)
    assert store.erase_person(ada) == 1
    assert store.person(ada).name is None


def test_withdrawing_consent_gives_a_new_pseudonym_for_every_row_of_later_downloads(store):
    reports = Reports(store, background=False)
    events = [store.add_event(f"Camp {n}", f"2025-0{n}-01").id for n in (1, 2)]
    ada, bob = store.add_person("Ada Lovelace", consent="full").badge, store.add_person("Bob").badge
    scan(store, events[0], ada)
    scan(store, events[0], bob)
    named = {r["person_id"]: r["name"] for r in reports.participation_rows()}
    first, bobs = pseudonym(store, ada), pseudonym(store, bob)
    assert named[first] == "Ada Lovelace"

    store.update_person(ada, consent="initial")  # no longer named in open data
    scan(store, events[1], ada)
    rows = list(reports.participation_rows())
    second = pseudonym(store, ada)
    assert second not in (None, first) and first not in {r["person_id"] for r in rows}
    assert {(r["event_id"], r["name"]) for r in rows if r["person_id"] == second} == \
        {(events[0], None), (events[1], None)}  # one current id for all her rows, earlier ones too
    assert len(rows) == 3 and pseudonym(store, bob) == bobs  # counts right; nobody else moves

    store.update_person(ada, consent="hidden")
    participation(reports)
    third = pseudonym(store, ada)
    assert third not in (None, first, second)

    store.update_person(ada, consent="full", org="Leeds")  # more public: nothing to hide
    participation(reports)
    assert pseudonym(store, ada) == third
    store.update_person(ada, name="Ada King")  # other changes keep the id
    assert pseudonym(store, ada) == third
