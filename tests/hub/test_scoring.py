"""Scoring is a pure function of scans, events and rules: every rule, and order independence."""

from hypothesis import given, settings, strategies as st

from hub.rules import default_rules
from hub.scoring import (CountedScan, event_roll, newly_reached, ranked, score_people,
                         score_person)

RULES = default_rules()
DATES = {f"e{n:02d}": f"2025-{1 + n // 28:02d}-{1 + n % 28:02d}" for n in range(60)}


def scan(event, badge="T13", role="attend", id=None, annuls=None):
    return CountedScan(id or f"{event}-{badge}-{role}", event, badge, role, annuls)


def attended(badge, n, start=0):
    return [scan(f"e{i:02d}", badge) for i in range(start, start + n)]


def test_attending_scores_one_point_per_event_however_often_scanned():
    scans = [scan("e00", id="a"), scan("e00", id="b"), scan("e01", id="c")]
    s = score_person("T13", scans, DATES, RULES)
    assert (s.points, s.attended, s.volunteered) == (2, 2, 0)


def test_each_role_scores_its_points_once_per_event_and_makes_you_present():
    scans = [scan("e00", role="cake"), scan("e00", role="cake", id="again"),
             scan("e00", role="pitch"), scan("e01", role="organise")]
    s = score_person("T13", scans, DATES, RULES)
    # present at two events (2 x 1) + cake 2 + pitch 3 + organise 5
    assert s.points == 2 + 2 + 3 + 5
    assert s.attended == 2
    assert s.volunteered == 2  # occasions, not tasks
    assert s.roles == {"cake": 1, "organise": 1, "pitch": 1}


def test_annulled_scans_do_not_count_and_annulments_match_their_own_badge():
    scans = [scan("e00", id="s1"), scan("e00", role="cake", id="s2"),
             scan("e00", role="cake", id="u1", annuls="s2"),
             scan("e01", badge="T21", id="s3"), scan("e01", id="u2", annuls="s3")]
    s = score_people(scans, DATES, RULES)
    assert (s["T13"].points, s["T13"].roles) == (1, {})
    assert s["T21"].attended == 1  # an undo from another badge is not an undo of this one


def test_an_undo_that_arrives_first_still_undoes():
    assert score_person("T13", [scan("e00", id="u", annuls="s"), scan("e00", id="s")], DATES, RULES).points == 0


def test_custom_roles_and_points_come_from_the_rules():
    rules = RULES.with_roles({**RULES.roles, "stream": 4})
    s = score_person("T13", [scan("e00", role="stream")], DATES, rules)
    assert s.points == 1 + 4 and s.roles == {"stream": 1}


def test_attendance_club_reached_at_the_nth_event_in_date_order():
    scans = list(reversed(attended("T13", 26)))
    s = score_person("T13", scans, DATES, RULES)
    [club] = [m for m in s.milestones if m.name == "25 club"]
    assert (club.event, club.reached_on) == ("e24", DATES["e24"])
    # never helped: the next attendance club, not "Helped 0 of 10"
    assert (s.next_milestone.name, s.next_milestone.to_go) == ("50 club", 24)
    helped = score_person("T13", scans + [scan("e00", role="cake")], DATES, RULES)
    # once someone has helped, the nearest club of either kind: 9 more occasions beats 24 events
    assert (helped.next_milestone.name, helped.next_milestone.to_go) == ("volunteer 10 club", 9)


def test_junior_ten_club_only_for_juniors():
    scans = attended("T13", 10)
    assert [m.name for m in score_person("T13", scans, DATES, RULES, junior=True).milestones] == ["junior 10 club"]
    assert score_person("T13", scans, DATES, RULES, junior=False).milestones == ()


def test_volunteer_clubs_count_occasions():
    scans = [scan(f"e{i:02d}", role=r) for i in range(10) for r in ("tidy", "cake")]
    s = score_person("T13", scans, DATES, RULES)
    assert [m.name for m in s.milestones] == ["volunteer 10 club"]
    assert s.milestones[0].event == "e09"


def test_next_milestone_is_the_closest_with_how_many_to_go():
    s = score_person("T13", attended("T13", 22), DATES, RULES)
    assert (s.next_milestone.name, s.next_milestone.kind, s.next_milestone.target,
            s.next_milestone.to_go) == ("25 club", "attend", 25, 3)
    assert s.next_milestone.phrase() == "3 more to your 25"


def test_nobody_is_left_without_a_next_milestone_until_every_club_is_done():
    assert score_person("T13", [], DATES, RULES).next_milestone.name == "25 club"
    dates = {f"e{n:03d}": f"{2000 + n // 12}-{n % 12 + 1:02d}-01" for n in range(250)}
    veteran = score_person("T13", [scan(e) for e in dates], dates, RULES)
    assert veteran.next_milestone.name == "volunteer 10 club", "every attendance club done"


def test_scans_at_events_outside_the_given_dates_are_ignored():
    s = score_people(attended("T13", 5), {k: DATES[k] for k in ("e00", "e01")}, RULES)
    assert s["T13"].attended == 2


def test_newly_reached_skips_clubs_already_awarded():
    s = score_person("T13", attended("T13", 10), DATES, RULES, junior=True)
    assert [m.name for m in newly_reached(s, [])] == ["junior 10 club"]
    assert newly_reached(s, ["junior 10 club"]) == []


def test_ranked_orders_by_points_then_attendance_then_badge():
    people = score_people(attended("T13", 2) + attended("T21", 3) + attended("T37", 2), DATES, RULES)
    assert [s.badge for s in ranked(people.values())] == ["T21", "T13", "T37"]


def test_event_roll_lists_roles_per_person():
    roll = event_roll([scan("e00"), scan("e00", role="cake"), scan("e00", badge="T21"),
                       scan("e01", badge="T37")], "e00")
    assert roll == {"T13": ["attend", "cake"], "T21": ["attend"]}


# --- Property: the result depends on the set of scans, not their order or repetition. --------

scans_strategy = st.lists(
    st.builds(lambda i, b, e, r, undo: CountedScan(f"s{i}", f"e{e:02d}", b, r,
                                                   f"s{undo}" if undo is not None else None),
              st.integers(0, 40), st.sampled_from(["T13", "T21", "T37"]), st.integers(0, 30),
              st.sampled_from(["attend", "cake", "pitch", "tidy", "organise"]),
              st.none() | st.integers(0, 40)),
    max_size=60, unique_by=lambda s: s.id)


@settings(max_examples=200, deadline=None)
@given(scans_strategy, st.randoms(use_true_random=False), st.lists(st.integers(0, 59), max_size=20))
def test_order_and_repetition_do_not_change_anything(scans, rnd, repeats):
    base = score_people(scans, DATES, RULES, juniors=["T21"])
    shuffled = list(scans) + [scans[i % len(scans)] for i in repeats] if scans else []
    rnd.shuffle(shuffled)
    assert score_people(shuffled, DATES, RULES, juniors=["T21"]) == base


@settings(max_examples=100, deadline=None)
@given(scans_strategy)
def test_one_person_scored_alone_matches_everyone_scored_together(scans):
    together = score_people(scans, DATES, RULES)
    for badge, standing in together.items():
        assert score_person(badge, [s for s in scans if s.badge == badge], DATES, RULES) == standing
