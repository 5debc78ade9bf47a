"""What the hub does with each scan message, on a real SQLite file, without a broker."""

import pytest

from hub.intake import Intake, Message
from hub.store import Store
from hub.validate import Reason
from turnout.protocol import Scan
from tests.hub.kiosks import TOPICS, make_scan


@pytest.fixture
def hub(tmp_path):
    store = Store(tmp_path / "hub.sqlite")
    yield store, Intake(store)
    store.close()


def send(intake, scan, kiosk="hall-1"):
    return intake.receive(TOPICS.scan(kiosk), scan.to_json() if hasattr(scan, "to_json") else scan).ack


def test_accepted_then_resent_gets_the_same_answer_and_counts_once(hub):
    store, intake = hub
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    scan = make_scan("hall-1", event.id, ada.badge)
    first, again = send(intake, scan), send(intake, scan)
    assert first.status == again.status == "accepted"
    assert first.person.name == "Ada" and first.person.points == 1 and first.person.events == 1
    assert store.count_scans() == 1


def test_same_event_badge_and_role_again_is_a_duplicate_but_is_kept(hub):
    store, intake = hub
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    assert send(intake, make_scan("hall-1", event.id, ada.badge)).status == "accepted"
    dup = make_scan("hall-2", event.id, ada.badge)
    assert send(intake, dup, "hall-2").status == "duplicate"
    assert send(intake, dup, "hall-2").status == "duplicate"
    assert send(intake, make_scan("hall-1", event.id, ada.badge, role="cake")).status == "accepted"
    assert store.count_scans() == 3 and store.standing(ada.badge).points == 3


def test_an_undo_is_accepted_and_the_scan_stops_counting(hub):
    store, intake = hub
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    cake = make_scan("hall-1", event.id, ada.badge, role="cake")
    send(intake, make_scan("hall-1", event.id, ada.badge))
    send(intake, cake)
    ack = send(intake, make_scan("hall-1", event.id, ada.badge, role="cake", annuls=cake.id))
    assert ack.status == "accepted" and ack.person.points == 1
    # the role can be scanned again afterwards, and then counts again
    assert send(intake, make_scan("hall-1", event.id, ada.badge, role="cake")).status == "accepted"
    assert store.standing(ada.badge).points == 3


def test_an_undo_for_another_badge_is_refused(hub):
    store, intake = hub
    ada, bob = store.add_person("Ada Lovelace"), store.add_person("Bob Smith")
    event = store.add_event("Camp", "2025-03-14")
    scan = make_scan("hall-1", event.id, ada.badge)
    send(intake, scan)
    ack = send(intake, make_scan("hall-1", event.id, bob.badge, annuls=scan.id))
    assert ack.status == "rejected" and ack.reason.startswith(Reason.ANNUL_MISMATCH)


def test_milestone_is_sent_once_in_the_ack_that_reaches_it(hub):
    store, intake = hub
    kid = store.add_person("Sam Patel", junior=True)
    events = [store.add_event(f"Camp {n}", f"2025-01-{n + 1:02d}") for n in range(11)]
    acks = [send(intake, make_scan("hall-1", e.id, kid.badge)) for e in events]
    assert [a.milestone for a in acks] == [None] * 9 + ["junior 10 club", None]
    assert acks[8].person.next_milestone.to_go == 1
    assert send(intake, make_scan("hall-1", events[9].id, kid.badge, scan_id=None)).milestone is None
    # a re-send of the scan that reached it gets the same fanfare again (its ack may have been lost)
    resent = intake.receive(TOPICS.scan("hall-1"), make_scan(
        "hall-1", events[9].id, kid.badge, scan_id=acks[9].id).to_json()).ack
    assert resent.milestone == "junior 10 club"


def test_unregistered_badge_is_stored_and_counts_once_claimed(hub):
    store, intake = hub
    event = store.add_event("Camp", "2025-03-14")
    [code] = store.add_blank_badges(1)
    ack = send(intake, make_scan("hall-1", event.id, code, role="pitch"))
    assert ack.status == "accepted" and ack.person is None
    store.claim(code, "Grace Hopper")
    assert store.standing(code).points == 4
    assert send(intake, make_scan("hall-1", event.id, code)).person.name == "Grace"


def test_a_badge_this_hub_never_issued_is_refused_and_does_not_move_the_numbering(hub):
    store, intake = hub
    event = store.add_event("Camp", "2025-03-14")
    from turnout.codes import badge_code
    ack = send(intake, make_scan("hall-1", event.id, badge_code(10**15)))
    assert ack.status == "rejected" and ack.reason.startswith(Reason.NOT_ISSUED)
    assert [q.reason for q in store.quarantined()] == [ack.reason], "kept for an organiser"
    assert store.add_person("New Person").number == 1


def test_a_scan_made_before_its_event_day_is_refused(hub):
    store, intake = hub
    ada = store.add_person("Ada Lovelace")
    december = store.add_event("December camp", "2025-12-05")
    early = Scan(**{**make_scan("hall-1", december.id, ada.badge).__dict__, "ts": "2025-03-14T10:00:00Z"})
    ack = send(intake, early)
    assert ack.status == "rejected" and ack.reason.startswith(Reason.TOO_EARLY)
    late = Scan(**{**early.__dict__, "id": "5b9e4a52-8c1d-4c43-9f7e-2d1b9b3c4d5e", "ts": "2025-12-07T10:00:00Z"})
    assert send(intake, late).status == "accepted", "a later day is fine: events run on, kiosks sync late"
    unsure = Scan(**{**early.__dict__, "id": "6b9e4a52-8c1d-4c43-9f7e-2d1b9b3c4d5e", "clock_ok": False})
    assert send(intake, unsure).status == "duplicate", "an unsynchronised clock is not held against it"


def test_every_refusal_is_quarantined_and_none_stops_the_hub(hub):
    store, intake = hub
    store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    bad = [b"not json", b"{}", make_scan("hall-1", event.id, "T5725").to_json(),
           make_scan("hall-1", "nowhere", "T13").to_json(), make_scan("hall-1", None, "T13").to_json()]
    for payload in bad:
        intake.receive(TOPICS.scan("hall-1"), payload)
    reasons = [q.reason for q in store.quarantined()]
    assert len(reasons) == 5
    assert send(intake, make_scan("hall-1", event.id, "T13")).status == "accepted"


def test_refused_for_its_event_then_reassigned_counts(hub):
    store, intake = hub
    ada = store.add_person("Ada Lovelace")
    scan = make_scan("hall-1", None, ada.badge)
    assert send(intake, scan).reason == Reason.NO_EVENT
    event = store.add_event("Camp", "2025-03-14")
    [item] = store.quarantined()
    assert intake.reassign(item.id, event.id).status == "accepted"
    assert store.standing(ada.badge).attended == 1
    assert store.quarantined() == [] and store.quarantined(include_resolved=True)[0].resolution
    with pytest.raises(ValueError):
        intake.reassign(item.id, event.id)


def test_a_batch_is_one_transaction_with_answers_in_order(hub):
    store, intake = hub
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    scans = [make_scan("hall-1", event.id, ada.badge), make_scan("hall-1", event.id, ada.badge)]
    answers = intake.receive_batch([Message(TOPICS.scan("hall-1"), s.to_json()) for s in scans]
                                   + [Message(TOPICS.scan("hall-1"), b"junk")])
    assert [a.ack.status if a.ack else None for a in answers] == ["accepted", "duplicate", None]


def test_recompute_gives_the_same_standings_as_ingest(hub):
    store, intake = hub
    from hub.sample import seed_sample
    seed_sample(store, people=40, events=6)
    before = {p.badge: store.standing(p.badge) for p in store.people()}
    board = [(p.badge, s.points) for p, s in store.leaderboard(limit=None, include_hidden=True)]
    store.recompute()
    assert {p.badge: store.standing(p.badge) for p in store.people()} == before
    assert [(p.badge, s.points) for p, s in store.leaderboard(limit=None, include_hidden=True)] == board


def test_kiosk_status_is_recorded(hub):
    store, intake = hub
    intake.receive_status(TOPICS.status("hall-1"), b'{"v":1,"state":"online","version":"0.1","queued":3}')
    intake.receive_status(TOPICS.status("hall-2"), b'garbage')
    [kiosk] = store.kiosks()
    assert (kiosk.id, kiosk.state, kiosk.queued) == ("hall-1", "online", 3)
