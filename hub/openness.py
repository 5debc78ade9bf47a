"""How open an event was: the "5 stars of open local democracy", from what organisers ticked. Pure.

Each star builds on the one before, as on the 5-star open data scale: an event has as many stars
as the unbroken run of steps it ticked from the first. Ticks beyond a gap are still listed (and
counted in the impact page's "what organisers did"), they just do not add a star yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from turnout.i18n import N_


@dataclass(frozen=True)
class Step:
    tick: str  # the name kept in events.openness
    stars: int
    title: str
    meaning: str


STEPS = (
    Step("agenda", 1, N_("Published"),
         N_("The agenda, notes and invitation were published where anyone can find them.")),
    Step("hashtag", 2, N_("Open to reporting"),
         N_("A hashtag and background papers were shared, and others were welcome to report on it.")),
    Step("live", 3, N_("Live"),
         N_("There was live reporting or streaming during the event.")),
    Step("remote", 4, N_("Open to people outside the room"),
         N_("People who were not in the room could take part.")),
    Step("ongoing", 5, N_("A conversation between events"),
         N_("The conversation carries on between events, in a permanent place anyone can join.")),
)
TICKS = tuple(step.tick for step in STEPS)
MAX_STARS = len(STEPS)


@dataclass(frozen=True)
class Openness:
    stars: int
    steps: tuple[tuple[Step, bool], ...]  # every step, with whether it was ticked

    @property
    def label(self) -> str:
        """'3 out of 5 stars', for screen readers and tables."""
        return f"{self.stars} out of {MAX_STARS} star{'s' if MAX_STARS != 1 else ''}"

    @property
    def ticked(self) -> tuple[str, ...]:
        return tuple(step.tick for step, done in self.steps if done)


def stars(ticks: Iterable[str]) -> int:
    """The unbroken run of ticked steps from the first: 0 to 5."""
    done = set(ticks)
    count = 0
    for step in STEPS:
        if step.tick not in done:
            break
        count += 1
    return count


def openness(ticks: Iterable[str]) -> Openness:
    done = set(ticks)
    return Openness(stars(done), tuple((step, step.tick in done) for step in STEPS))


def unknown_ticks(ticks: Iterable[str]) -> set[str]:
    """Ticks that are not one of the five steps (for forms to refuse)."""
    return set(ticks) - set(TICKS)
