"""Badge codes and printed cards: what was scanned?

A person badge is ``T`` + digits whose last digit is a Damm check digit over the others
(number 572 -> ``T5724``). Cards are ``TURNOUT:ROLE:<role>``, ``TURNOUT:UNDO``,
``TURNOUT:SETUP:<event>[@<host>[:<port>]]`` and ``TURNOUT:LOGIN:<kiosk>;<broker>;<user>;<password>[;<CA>]``;
a standard wi-fi QR code starts ``WIFI:``.
Everything else is foreign.
Pure: no I/O, so both the kiosk and the hub classify codes the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from turnout.i18n import N_

# Damm's totally anti-symmetric quasigroup of order 10: catches every single-digit error
# and every adjacent transposition.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

BADGE_PREFIX = "T"
MAX_CODE_LENGTH = 64
# Wi-fi and set-up cards carry passwords and tokens, so they may be longer than a badge.
MAX_CARD_LENGTH = 256
ROLE_CARD_PREFIX = "TURNOUT:ROLE:"
UNDO_CARD = "TURNOUT:UNDO"
SETUP_CARD_PREFIX = "TURNOUT:SETUP:"
LOGIN_CARD_PREFIX = "TURNOUT:LOGIN:"
# A login card carries the CA a kiosk pins (about 540 characters for the hub's own CA).
MAX_LOGIN_CARD_LENGTH = 1024
WIFI_PREFIX = "WIFI:"

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# No leading zero: T021 and T21 would otherwise be two codes for one person.
BADGE_PATTERN = r"^T[1-9][0-9]{1,17}$"  # the shape alone: is_badge also checks the check digit
_BADGE_SHAPE = re.compile(BADGE_PATTERN)
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")
_BADGE_LIKE = re.compile(r"^T[0-9]{2,18}$")  # shaped like a badge: a failure here is a misread
MAX_BADGE_NUMBER = 10**17 - 1  # 17 digits plus the check digit fill the 18 a badge may have
# A set-up card names the event (the hub's event id) and optionally the hub's broker.
# kiosk id ; broker (mqtt[s]://host[:port]) ; username ; password [; CA as base64url DER]
_LOGIN_CARD = re.compile(r"^(?P<kiosk>[A-Za-z0-9_-]{1,32});(?P<broker>mqtts?://[A-Za-z0-9.-]{1,100}(?::[0-9]{1,5})?);"
                         r"(?P<username>[A-Za-z0-9_-]{1,64});(?P<password>[A-Za-z0-9_-]{8,128})"
                         r"(?:;(?P<ca>[A-Za-z0-9_-]{16,900}={0,2}))?$")
_SETUP_CARD = re.compile(r"^(?P<event>[A-Za-z0-9_.-]{1,64})(?:@(?P<hub>[A-Za-z0-9.-]{1,100}(?::[0-9]{1,5})?))?$")


def damm_digit(digits: str) -> int:
    """The Damm check digit for a string of decimal digits."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return interim


def damm_valid(digits: str) -> bool:
    """True when the last digit is the Damm check digit of the others."""
    return len(digits) >= 2 and digits.isascii() and digits.isdigit() and damm_digit(digits) == 0


def badge_code(number: int) -> str:
    """The printed badge code for a person number: ``badge_code(572) == "T5724"``."""
    if not 1 <= number <= MAX_BADGE_NUMBER:
        raise ValueError(f"badge numbers run from 1 to {MAX_BADGE_NUMBER}")
    digits = str(number)
    return f"{BADGE_PREFIX}{digits}{damm_digit(digits)}"


def badge_number(code: str) -> int:
    """The person number inside a valid badge code (raises ValueError if it is not one)."""
    if not is_badge(code):
        raise ValueError(f"not a valid badge code: {code!r}")
    return int(code[1:-1])


def is_badge(code: str) -> bool:
    return bool(_BADGE_SHAPE.fullmatch(code)) and damm_valid(code[1:])


def is_role_name(role: str) -> bool:
    return isinstance(role, str) and bool(ROLE_NAME.fullmatch(role))


# What a scan turned out to be. Each is a small value the state machine matches on.
@dataclass(frozen=True)
class Badge:
    code: str


@dataclass(frozen=True)
class RoleCard:
    role: str


@dataclass(frozen=True)
class UndoCard:
    pass


@dataclass(frozen=True)
class SetupCard:
    """Points a kiosk (in set-up mode) at an event, and at a hub if ``hub`` is given."""

    event: str
    hub: str | None = None  # "host" or "host:port" of the hub's broker

    @property
    def text(self) -> str:
        return f"{SETUP_CARD_PREFIX}{self.event}" + (f"@{self.hub}" if self.hub else "")


@dataclass(frozen=True)
class LoginCard:
    """A kiosk's id and broker login, printed by ``turnout-hub kiosk add --card``. Acts only in
    set-up mode; the password and CA are never shown or logged."""

    kiosk_id: str
    broker: str  # mqtt://host[:port] or mqtts://host[:port], without credentials
    username: str
    password: str = field(repr=False)
    ca: str | None = field(default=None, repr=False)  # the CA certificate to pin: DER, base64url

    @property
    def text(self) -> str:
        fields = [self.kiosk_id, self.broker, self.username, self.password] + ([self.ca] if self.ca else [])
        return LOGIN_CARD_PREFIX + ";".join(fields)


@dataclass(frozen=True)
class WifiCard:
    text: str  # parsed by the kiosk's wi-fi module; kept whole here


@dataclass(frozen=True)
class Misread:
    """Looks like a badge but the check digit fails: ask the person to scan again."""

    text: str


@dataclass(frozen=True)
class Foreign:
    """Not a Turnout code at all (a product EAN, a URL, junk)."""

    text: str
    reason: str


Code = Badge | RoleCard | UndoCard | SetupCard | LoginCard | WifiCard | Misread | Foreign


def classify(text: str) -> Code:
    """Say what a scanned text is. Never raises: anything unexpected is ``Foreign``."""
    if not isinstance(text, str):
        return Foreign(repr(text)[:MAX_CODE_LENGTH], N_("not text"))
    if _CONTROL_CHARACTER.search(text):
        return Foreign(_printable(text), N_("control characters"))
    text = text.strip()
    if not text:
        return Foreign("", N_("empty"))
    if text.startswith(WIFI_PREFIX) or text.startswith("TURNOUT:"):
        limit = MAX_LOGIN_CARD_LENGTH if text.startswith(LOGIN_CARD_PREFIX) else MAX_CARD_LENGTH
        if len(text) > limit:
            return Foreign(text[:len(LOGIN_CARD_PREFIX)] if text.startswith(LOGIN_CARD_PREFIX)
                           else text[:MAX_CODE_LENGTH], N_("too long"))
        return _classify_card(text)
    if len(text) > MAX_CODE_LENGTH:
        return Foreign(text[:MAX_CODE_LENGTH], N_("too long"))
    if text[:1] == "t" and text[1:].isdigit():
        text = "T" + text[1:]  # a scanner with Caps Lock on sends a lower-case t
    if _BADGE_LIKE.match(text):
        return Badge(text) if is_badge(text) else Misread(text)
    return Foreign(text, N_("some other barcode"))  # shown under "Not a Turnout badge"


def _classify_card(text: str) -> Code:
    if text.startswith(WIFI_PREFIX):
        return WifiCard(text)
    if text == UNDO_CARD:
        return UndoCard()
    if text.startswith(ROLE_CARD_PREFIX):
        role = text[len(ROLE_CARD_PREFIX):]
        return RoleCard(role) if is_role_name(role) else Foreign(text, N_("bad role name"))
    if text.startswith(LOGIN_CARD_PREFIX):
        match = _LOGIN_CARD.match(text[len(LOGIN_CARD_PREFIX):])
        if not match:  # never echo the rest: it may hold a password
            return Foreign(LOGIN_CARD_PREFIX + "…", N_("bad login card"))
        return LoginCard(match["kiosk"], match["broker"], match["username"], match["password"], match["ca"])
    if text.startswith(SETUP_CARD_PREFIX):
        match = _SETUP_CARD.match(text[len(SETUP_CARD_PREFIX):])
        if not match or not _port_in_range(match["hub"]):
            return Foreign(text, N_("bad set-up card"))
        return SetupCard(match["event"], match["hub"])
    return Foreign(text, N_("unknown Turnout card"))


def _port_in_range(hub: str | None) -> bool:
    port = hub.rpartition(":")[2] if hub and ":" in hub else None
    return port is None or 1 <= int(port) <= 65535


def _printable(text: str) -> str:
    return "".join(ch if 32 <= ord(ch) != 127 else "?" for ch in text)[:MAX_CODE_LENGTH]
