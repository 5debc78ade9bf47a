"""Welsh beside English: which languages Turnout speaks, and its compiled gettext catalogues.

Two catalogues (gettext domains) live in ``turnout/locale/<language>/LC_MESSAGES/``: ``hub`` for
the web pages and ``kiosk`` for the kiosk's screen, so a kiosk loads only its own few messages.
The compiled ``.mo`` files are committed beside the ``.po`` sources (``make translations``
rebuilds them, a test says when they are stale), so a fresh clone and a kiosk need no Babel:
this module uses the standard library's ``gettext`` alone.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "en"
# Code -> the language's name in itself, as the switcher shows it.
LANGUAGES = {"en": "English", "cy": "Cymraeg"}
DOMAINS = ("hub", "kiosk")


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; it is translated where it is shown."""
    return message


@lru_cache(maxsize=None)
def translations(domain: str, language: str) -> gettext.NullTranslations:
    """The catalogue for ``language`` (English, the source language, needs none)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: Turnout speaks {', '.join(LANGUAGES)}")
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(domain, LOCALE_DIR, [language])


# Milestones' names as the hub's rules make them (hub.rules), so pages and the kiosk's screen can
# say a name the hub stored or sent in the reader's language.
ATTEND_CLUB, JUNIOR_CLUB, VOLUNTEER_CLUB = N_("{n} club"), N_("junior {n} club"), N_("volunteer {n} club")
_CLUB_PATTERNS = tuple((template, re.compile(re.escape(template).replace(r"\{n\}", r"(\d+)")))
                       for template in (ATTEND_CLUB, JUNIOR_CLUB, VOLUNTEER_CLUB))


def milestone_name(name: str, translate: Callable[[str], str]) -> str:
    """"25 club" in the language of ``translate`` (a catalogue's gettext): "Clwb 25". A name the
    rules did not make this way is shown as it is."""
    for template, pattern in _CLUB_PATTERNS:
        match = pattern.fullmatch(name)
        if match:
            return translate(template).format(n=match[1])
    return name
