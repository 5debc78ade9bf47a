"""Is this message a scan the hub can count? Protocol checks first, then the product's. Pure.

``read_scan`` checks what the message itself says (size, JSON, version, schema, kiosk id against
the topic); ``check_scan`` checks it against what the hub knows (badge check digit, roles, events).
Each refusal carries a short reason a volunteer can read on the kiosk screen.
"""

from __future__ import annotations

import json
from collections.abc import Container
from dataclasses import dataclass
from datetime import date, timedelta

from jsonschema import Draft202012Validator

from turnout.codes import damm_valid
from turnout.protocol import MAX_PAYLOAD_BYTES, SCAN_SCHEMA, STATUS_SCHEMA, VERSION, Scan

_SCAN_VALIDATOR = Draft202012Validator(SCAN_SCHEMA)
_STATUS_VALIDATOR = Draft202012Validator(STATUS_SCHEMA)


def _compiled_check():
    """fastjsonschema's compiled yes/no, about 15 times quicker than jsonschema, when installed.
    jsonschema stays the authority: it words every refusal, and tests check both agree."""
    try:
        import fastjsonschema
    except ImportError:
        return None
    # The keywords used are the same in draft 7, which fastjsonschema compiles.
    check = fastjsonschema.compile({k: v for k, v in SCAN_SCHEMA.items() if k != "$schema"})

    def is_valid(data: dict) -> bool:
        try:
            check(data)
            return True
        except fastjsonschema.JsonSchemaException:
            return False

    return is_valid


_quick_is_valid = _compiled_check()


def schema_valid(data: dict) -> bool:
    """Does this object follow SCAN_SCHEMA?"""
    if _quick_is_valid is not None and _quick_is_valid(data):
        return True
    return _SCAN_VALIDATOR.is_valid(data)
# Payloads this big are not even opened to look for an id to answer.
_MAX_PEEK_BYTES = 256 * 1024
_MAX_ID_LENGTH = 64


class Reason:
    """The start of every rejection reason; details follow after a colon."""

    OVERSIZE = "too big"
    NOT_JSON = "not JSON"
    VERSION = "unsupported protocol version"
    SCHEMA = "not a valid scan"
    SPOOFED = "kiosk does not match topic"
    CHECK_DIGIT = "badge check digit fails"
    UNKNOWN_ROLE = "unknown role"
    NO_EVENT = "no event assigned"
    UNKNOWN_EVENT = "unknown event"
    ANNUL_MISMATCH = "undo does not match the scan"
    NOT_ISSUED = "badge not issued by this hub"
    TOO_EARLY = "event has not started"
    ID_REUSED = "scan id already used for another scan"


@dataclass(frozen=True)
class Refusal:
    reason: str
    scan_id: str | None  # the id to answer, when the message had one we can address


def read_status(payload: bytes) -> dict | None:
    """A kiosk's status (or last will) as a dict, or None if it does not follow STATUS_SCHEMA."""
    data = _json_object(payload, MAX_PAYLOAD_BYTES)
    if data is None or not _STATUS_VALIDATOR.is_valid(data) or _control_character_in(data):
        return None
    if "queued" in data:
        data["queued"] = int(data["queued"])  # JSON Schema counts 3.0 as an integer; we keep ints
    return data


def _json_object(payload: bytes, limit: int) -> dict | None:
    """The payload as a JSON object, or None if it is bigger than ``limit`` bytes or not one."""
    if len(payload) > limit:
        return None
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _quoted(value: object, limit: int) -> str:
    """What a message said, fit to quote in a refusal: the reason goes into the journal, onto
    the kiosk screen and into SQLite, so no newline, bidi override or lone surrogate gets in."""
    # Only a scalar is written out: a list or object may be nested too deep to print.
    text = value if isinstance(value, str) else repr(value) if isinstance(value, (int, float)) \
        else "null" if value is None else type(value).__name__
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit])


def _control_character_in(data: dict) -> str | None:
    """The first field whose text holds a control character (a newline slips past the
    schema's ``$``, which Python's regular expressions let match before a final newline)."""
    for key, value in data.items():
        # isprintable() is False for every control character (and the schema keeps the rest ASCII)
        if isinstance(value, str) and not value.isprintable():
            return key
    return None


def read_scan(payload: bytes, topic_kiosk: str) -> Scan | Refusal:
    """Parse and schema-check one message from ``<base>/kiosk/<topic_kiosk>/scan``."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Refusal(f"{Reason.OVERSIZE}: {len(payload)} bytes, limit {MAX_PAYLOAD_BYTES}",
                       peek_id(payload))
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Refusal(Reason.NOT_JSON, None)
    if not isinstance(data, dict):
        return Refusal(f"{Reason.NOT_JSON}: not an object", None)
    scan_id = _id_in(data)
    if data.get("v") != VERSION:
        return Refusal(f"{Reason.VERSION}: {_quoted(data.get('v'), 16)}", scan_id)
    if not schema_valid(data):  # the quick yes/no first; details only when it fails
        error = min(_SCAN_VALIDATOR.iter_errors(data), key=lambda e: list(map(str, e.path)))
        where = ".".join(str(p) for p in error.absolute_path) or "scan"
        return Refusal(f"{Reason.SCHEMA}: {_quoted(where, 40)}: {_quoted(error.message, 120)}", scan_id)
    field = _control_character_in(data)
    if field is not None:
        return Refusal(f"{Reason.SCHEMA}: {field}: control character", scan_id)
    if data["kiosk"] != topic_kiosk:
        return Refusal(f"{Reason.SPOOFED}: says {data['kiosk']}, sent as {topic_kiosk}", scan_id)
    return Scan.from_dict({**data, "seq": int(data["seq"])})  # the schema lets 7.0 pass as 7


def check_scan(scan: Scan, roles: Container[str], events: Container[str]) -> str | None:
    """The reason this well-formed scan cannot be counted, or None when it can."""
    if not damm_valid(scan.badge[1:]):
        return f"{Reason.CHECK_DIGIT}: {scan.badge}"
    if scan.role not in roles:
        return f"{Reason.UNKNOWN_ROLE}: {scan.role}"
    if scan.event is None:
        return Reason.NO_EVENT
    if scan.event not in events:
        return f"{Reason.UNKNOWN_EVENT}: {scan.event}"
    return None


def check_annulment(annulment: Scan, target_badge: str | None, target_role: str | None) -> str | None:
    """An undo must be for the same badge and role as the scan it undoes (when that is known)."""
    if target_badge is None:
        return None
    if (target_badge, target_role) != (annulment.badge, annulment.role):
        return f"{Reason.ANNUL_MISMATCH}: it was {target_badge} {target_role}"
    return None


def peek_id(payload: bytes) -> str | None:
    """The scan id in any JSON object payload, so even a refused message gets its answer."""
    data = _json_object(payload, _MAX_PEEK_BYTES)
    return _id_in(data) if data is not None else None


def _id_in(data: dict) -> str | None:
    scan_id = data.get("id")
    if isinstance(scan_id, str) and 0 < len(scan_id) <= _MAX_ID_LENGTH and scan_id.isprintable():
        return scan_id
    return None


def check_day(scan: Scan, event_date: str | None) -> str | None:
    """A scan made (by a kiosk with a synchronised clock) more than a day before its event's
    date is counted at the wrong event: a set-up card for a future event, most likely.
    Later scans pass: events can run over several days, and kiosks sync days afterwards."""
    if not scan.clock_ok or not event_date:
        return None
    try:
        scanned = date.fromisoformat(scan.ts[:10])
        day = date.fromisoformat(event_date)
    except ValueError:
        return None
    if scanned < day - timedelta(days=1):
        return f"{Reason.TOO_EARLY}: {scan.event} is on {event_date}, scanned {scanned.isoformat()}"
    return None
