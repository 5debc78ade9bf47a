"""Scoring rules: roles and their points, milestone clubs, hours per role. Pure: reads TOML only.

The defaults live in ``rules.default.toml`` beside this file; organisers copy it and add roles.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from turnout.codes import is_role_name
from turnout.i18n import ATTEND_CLUB, JUNIOR_CLUB, VOLUNTEER_CLUB

ATTEND = "attend"
VOLUNTEER = "volunteer"


@dataclass(frozen=True)
class Milestone:
    """A club a person joins by reaching ``target`` events attended or volunteered at."""

    name: str  # e.g. "25 club", "volunteer 10 club"
    kind: str  # ATTEND or VOLUNTEER
    target: int
    juniors_only: bool = False


@dataclass(frozen=True)
class Rules:
    roles: dict[str, int] = field(default_factory=dict)  # role -> points, once per event
    hours: dict[str, float] = field(default_factory=dict)  # role -> estimated hours per event
    attend_role: str = ATTEND
    attend_clubs: tuple[int, ...] = (25, 50, 100, 250)
    junior_clubs: tuple[int, ...] = (10,)
    volunteer_clubs: tuple[int, ...] = (10, 25, 50, 100)

    def points(self, role: str) -> int:
        return self.roles.get(role, 0)

    def knows_role(self, role: str) -> bool:
        return role in self.roles

    def with_roles(self, roles: dict[str, int], hours: dict[str, float] | None = None) -> "Rules":
        """The same clubs with a different role table (the hub keeps roles in its database)."""
        return Rules(roles=dict(roles), hours={**self.hours, **(hours or {})},
                     attend_role=self.attend_role, attend_clubs=self.attend_clubs,
                     junior_clubs=self.junior_clubs, volunteer_clubs=self.volunteer_clubs)

    def milestones(self, junior: bool) -> tuple[Milestone, ...]:
        """Every club open to this person, smallest target first within each kind."""
        return _clubs(self.attend_clubs, self.junior_clubs if junior else (), self.volunteer_clubs)


@lru_cache(maxsize=64)  # asked once per scan scored: build each club list once
def _clubs(attend: tuple[int, ...], junior: tuple[int, ...],
           volunteer: tuple[int, ...]) -> tuple[Milestone, ...]:
    clubs = [Milestone(ATTEND_CLUB.format(n=n), ATTEND, n) for n in attend]
    clubs += [Milestone(JUNIOR_CLUB.format(n=n), ATTEND, n, juniors_only=True) for n in junior]
    clubs += [Milestone(VOLUNTEER_CLUB.format(n=n), VOLUNTEER, n) for n in volunteer]
    return tuple(sorted(clubs, key=lambda m: (m.kind, m.target, m.name)))


def default_rules() -> Rules:
    text = resources.files("hub").joinpath("rules.default.toml").read_text(encoding="utf-8")
    return rules_from_dict(tomllib.loads(text))


def load_rules(path: str | Path | None = None) -> Rules:
    """Rules from a TOML file; anything it leaves out keeps the default."""
    if path is None:
        return default_rules()
    with open(path, "rb") as fh:
        return rules_from_dict(tomllib.load(fh), base=default_rules())


def rules_from_dict(data: dict[str, Any], base: Rules | None = None) -> Rules:
    base = base or Rules()
    roles = {str(k): _int(v, f"points for {k}") for k, v in data.get("roles", base.roles).items()}
    for role in roles:
        if not is_role_name(role):
            raise ValueError(f"role name {role!r} must be lower-case letters, digits, _ or -")
    attend_role = str(data.get("attend_role", base.attend_role))
    if attend_role not in roles:
        raise ValueError(f"the attend role {attend_role!r} needs points in [roles]")
    hours = {str(k): float(v) for k, v in data.get("hours", base.hours).items()}
    clubs = data.get("clubs", {})
    return Rules(
        roles=roles, hours=hours, attend_role=attend_role,
        attend_clubs=_targets(clubs.get("attend", base.attend_clubs)),
        junior_clubs=_targets(clubs.get("junior", base.junior_clubs)),
        volunteer_clubs=_targets(clubs.get("volunteer", base.volunteer_clubs)),
    )


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a whole number of 0 or more, not {value!r}")
    return value


def _targets(values: Any) -> tuple[int, ...]:
    return tuple(sorted({_int(v, "a club target") for v in values if v}))
