"""What the hub does with each scan message, on a real SQLite file, without a broker."""

import pytest

from hub.intake import Intake, Message
from hub.store import Store
from hub.validate import Reason
from turnout.protocol import Scan
from tests.hub.kiosks import TOPICS, make_scan


@pytest.fixture
def hub(hub_db, tmp_path):
    store = Store(hub_db)
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


def test_kiosk_status_is_recorded_with_the_event_it_reports(hub):
    store, intake = hub
    intake.receive_status(TOPICS.status("hall-1"),
                          b'{"v":1,"state":"online","version":"0.1","queued":3,"event":"camp-1"}')
    for bad in (b'garbage', b'{"v":99,"state":"online","queued":1}', b'{"v":1,"state":"online","queued":-5}',
                b'{"v":1,"state":"asleep"}', b'{"v":1,"state":"online","event":"bad id/here"}'):
        intake.receive_status(TOPICS.status("hall-2"), bad)
    [kiosk] = store.kiosks()
    assert (kiosk.id, kiosk.state, kiosk.queued, kiosk.reported_event) == ("hall-1", "online", 3, "camp-1")


def test_a_scan_id_reused_for_another_scan_is_refused_and_tells_nothing_about_the_first(hub):
    store, intake = hub
    ada, bob = store.add_person("Ada Lovelace"), store.add_person("Bob Smith")
    event = store.add_event("Camp", "2025-03-14")
    first = make_scan("hall-1", event.id, ada.badge)
    assert send(intake, first).status == "accepted"
    for other in (make_scan("hall-1", event.id, bob.badge, "organise", scan_id=first.id),
                  make_scan("hall-1", event.id, ada.badge, "cake", scan_id=first.id)):
        ack = send(intake, other)
        assert ack.status == "rejected" and ack.reason.startswith(Reason.ID_REUSED)
        assert ack.person is None
    assert store.standing(bob.badge).points == 0 and store.standing(ada.badge).points == 1
    assert len(store.quarantined()) == 2, "kept for an organiser, not lost"


def test_a_re_send_of_a_scan_whose_badge_was_merged_gets_its_first_answer(hub):
    store, intake = hub
    ada, spare = store.add_person("Ada Lovelace"), store.add_person("Ada L")
    event = store.add_event("Camp", "2025-03-14")
    scan = make_scan("hall-1", event.id, spare.badge)
    assert send(intake, scan).status == "accepted"
    store.merge_badges(ada.badge, spare.badge)
    again = send(intake, scan)
    assert again.status == "accepted" and again.person.name == "Ada"


def test_text_with_a_control_character_is_refused_even_where_the_pattern_ends_in_dollar(hub):
    store, intake = hub
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    scan = make_scan("hall-1", event.id, ada.badge)
    import json
    for field, value in (("role", "attend\n"), ("id", scan.id + "\n"), ("event", event.id + "\n")):
        answer = intake.receive(TOPICS.scan("hall-1"), json.dumps({**scan.to_dict(), field: value}).encode())
        if field != "id":  # an id that is not plain text cannot be answered
            assert answer.ack.status == "rejected" and f"{field}: control character" in answer.ack.reason
    assert store.count_scans() == 0 and len(store.quarantined()) == 3


def test_a_sequence_number_past_64_bits_is_refused_with_an_answer(hub):
    store, intake = hub
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    scan = make_scan("hall-1", event.id, ada.badge, seq=10**30)
    ack = send(intake, scan)
    assert ack.status == "rejected" and ack.id == scan.id and "seq" in ack.reason
    send(intake, scan)
    assert len(store.quarantined()) == 1, "a re-sent copy is not kept twice"


def test_a_late_scan_from_an_earlier_event_moves_the_club_on_record(hub):
    store, intake = hub
    kid = store.add_person("Sam Patel", junior=True)
    events = [store.add_event(f"Camp {n}", f"2025-01-{n + 1:02d}") for n in range(10)]
    acks = [send(intake, make_scan("hall-1", e.id, kid.badge)) for e in events[1:]]
    first = send(intake, make_scan("hall-1", events[0].id, kid.badge))  # synced late
    assert first.milestone == "junior 10 club" and not any(a.milestone for a in acks)
    [club] = [m for m in store.standing(kid.badge).milestones if m.name == "junior 10 club"]
    assert (club.event, club.reached_on) == (events[9].id, "2025-01-10")
    # the other way round: the tenth scan reached it, then an undo of an earlier one takes it away
    undo = send(intake, make_scan("hall-1", events[3].id, kid.badge, annuls=acks[2].id))
    assert undo.status == "accepted" and store.awarded(kid.badge) == {}


def test_a_kiosk_shows_up_even_when_nothing_it_sends_counts(hub):
    store, intake = hub
    send(intake, make_scan("lonely", None, "T13"), kiosk="lonely")
    assert [k.id for k in store.kiosks()] == ["lonely"]


# --- Whatever order, batching and repetition: the live tables are what recompute would write. ---

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from hub.rules import Rules, default_rules  # noqa: E402

SMALL_CLUBS = Rules(roles=default_rules().roles, attend_clubs=(2, 3), junior_clubs=(1,),
                    volunteer_clubs=(1, 2))
EVENT_DAYS = ["2025-01-10", "2025-02-10", "2025-03-10", "2025-04-10"]


def _snapshot(store):
    q = store.db.execute
    return (sorted(tuple(r) for r in q("SELECT badge, points, attended, volunteered FROM standings")),
            sorted(tuple(r) for r in q("SELECT badge, name, reached_on, event FROM milestones")),
            # (an undo of another badge's scan is refused if it comes after it, kept if before:
            # either way it undoes nothing, so only the scans themselves are compared)
            sorted(tuple(r) for r in q("SELECT id, annulled FROM scans WHERE annuls IS NULL")))


@st.composite
def scan_streams(draw):
    """Scans by 3 people at 4 events, undos (some of another badge's scan), then the whole
    stream shuffled, partly re-sent, and cut into batches."""
    n = draw(st.integers(1, 14))
    made = []
    for i in range(n):
        who, at = draw(st.integers(0, 2)), draw(st.integers(0, 3))
        role = draw(st.sampled_from(["attend", "attend", "cake", "pitch"]))
        undo = draw(st.none() | st.integers(0, max(0, len(made) - 1))) if made else None
        made.append((f"s{i:02d}", who, at, role, undo))
    order = draw(st.permutations(range(n)))
    resent = draw(st.lists(st.integers(0, n - 1), max_size=5))
    cuts = sorted(draw(st.lists(st.integers(1, n + len(resent)), max_size=4)))
    return made, list(order) + resent, cuts


def _feed(tmp_path, name, made, order, cuts):
    store = Store(tmp_path / f"{name}.sqlite", rules=SMALL_CLUBS)
    people = [store.add_person("Ada Lovelace"), store.add_person("Kid Junior", junior=True),
              store.add_person("Bo Baker")]
    events = [store.add_event(f"Camp {d}", d).id for d in EVENT_DAYS]
    ids = {key: f"00000000-0000-4000-8000-{n:012d}" for n, (key, *_ ) in enumerate(made)}
    messages = []
    for k in order:
        key, who, at, role, undo = made[k]
        target = made[undo] if undo is not None else None
        # An undo names its target's id; it is made by the target's badge, or by another (refused).
        scan = make_scan("hall-1", events[at], people[who].badge, target[3] if target else role,
                         scan_id=ids[key], annuls=ids[target[0]] if target else None)
        messages.append(Message(TOPICS.scan("hall-1"), scan.to_json(), "2025-05-01T00:00:00.000Z"))
    intake = Intake(store)
    for start, end in zip([0, *cuts], [*cuts, len(messages)]):
        answers = intake.receive_batch(messages[start:end])
        assert all(a.ack is not None for a in answers)  # every message with an id is answered
    return store


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=scan_streams(), other_order=st.randoms(use_true_random=False))
def test_live_scores_match_recompute_whatever_the_order_batching_or_resends(tmp_path_factory, stream, other_order):
    tmp_path = tmp_path_factory.mktemp("hub")
    made, order, cuts = stream
    live = _feed(tmp_path, "a", made, order, cuts)
    before = _snapshot(live)
    live.recompute()
    assert _snapshot(live) == before
    shuffled = list(order)
    other_order.shuffle(shuffled)
    again = _feed(tmp_path, "b", made, shuffled, [])
    assert _snapshot(again) == before
    live.close()
    again.close()
