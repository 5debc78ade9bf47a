"""From stored scans, events and rules to each person's points, clubs and progress. Pure.

Everything here is a function of *sets*: which (event, badge, role) triples are counted. So the
order scans arrived in, and how many times each was sent, cannot change anyone's result.

- A scan counts unless it is an annulment or an annulment of the same badge undoes it.
- Present at an event = any counted scan there; each present event scores the attend points once.
- Each distinct (event, role) other than attend scores that role's points once.
- attended = events present; volunteered = events with at least one role other than attend.
- Clubs are reached at the n-th event in date order, so the date and event are stable too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from hub.rules import ATTEND, VOLUNTEER, Milestone, Rules
from turnout.protocol import NextMilestone


class CountedScan(NamedTuple):
    """The parts of a stored scan that scoring looks at (a tuple: the hub builds one for every
    stored scan of each badge it scores, and a frozen dataclass costs several times more)."""

    id: str
    event: str | None
    badge: str
    role: str
    annuls: str | None = None


@dataclass(frozen=True)
class Reached:
    """A club a person has reached, and where."""

    name: str
    kind: str
    target: int
    reached_on: str  # the event's date, YYYY-MM-DD
    event: str


@dataclass(frozen=True)
class Standing:
    badge: str
    points: int = 0
    attended: int = 0
    volunteered: int = 0
    roles: dict[str, int] = field(default_factory=dict)  # role -> events done (attend left out)
    events: tuple[str, ...] = ()  # events present, in date order
    milestones: tuple[Reached, ...] = ()
    next_milestone: NextMilestone | None = None


def counted_triples(scans: Iterable[CountedScan]) -> set[tuple[str, str, str]]:
    """(event, badge, role) for every scan that counts."""
    scans = list(scans)
    undone = {(s.annuls, s.badge) for s in scans if s.annuls}
    return {(s.event, s.badge, s.role) for s in scans
            if not s.annuls and s.event is not None and (s.id, s.badge) not in undone}


def score_person(badge: str, scans: Iterable[CountedScan], event_dates: Mapping[str, str],
                 rules: Rules, junior: bool = False) -> Standing:
    """One person's standing from their own scans (scans of other badges are ignored)."""
    triples = {t for t in counted_triples(scans) if t[1] == badge and t[0] in event_dates}
    return _standing(badge, triples, event_dates, rules, junior)


def score_roles(badge: str, done: Iterable[tuple[str, str]], event_dates: Mapping[str, str],
                rules: Rules, junior: bool = False) -> Standing:
    """One person's standing from the (event, role) pairs their counted scans record: the
    same as ``score_person`` on those scans, for a caller that keeps counts instead."""
    triples = {(event, badge, role) for event, role in done if event in event_dates}
    return _standing(badge, triples, event_dates, rules, junior)


def score_people(scans: Iterable[CountedScan], event_dates: Mapping[str, str], rules: Rules,
                 juniors: Iterable[str] = ()) -> dict[str, Standing]:
    """Everyone's standing. ``event_dates`` also limits scoring: pass a season's events only
    and you get that season's league."""
    by_badge: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for triple in counted_triples(scans):
        if triple[0] in event_dates:
            by_badge[triple[1]].add(triple)
    juniors = set(juniors)
    return {badge: _standing(badge, triples, event_dates, rules, badge in juniors)
            for badge, triples in by_badge.items()}


def _standing(badge: str, triples: set[tuple[str, str, str]], event_dates: Mapping[str, str],
              rules: Rules, junior: bool) -> Standing:
    attend = rules.attend_role
    present, helped, roles = set(), set(), defaultdict(int)
    points = 0
    for event, _, role in triples:
        present.add(event)
        if role != attend:
            helped.add(event)
            roles[role] += 1
            points += rules.points(role)
    points += len(present) * rules.points(attend)
    by_date = {ATTEND: _in_date_order(present, event_dates),
               VOLUNTEER: _in_date_order(helped, event_dates)}
    reached, upcoming = [], []
    for club in rules.milestones(junior):
        done = by_date[club.kind]
        if len(done) >= club.target:
            event = done[club.target - 1]
            reached.append(Reached(club.name, club.kind, club.target, event_dates[event], event))
        else:
            upcoming.append((club.target - len(done), club))
    if len(reached) > 1:
        reached.sort(key=lambda r: (r.reached_on, r.event, r.kind, r.target))
    return Standing(badge=badge, points=points, attended=len(present), volunteered=len(helped),
                    roles=dict(sorted(roles.items())), events=tuple(by_date[ATTEND]),
                    milestones=tuple(reached), next_milestone=_nearest(upcoming, bool(helped)))


def _in_date_order(events: set[str], event_dates: Mapping[str, str]) -> list[str]:
    # By id, then (a stable sort) by date: the same as sorting on (date, id), without a lambda.
    return sorted(sorted(events), key=event_dates.__getitem__)


def _nearest(upcoming: list[tuple[int, Milestone]], has_helped: bool) -> NextMilestone | None:
    """The club closest to reach; attendance first when two are equally close. Volunteer clubs
    wait until someone has helped once: "Helped 0 of 10" greets a first-timer with nothing done,
    where "24 more to your 25" is progress they are making."""
    attending = [u for u in upcoming if u[1].kind == ATTEND]
    if not has_helped and attending:
        upcoming = attending
    if not upcoming:
        return None
    to_go, club = min(upcoming, key=lambda u: (u[0], u[1].kind != ATTEND, u[1].target))
    return NextMilestone(name=club.name, kind=club.kind, target=club.target, to_go=to_go)


def newly_reached(standing: Standing, already_awarded: Iterable[str]) -> list[Reached]:
    """Clubs in this standing that have not been awarded before (each is awarded once)."""
    awarded = set(already_awarded)
    return [m for m in standing.milestones if m.name not in awarded]


@dataclass(frozen=True)
class ClubChanges:
    """How the clubs on record must change to match a standing (what ``recompute`` would write)."""

    fresh: list[Reached]  # reached now for the first time: announce these
    moved: list[Reached]  # still reached, at another date or event (a late scan from before)
    lost: list[str]  # no longer reached (an undo took the person back below them)


def club_changes(standing: Standing, awarded: Mapping[str, Reached]) -> ClubChanges:
    reached = {m.name: m for m in standing.milestones}
    return ClubChanges(fresh=[m for m in standing.milestones if m.name not in awarded],
                       moved=[m for m in standing.milestones
                              if m.name in awarded and awarded[m.name] != m],
                       lost=[name for name in awarded if name not in reached])


def ranked(standings: Iterable[Standing], limit: int | None = None) -> list[Standing]:
    """Leaderboard order: points, then events attended, then badge so ties are stable."""
    order = sorted(standings, key=lambda s: (-s.points, -s.attended, s.badge))
    return order if limit is None else order[:limit]


def event_roll(scans: Iterable[CountedScan], event: str) -> dict[str, list[str]]:
    """Who was present at one event and the roles each did (attend included), by badge."""
    roll: dict[str, set[str]] = defaultdict(set)
    for ev, badge, role in counted_triples(scans):
        if ev == event:
            roll[badge].add(role)
    return {badge: sorted(roles) for badge, roles in sorted(roll.items())}


__all__ = ["ATTEND", "VOLUNTEER", "CountedScan", "Reached", "Standing", "counted_triples",
           "score_person", "score_roles", "score_people", "newly_reached", "ClubChanges",
           "club_changes", "ranked", "event_roll"]
