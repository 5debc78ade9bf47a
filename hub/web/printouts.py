"""What the admin pages and ``turnout-hub badges``/``cards`` print: badges, role cards, set-up cards.

One home for choosing what goes on the paper (whose badges, which roles, what labels), so the
web and the command line print the same thing. The drawing itself is ``hub.printing``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hub.printing.badges import BadgeSpec, badges_pdf
from hub.printing.cards import cards_pdf, setup_card_pdf
from hub.printing.pages import PdfTarget
from hub.store import NotFound, Person, Store
from turnout.codes import SETUP_CARD_PREFIX, SetupCard, classify

# Words printed on the role cards for the default roles; other roles print their own name.
ROLE_LABELS = {
    "pitch": "Pitched a session",
    "cake": "Brought cake",
    "tidy": "Tidied up",
    "organise": "Organised",
}
MAX_BLANK = 500  # fifty sheets of blank badges at a time is plenty


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role.replace("_", " ").replace("-", " ").capitalize())


def card_roles(store: Store) -> list[tuple[str, str]]:
    """Every role but attend (a plain badge scan already counts as attending), with its label."""
    rules = store.rules()
    return [(role, role_label(role)) for role in rules.roles if role != rules.attend_role]


def badge_spec(person: Person, event: str | None = None) -> BadgeSpec:
    if not person.claimed:  # a blank badge: printed with its claim code (organisers only)
        return BadgeSpec(person.badge, event=event, claim_code=person.claim_code)
    return BadgeSpec(person.badge, person.name, person.org, event=event, junior=person.junior)


def people_badges(store: Store, codes: Iterable[str], event: str | None = None) -> list[BadgeSpec]:
    specs = []
    for code in codes:
        person = store.person(code)
        if person is None:
            raise NotFound(f"no badge {code}")
        specs.append(badge_spec(person, event))
    return specs


def everyone_badges(store: Store, event: str | None = None) -> list[BadgeSpec]:
    return [badge_spec(p, event) for p in store.people(claimed=True) if p.name]


def blank_badges(store: Store, count: int, event: str | None = None) -> list[BadgeSpec]:
    """New unclaimed codes for pre-printed badges, each with its claim code; people claim them
    at /claim with both."""
    if not 1 <= count <= MAX_BLANK:
        raise ValueError(f"print between 1 and {MAX_BLANK} blank badges at a time")
    codes = store.add_blank_badges(count)
    people = store.people_by_badge(codes)
    return [badge_spec(people[code], event) for code in codes]


def print_badges(out: PdfTarget, specs: Sequence[BadgeSpec], layout: str = "sheet",
                 skip: int = 0) -> int:
    if not specs:
        raise ValueError("no badges to print")
    return badges_pdf(out, specs, layout=layout, skip=skip)


def print_cards(out: PdfTarget, store: Store) -> int:
    """Role cards for every role, and the undo card."""
    return cards_pdf(out, card_roles(store))


def print_setup_card(out: PdfTarget, store: Store, event_id: str, hub: str | None = None) -> int:
    """The card that points a kiosk in set-up mode at this event, and at the hub's broker if given.

    Its code is ``TURNOUT:SETUP:<event>[@<host>[:<port>]]`` (docs/protocol.md).
    """
    event = store.event(event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    token = event.id + (f"@{hub}" if hub else "")
    if hub and not isinstance(classify(SETUP_CARD_PREFIX + token), SetupCard):
        raise ValueError(f"{hub!r} is not a hub address a kiosk can use (HOST or HOST:PORT)")
    return setup_card_pdf(out, token, event.name, event.date)
