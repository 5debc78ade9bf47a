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
KIOSK_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
EVENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ProtocolError(ValueError):
    """A payload that does not follow protocol v1; the message says what is wrong."""


class AckStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class Availability(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


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


@dataclass(frozen=True)
class KioskStatus:
    state: Availability
    version: str
    queued: int = 0
    event: str | None = None

    def to_json(self) -> bytes:
        return _dumps({"v": VERSION, "state": str(self.state), "version": self.version,
                       "queued": self.queued, "event": self.event})


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
    """Parse a payload that must be a JSON object of at most MAX_PAYLOAD_BYTES."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload of {len(payload)} bytes is over {MAX_PAYLOAD_BYTES}")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("not a JSON object")
    if data.get("v") != VERSION:
        raise ProtocolError(f"unsupported protocol version {data.get('v')!r}")
    return data


# --- Decoding on the kiosk side: lenient, never raises past ProtocolError. -----------------

def _opt_str(data: dict, key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ProtocolError(f"{key} must be a string or null")


def _int(data: dict, key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{key} must be an integer")
    return value


def decode_ack(payload: bytes) -> Ack:
    data = load_json_object(payload)
    scan_id = data.get("id")
    if not isinstance(scan_id, str):
        raise ProtocolError("ack without a scan id")
    try:
        status = AckStatus(data.get("status"))
    except ValueError:
        raise ProtocolError(f"unknown ack status {data.get('status')!r}") from None
    person = None
    if isinstance(data.get("person"), dict):
        p = data["person"]
        nm = None
        if isinstance(p.get("next_milestone"), dict):
            m = p["next_milestone"]
            nm = NextMilestone(name=str(m.get("name", "")), kind=str(m.get("kind", "")),
                               target=_int(m, "target"), to_go=_int(m, "to_go"))
        name = p.get("name")
        person = PersonSummary(name=name if isinstance(name, str) else "",
                               points=_int(p, "points"), events=_int(p, "events"),
                               next_milestone=nm)
    return Ack(id=scan_id, status=status, reason=_opt_str(data, "reason"), person=person,
               milestone=_opt_str(data, "milestone"))


def decode_config(payload: bytes) -> KioskConfig:
    data = load_json_object(payload)
    roles = data.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ProtocolError("roles must be a list of strings")
    return KioskConfig(event=_opt_str(data, "event"), event_name=_opt_str(data, "event_name"),
                       roles=tuple(roles))


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
    },
}
