"""Store.recompute() keeps what the pure scoring engine says, whatever state it starts from."""

from __future__ import annotations

import random

import pytest

from hub.intake import Intake
from hub.scoring import CountedScan, score_people, score_person
from hub.store import Store
from tests.hub.kiosks import TOPICS, make_scan
from turnout.codes import badge_code

ROLES = ["attend", "attend", "attend", "cake", "pitch", "tidy", "organise"]


def build_varied_hub(store: Store, seed: int) -> None:
    """Events (some on the same day), regulars who reach clubs, juniors, pre-printed badges
    claimed after their scans, a badge nobody registered, duplicates, re-sends, undos (before
    and after their scan, and of another badge's scan), a merge, an erasure, changed points,
    and derived tables left stale or wrong on purpose."""
    rng = random.Random(seed)
    intake = Intake(store)
    days = [f"2025-{1 + n // 3:02d}-{1 + (n % 3) // 2:02d}" for n in range(36)]
    events = [store.add_event(f"Camp {n}", day, id=f"{day}-camp-{rng.randrange(10**6):06d}").id
              for n, day in enumerate(days)]
    people = [store.add_person(f"Person {n}", junior=n % 4 == 0).badge for n in range(10)]
    blanks = store.add_blank_badges(5)
    stranger = badge_code(5000)  # scanned at a kiosk, never registered nor claimed
    badges = people + blanks + [stranger]
    stored: list = []  # scans stored so far, for undos to aim at

    def put(scan, through_intake: bool) -> None:
        if through_intake and scan.badge != stranger:
            intake.receive(TOPICS.scan(scan.kiosk), scan.to_json())
        else:
            store.insert_scan(scan, "2025-06-01T00:00:00.000Z", "accepted")
        stored.append(scan)

    for badge in badges:
        regular = rng.random() < 0.4
        went = rng.sample(events, rng.randint(26, 36) if regular else rng.randint(0, 12))
        for event in went:
            for role in {rng.choice(ROLES) for _ in range(rng.randint(1, 3))}:
                scan = make_scan(f"door-{rng.randint(1, 3)}", event, badge, role, seq=len(stored))
                put(scan, through_intake=rng.random() < 0.3)
                if rng.random() < 0.1:  # the same thing scanned again at another kiosk
                    put(make_scan("door-9", event, badge, role, seq=len(stored)), False)
                if rng.random() < 0.1:  # a re-send of the same message
                    put(scan, False)
    for _ in range(25):
        target = rng.choice(stored)
        undo_badge = target.badge if rng.random() < 0.8 else rng.choice(badges)
        put(make_scan(target.kiosk, target.event, undo_badge, target.role, annuls=target.id), False)
    for badge in rng.sample(badges, 3):  # an undo that arrives before the scan it undoes
        event = rng.choice(events)
        later = make_scan("door-1", event, badge, "cake")
        put(make_scan("door-1", event, badge, "cake", annuls=later.id), False)
        put(later, False)
    put(make_scan("door-1", events[0], stored[0].badge, "attend", annuls=stored[-1].id), False)

    for n, code in enumerate(blanks[:3]):  # pre-printed badges handed out after their scans
        store.claim(code, f"Late {n}", junior=n == 0)
    keep, gone = people[1], people[2]
    store.merge_badges(keep, gone)
    put(make_scan("door-1", events[-1], gone, "attend"), False)  # the old badge used once more
    store.erase_person(people[3])
    store.update_person(people[5], junior=True)
    store.set_role("cake", 7)
    store.set_role("stream", 4)
    for badge in rng.sample(people, 4):
        put(make_scan("door-2", rng.choice(events), badge, "stream"), False)
    db = store.db  # derived tables wrong in every way recompute must put right
    db.execute("INSERT INTO standings VALUES ('T000000', 99, 9, 9, '2020-01-01T00:00:00.000Z')"
               " ON CONFLICT DO NOTHING")
    db.execute("UPDATE standings SET points = points + 5 WHERE badge = ?", (people[0],))
    db.execute("DELETE FROM milestones WHERE (badge, name) IN"
               " (SELECT badge, name FROM milestones ORDER BY badge, name LIMIT 1)")
    db.execute("INSERT INTO milestones VALUES (?, '250 club', 'attend', 250, '2025-01-01', ?, 'x')",
               (people[4], events[0]))
    db.execute("UPDATE scans SET annulled = 1 - annulled WHERE id IN"
               " (SELECT id FROM scans ORDER BY id LIMIT 3)")


def expected(store: Store):
    """Standings, clubs and undone scans as the pure scoring engine sees the stored scans."""
    dates = {e.id: e.date for e in store.events()}
    rows = store.scans()
    scans = [CountedScan(r["id"], r["event"], r["badge"], r["role"], r["annuls"])
             for r in rows if r["event"] in dates]
    people = {p.badge: p for p in store.people(claimed=None)}
    standings = score_people(scans, dates, store.rules(), [b for b, p in people.items() if p.junior])
    clubs = {(s.badge, m.name, m.kind, m.target, m.reached_on, m.event)
             for s in standings.values() if s.badge in people and people[s.badge].claimed
             for m in s.milestones}
    undone = {(r["annuls"], r["badge"]) for r in rows if r["annuls"]}
    annulled = {r["id"]: int((r["id"], r["badge"]) in undone) for r in rows}
    return standings, clubs, annulled


def kept(store: Store):
    db = store.db
    return ({r[0]: tuple(r[1:]) for r in db.execute("SELECT badge, points, attended, volunteered"
                                                     " FROM standings")},
            {tuple(r) for r in db.execute("SELECT badge, name, kind, target, reached_on, event"
                                          " FROM milestones")},
            {r[0]: r[1] for r in db.execute("SELECT id, annulled FROM scans")})


def everything(store: Store):
    """Every row recompute may touch, timestamps included."""
    return [sorted(map(tuple, store.db.execute(f"SELECT * FROM {table}")))
            for table in ("standings", "milestones", "scans")]


@pytest.mark.parametrize("seed", range(8))
def test_recompute_stores_what_pure_scoring_says_and_a_second_run_changes_nothing(hub_db, tmp_path, seed):
    store = Store(hub_db)
    build_varied_hub(store, seed)
    awarded_before = {(r[0], r[1]): r[2] for r in store.db.execute(
        "SELECT badge, name, awarded_at FROM milestones")}

    scored = store.recompute()

    standings, clubs, annulled = expected(store)
    kept_standings, kept_clubs, kept_annulled = kept(store)
    assert scored == len(standings)
    assert kept_standings == {b: (s.points, s.attended, s.volunteered) for b, s in standings.items()}
    assert kept_clubs == clubs
    assert kept_annulled == annulled
    assert any(s.milestones for s in standings.values())  # the data reaches some clubs
    for person in store.people(claimed=None):  # one person scored alone agrees with the table
        alone = store.standing(person.badge)
        scans, dates = store.person_scans(person.badge)
        assert alone == score_person(person.badge, scans, dates, store.rules(), person.junior)
        if alone.attended:
            assert kept_standings[person.badge] == (alone.points, alone.attended, alone.volunteered)
        else:
            assert person.badge not in kept_standings
    for (badge, name), awarded_at in awarded_before.items():  # a club keeps its award time
        row = store.db.execute("SELECT awarded_at FROM milestones WHERE badge = ? AND name = ?",
                               (badge, name)).fetchone()
        assert row is None or row[0] == awarded_at

    before = everything(store)
    assert store.recompute() == scored
    assert everything(store) == before
    store.close()


def test_recompute_rescored_after_points_change_touches_only_those_standings(hub_db, tmp_path):
    store = Store(hub_db)
    ada, bob = store.add_person("Ada").badge, store.add_person("Bob").badge
    event = store.add_event("Camp", "2025-03-14").id
    intake = Intake(store)
    for badge, role in ((ada, "attend"), (ada, "cake"), (bob, "attend")):
        intake.receive(TOPICS.scan("door-1"), make_scan("door-1", event, badge, role).to_json())
    updated = dict(store.db.execute("SELECT badge, updated_at FROM standings").fetchall())
    store.set_role("cake", 10)
    store.recompute()
    after = {r[0]: (r[1], r[2]) for r in store.db.execute("SELECT badge, points, updated_at FROM standings")}
    assert after[ada][0] == 11 and after[ada][1] >= updated[ada]
    assert after[bob] == (1, updated[bob])  # unchanged, so not rewritten
    store.close()
