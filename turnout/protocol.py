"""MQTT protocol v1: topics and payloads, shared by kiosk and hub. Pure: no I/O.

Topics (base ``turnout``, configurable), treated as a public API (see docs/protocol.md):

    <base>/kiosk/<kiosk>/scan     kiosk -> hub, QoS 1      a Scan (or an annulment)
    <base>/kiosk/<kiosk>/ack      hub -> kiosk, QoS 1      an Ack for one scan id
    <base>/kiosk/<kiosk>/status   kiosk, retained, will    KioskStatus
    <base>/kiosk/<kiosk>/config   hub -> kiosk, retained   KioskConfig
    <base>/hub/status             hub, retained, will      HubStatus
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

VERSION = 1
DEFAULT_BASE_TOPIC = "turnout"
MAX_PAYLOAD_BYTES = 4096
# A connected kiosk republishes its status at least this often; the hub takes a kiosk it has not
# heard from for KIOSK_SILENT_SECONDS as offline (Mosquitto sends no last will for a client it
# drops itself, e.g. when a reload finds its password changed).
STATUS_HEARTBEAT_SECONDS = 60
KIOSK_SILENT_SECONDS = 3 * STATUS_HEARTBEAT_SECONDS
# The deepest payload (an ack's person's next milestone) is 3 levels: room to grow, no more.
MAX_JSON_DEPTH = 8
MAX_ROLES = 32
MAX_EVENT_NAME = 120  # longer names are shortened (the screen cuts them much sooner anyway)
MAX_SHOWN_TEXT = 200  # a name, reason or milestone the kiosk shows
KIOSK_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
EVENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: no step per character
_AS_PARENS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


class ProtocolError(ValueError):
    """A payload that does not follow protocol v1; the message says what is wrong."""


class AckStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class Availability(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


_ACK_STATUSES = frozenset(s.value for s in AckStatus)
_AVAILABILITIES = frozenset(a.value for a in Availability)


def is_kiosk_id(kiosk: str) -> bool:
    return isinstance(kiosk, str) and bool(KIOSK_ID.fullmatch(kiosk))


@dataclass(frozen=True)
class Topics:
    base: str = DEFAULT_BASE_TOPIC

    def scan(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{kiosk}/scan"

    def ack(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{kiosk}/ack"

    def status(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{kiosk}/status"

    def config(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{kiosk}/config"

    @property
    def all_scans(self) -> str:
        return f"{self.base}/kiosk/+/scan"

    @property
    def all_statuses(self) -> str:
        return f"{self.base}/kiosk/+/status"

    @property
    def hub_status(self) -> str:
        return f"{self.base}/hub/status"

    def kiosk_of(self, topic: str) -> tuple[str, str] | None:
        """(kiosk, kind) for a ``<base>/kiosk/<kiosk>/<kind>`` topic, else None."""
        prefix = f"{self.base}/kiosk/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix):].split("/")
        if len(parts) != 2:
            return None
        return parts[0], parts[1]


@dataclass(frozen=True)
class Scan:
    """One scan as a kiosk records and sends it. ``annuls`` marks an undo of an earlier scan."""

    id: str
    kiosk: str
    event: str | None
    badge: str
    role: str
    ts: str  # kiosk wall-clock, ISO 8601 UTC; trust it only when clock_ok
    seq: int  # per-kiosk, survives restarts
    clock_ok: bool
    annuls: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"v": VERSION, **asdict(self)}
        if self.annuls is None:
            del data["annuls"]
        return data

    def to_json(self) -> bytes:
        return _dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Scan":
        """Build from an already schema-validated dict (see SCAN_SCHEMA)."""
        return cls(
            id=data["id"], kiosk=data["kiosk"], event=data.get("event"), badge=data["badge"],
            role=data["role"], ts=data["ts"], seq=data["seq"], clock_ok=data["clock_ok"],
            annuls=data.get("annuls"),
        )


@dataclass(frozen=True)
class NextMilestone:
    name: str  # e.g. "25 club"
    kind: str  # "attend" or "volunteer"
    target: int
    to_go: int

    def phrase(self) -> str:
        """What the kiosk screen says: "3 more to your 25", "Helped 8 of 10"."""
        if self.kind == "volunteer":
            return f"Helped {self.target - self.to_go} of {self.target}"  # fits the 128 px screen
        return f"{self.to_go} more to your {self.target}"


@dataclass(frozen=True)
class PersonSummary:
    """What a kiosk screen shows about the person who just scanned."""

    name: str
    points: int
    events: int
    next_milestone: NextMilestone | None = None

    def to_dict(self) -> dict[str, Any]:
        # Spelled out rather than dataclasses.asdict: this is built for every ack, and asdict's
        # deep copy cost more than the JSON encoding.
        nm = self.next_milestone
        return {"name": self.name, "points": self.points, "events": self.events,
                "next_milestone": None if nm is None else
                {"name": nm.name, "kind": nm.kind, "target": nm.target, "to_go": nm.to_go}}


@dataclass(frozen=True)
class Ack:
    id: str
    status: AckStatus
    reason: str | None = None
    person: PersonSummary | None = None
    milestone: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": VERSION, "id": self.id, "status": str(self.status), "reason": self.reason,
            "person": self.person.to_dict() if self.person else None, "milestone": self.milestone,
        }

    def to_json(self) -> bytes:
        return _dumps(self.to_dict())


class StorageState(StrEnum):
    """A kiosk's store when it is not simply fine (a status leaves ``storage`` out then)."""

    RESET = "reset"  # kiosk.db was unreadable: moved aside, a fresh one started
    ERROR = "error"  # a write or read is failing now (disk full, card failing)


@dataclass(frozen=True)
class KioskStatus:
    state: Availability
    version: str
    queued: int = 0
    event: str | None = None
    storage: StorageState | None = None

    def to_json(self) -> bytes:
        data = {"v": VERSION, "state": str(self.state), "version": self.version,
                "queued": self.queued, "event": self.event}
        if self.storage is not None:
            data["storage"] = str(self.storage)
        return _dumps(data)


@dataclass(frozen=True)
class KioskConfig:
    event: str | None
    event_name: str | None = None
    roles: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> bytes:
        return _dumps({"v": VERSION, "event": self.event, "event_name": self.event_name,
                       "roles": list(self.roles)})


@dataclass(frozen=True)
class HubStatus:
    state: Availability
    version: str

    def to_json(self) -> bytes:
        return _dumps({"v": VERSION, "state": str(self.state), "version": self.version})


def _dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def load_json_object(payload: bytes) -> dict[str, Any]:
    """Parse a payload that must be a JSON object of at most MAX_PAYLOAD_BYTES, nested at most
    MAX_JSON_DEPTH deep. Rule: whatever the bytes, this returns a dict or raises ProtocolError;
    size and depth are bounded before parsing."""
    if not isinstance(payload, (bytes, bytearray)):
        raise ProtocolError(f"payload is {type(payload).__name__}, not bytes")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload of {len(payload)} bytes is over {MAX_PAYLOAD_BYTES}")
    if _nesting(payload) > MAX_JSON_DEPTH:
        raise ProtocolError(f"nested more than {MAX_JSON_DEPTH} deep")
    try:
        # decoded first: json.loads(bytes) would also take UTF-16 and UTF-32, which v1 is not
        data = json.loads(bytes(payload).decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, TypeError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ProtocolError(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(data, dict):
        raise ProtocolError("not a JSON object")
    if data.get("v") != VERSION or isinstance(data.get("v"), bool):
        raise ProtocolError(f"unsupported protocol version {str(data.get('v'))[:16]!r}")
    return data


def _nesting(payload: bytes) -> int:
    """How deep brackets nest outside strings, or 0 when too few to matter. C-speed throughout
    (a refused 4 KB of brackets costs about what parsing a good ack does): strings out, the
    brackets left as "(" and ")", then the innermost pairs removed once per level."""
    if payload.count(b"[") + payload.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    brackets = _JSON_STRING.sub(b"", payload).translate(_AS_PARENS, _NOT_BRACKETS)
    depth = 0
    while brackets and depth <= MAX_JSON_DEPTH:
        inner_removed = brackets.replace(b"()", b"")
        if len(inner_removed) == len(brackets):
            raise ProtocolError("not JSON: brackets do not match")
        brackets, depth = inner_removed, depth + 1
    return depth


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # Python's json reads NaN and Infinity; JSON has neither


# --- Decoding on the kiosk side: each topic has one decoder, which raises ProtocolError only. ---

def _shown_text(value: Any, limit: int = MAX_SHOWN_TEXT) -> str | None:
    """Text from the hub that the kiosk shows: printable and bounded, else None."""
    if isinstance(value, str) and value.isprintable() and 0 < len(value) <= limit:
        return value
    return None


def _count(data: dict, key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**9:
        return None
    return value


def decode_ack(payload: bytes) -> Ack:
    """Rule: the scan id and status settle the outbox, so they must be right; what the screen
    shows (person, reason, milestone) is dropped when malformed rather than lose the answer."""
    data = load_json_object(payload)
    scan_id = data.get("id")
    if not isinstance(scan_id, str) or not scan_id.isprintable() or not 0 < len(scan_id) <= 64:
        raise ProtocolError("ack without a scan id")
    status = data.get("status")
    if not isinstance(status, str) or status not in _ACK_STATUSES:
        raise ProtocolError(f"unknown ack status {str(status)[:16]!r}")
    return Ack(id=scan_id, status=AckStatus(status), reason=_shown_text(data.get("reason")),
               person=_person(data.get("person")), milestone=_shown_text(data.get("milestone")))


def _person(p: Any) -> PersonSummary | None:
    if not isinstance(p, dict):
        return None
    name, points, events = _shown_text(p.get("name")), _count(p, "points"), _count(p, "events")
    if name is None or points is None or events is None:
        return None
    nm, m = None, p.get("next_milestone")
    if isinstance(m, dict):
        target, to_go = _count(m, "target"), _count(m, "to_go")
        if None not in (target, to_go, _shown_text(m.get("name")), _shown_text(m.get("kind"))):
            nm = NextMilestone(name=m["name"], kind=m["kind"], target=target, to_go=to_go)
    return PersonSummary(name=name, points=points, events=events, next_milestone=nm)


def decode_config(payload: bytes) -> KioskConfig:
    """Rule: a config's event goes into every scan, so it must be an EVENT_ID like the hub's;
    its name is shown, so printable; its roles bounded in number and all text."""
    data = load_json_object(payload)
    event = data.get("event")
    if event is not None and not (isinstance(event, str) and EVENT_ID.fullmatch(event)):
        raise ProtocolError(f"event {str(event)[:70]!r} is not an event id")
    name = data.get("event_name")
    if name is not None and not (isinstance(name, str) and name.isprintable()):
        raise ProtocolError("event_name must be printable text or null")
    roles = data.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ProtocolError("roles must be a list of strings")
    if len(roles) > MAX_ROLES:
        raise ProtocolError(f"roles: {len(roles)} is more than {MAX_ROLES}")
    return KioskConfig(event=event, event_name=name[:MAX_EVENT_NAME] if name else None,
                       roles=tuple(roles))


def decode_hub_status(payload: bytes) -> Availability:
    state = load_json_object(payload).get("state")
    if not isinstance(state, str) or state not in _AVAILABILITIES:
        raise ProtocolError(f"unknown hub state {str(state)[:16]!r}")
    return Availability(state)


# --- JSON Schema for what the hub accepts (validated there with a schema library). ----------

SCAN_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Turnout scan v1",
    "type": "object",
    "required": ["v", "id", "kiosk", "event", "badge", "role", "ts", "seq", "clock_ok"],
    "additionalProperties": False,
    "properties": {
        "v": {"const": VERSION},
        "id": {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
        "kiosk": {"type": "string", "pattern": KIOSK_ID.pattern},
        "event": {"type": ["string", "null"], "pattern": EVENT_ID.pattern},
        "badge": {"type": "string", "pattern": "^T[1-9][0-9]{1,17}$"},
        "role": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,31}$"},
        "ts": {"type": "string", "minLength": 10, "maxLength": 40},
        "seq": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},  # a 64-bit column
        "clock_ok": {"type": "boolean"},
        "annuls": {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
    },
}

STATUS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Turnout kiosk status v1",
    "type": "object",
    "required": ["v", "state"],
    "properties": {
        "v": {"const": VERSION},
        "state": {"enum": [str(a) for a in Availability]},
        "version": {"type": "string", "maxLength": 64},
        "queued": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
        "event": {"type": ["string", "null"], "pattern": EVENT_ID.pattern},
        "storage": {"enum": [str(s) for s in StorageState]},
    },
}
