"""Text from outside (forms, the command line, printing), made safe to keep and show. Pure.

One definition each, used everywhere text comes in or goes out:

- ``one_line(text)``: what the hub keeps of a name (or any one-line field). NFC-normalised;
  control characters become spaces; invisible formatting characters (Unicode category Cf:
  bidirectional overrides and isolates, marks such as U+200E, zero-width spaces, the byte-order
  mark, soft hyphens, tag characters) are dropped, so a name can neither reverse nor hide the
  text around it on a page, a leaderboard or a badge; whitespace runs become one space. The
  zero-width joiner and non-joiner (U+200D, U+200C) stay *between two visible characters*,
  where emoji sequences (👩‍💻) and Persian and Indic spellings need them; anywhere else they go.
- ``spreadsheet_safe(value)``: a CSV cell that a spreadsheet would run as a formula (it starts
  with = + - @, a tab or a carriage return) gets a leading ``'``, as OWASP advises.
"""

from __future__ import annotations

import unicodedata
from typing import Any

JOINERS = frozenset("\u200c\u200d")  # zero-width non-joiner, zero-width joiner
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _visible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch)[0] != "C"


def one_line(text: Any) -> str:
    """One line of visible text: no control or invisible formatting characters (see above)."""
    text = unicodedata.normalize("NFC", "" if text is None else str(text))
    kept: list[str] = []
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category == "Cc":
            kept.append(" ")
        elif category == "Cf":
            # A joiner only means something inside a word or an emoji sequence.
            if ch in JOINERS and kept and _visible(kept[-1]) \
                    and i + 1 < len(text) and _visible(text[i + 1]):
                kept.append(ch)
        elif category != "Cs":  # a lone surrogate cannot even be stored as UTF-8
            kept.append(ch)
    return " ".join("".join(kept).split())


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell as written: formulae defused with a leading ', None as empty, others as given."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value
