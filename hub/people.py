"""How a person's name is shown, by their consent. Pure.

Consent levels: ``full`` (full name on public pages), ``initial`` (first name and initial, the
default), ``hidden`` (never on public pages; the kiosk still greets them by first name).
"""

from __future__ import annotations

FULL = "full"
INITIAL = "initial"
HIDDEN = "hidden"
CONSENTS = (FULL, INITIAL, HIDDEN)
DEFAULT_CONSENT = INITIAL


def less_public(new: str, old: str) -> bool:
    """Whether changing consent from ``old`` to ``new`` shows the person less (full > initial > hidden)."""
    return CONSENTS.index(new) > CONSENTS.index(old)


def first_name(name: str | None) -> str:
    """What the kiosk screen says: the first word of the name they gave."""
    return (name or "").strip().split(" ")[0] if name and name.strip() else ""


def public_name(name: str | None, consent: str) -> str | None:
    """The name on public pages and the API, or None when they asked not to be shown."""
    if not name or not name.strip() or consent == HIDDEN:
        return None
    words = name.split()
    if consent == FULL or len(words) == 1:
        return " ".join(words)
    return f"{words[0]} {words[-1][0].upper()}."
