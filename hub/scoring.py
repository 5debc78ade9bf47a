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

from hub.rules import ATTEND, VOLUNTEER, Milestone, Rules
from turnout.protocol import NextMilestone


@dataclass(frozen=True)
class CountedScan:
    """The parts of a stored scan that scoring looks at."""

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
    def in_date_order(events: Iterable[str]) -> list[str]:
        return sorted(events, key=lambda e: (event_dates[e], e))

    present = in_date_order({event for event, _, _ in triples})
    helped = in_date_order({event for event, _, role in triples if role != rules.attend_role})
    roles: dict[str, int] = defaultdict(int)
    points = len(present) * rules.points(rules.attend_role)
    for _, _, role in triples:
        if role != rules.attend_role:
            roles[role] += 1
            points += rules.points(role)
    reached, upcoming = [], []
    for club in rules.milestones(junior):
        done = present if club.kind == ATTEND else helped
        if len(done) >= club.target:
            event = done[club.target - 1]
            reached.append(Reached(club.name, club.kind, club.target, event_dates[event], event))
        else:
            upcoming.append((club.target - len(done), club))
    reached.sort(key=lambda r: (r.reached_on, r.event, r.kind, r.target))
    return Standing(badge=badge, points=points, attended=len(present), volunteered=len(helped),
                    roles=dict(sorted(roles.items())), events=tuple(present),
                    milestones=tuple(reached), next_milestone=_nearest(upcoming))


def _nearest(upcoming: list[tuple[int, Milestone]]) -> NextMilestone | None:
    """The club closest to reach; attendance first when two are equally close."""
    if not upcoming:
        return None
    to_go, club = min(upcoming, key=lambda u: (u[0], u[1].kind != ATTEND, u[1].target))
    return NextMilestone(name=club.name, kind=club.kind, target=club.target, to_go=to_go)


def newly_reached(standing: Standing, already_awarded: Iterable[str]) -> list[Reached]:
    """Clubs in this standing that have not been awarded before (each is awarded once)."""
    awarded = set(already_awarded)
    return [m for m in standing.milestones if m.name not in awarded]


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
           "score_person", "score_people", "newly_reached", "ranked", "event_roll"]
