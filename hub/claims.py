"""Claim codes: the short secret printed on a blank badge beside its badge code. Pure.

Badge codes are sequential, so a badge code alone would let anyone claim a stack of blank
badges by counting. A claim code is six characters drawn at random from 30 that cannot be
mistaken for each other in print (no 0/O, 1/I/L or U/V), about 29 bits: at the ten wrong
tries an hour ``/claim`` allows per badge, guessing one would take thousands of years.
It is printed as ``7KQ-2MX`` and read back however it is typed (any case, with or without
the dash or spaces).
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

CLAIM_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CLAIM_LENGTH = 6


def new_claim_code() -> str:
    return "".join(secrets.choice(CLAIM_ALPHABET) for _ in range(CLAIM_LENGTH))


def printed(code: str) -> str:
    """As it is printed on the badge: ``7KQ-2MX``."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_claim_code(text: Any) -> str:
    """What someone typed from the badge, upper case, with only its letters and digits kept
    (the dash in any form, spaces, and anything invisible that came with a paste go)."""
    return re.sub(r"[^A-Z0-9]+", "", str(text or "").upper())[:40]


def claim_code_matches(typed: str, issued: str | None) -> bool:
    """Whether a typed claim code is the badge's own (compared in constant time)."""
    if not issued or not typed:
        return False
    return hmac.compare_digest(normalise_claim_code(typed).encode(), issued.encode())
