"""Kiosks: the event each is assigned, what each last said about itself, the configs sent to them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hub.storage.base import NotFound, StoreBase, utc_now
from hub.storage.database import Row, chunks
from turnout.protocol import KIOSK_SILENT_SECONDS, KioskConfig, is_kiosk_id

# Kiosks become known to the hub by sending (organisers see them, then assign them). Past this
# many, only organisers add kiosks: messages under made-up kiosk names must not fill the table.
MAX_KIOSKS_FROM_TRAFFIC = 1_000


@dataclass(frozen=True)
class Kiosk:
    id: str
    event: str | None
    state: str  # online, offline, or unknown until it first reports
    version: str | None
    queued: int
    last_seen: str | None
    created_at: str
    reported_event: str | None = None  # what the kiosk itself says it counts for


def presence(state: str, last_seen: str | None, now: datetime) -> str:
    """Rule: "online" only while the kiosk keeps saying so: one silent for KIOSK_SILENT_SECONDS
    (missed heartbeats) is offline, as the broker may drop it without sending its last will."""
    if state != "online":
        return state
    if last_seen is None:
        return "offline"
    seen = datetime.fromisoformat(last_seen.replace("Z", "+00:00"))
    return "online" if now - seen <= timedelta(seconds=KIOSK_SILENT_SECONDS) else "offline"


def _kiosk(row: Row, now: datetime) -> Kiosk:
    return Kiosk(id=row["id"], event=row["event"], state=presence(row["state"], row["last_seen"], now),
                 version=row["version"],
                 queued=row["queued"], last_seen=row["last_seen"], created_at=row["created_at"],
                 reported_event=row["reported_event"])


class KiosksStore(StoreBase):
    def add_kiosk(self, kiosk_id: str) -> Kiosk:
        if not is_kiosk_id(kiosk_id):
            raise ValueError(f"kiosk id {kiosk_id!r} may use letters, digits, '_' and '-' (up to 32)")
        with self.db.transaction():
            self.ensure_kiosk(kiosk_id)
        return self.kiosk(kiosk_id)

    def ensure_kiosk(self, kiosk_id: str) -> None:
        self.db.execute("INSERT INTO kiosks (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        (kiosk_id, utc_now()))

    def kiosk_known(self, kiosk_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM kiosks WHERE id = ?", (kiosk_id,)).fetchone() is not None

    def note_kiosk(self, kiosk_id: str) -> bool:
        """A kiosk sent something: remember it, while the table has room; True if it is known."""
        return kiosk_id in self.note_kiosks([kiosk_id])

    def note_kiosks(self, kiosk_ids: Iterable[str]) -> set[str]:
        """Kiosks that sent something: remember the new ones while the table has room (in
        sorted order); those known now. A few statements for a whole batch, not several per
        kiosk: on PostgreSQL each is a round trip."""
        wanted = sorted(set(kiosk_ids))
        known: set[str] = set()
        for chunk in chunks(wanted):
            test, params = self.db.dialect.one_of("id", chunk)
            known.update(r[0] for r in self.db.execute(f"SELECT id FROM kiosks WHERE {test}", params))
        new = [k for k in wanted if k not in known]
        if new:
            room = MAX_KIOSKS_FROM_TRAFFIC - self.db.execute("SELECT COUNT(*) FROM kiosks").fetchone()[0]
            new = new[:max(room, 0)]
            now = utc_now()
            self.db.executemany("INSERT INTO kiosks (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                [(k, now) for k in new])
            known.update(new)
        return known

    def kiosk(self, kiosk_id: str) -> Kiosk | None:
        row = self.db.execute("SELECT * FROM kiosks WHERE id = ?", (kiosk_id,)).fetchone()
        return _kiosk(row, datetime.now(timezone.utc)) if row else None

    def kiosks(self) -> list[Kiosk]:
        now = datetime.now(timezone.utc)
        return [_kiosk(r, now) for r in self.db.execute("SELECT * FROM kiosks ORDER BY id")]

    def kiosk_logged_out(self, kiosk_id: str) -> None:
        """Its broker login changed or went (rotate, remove): the broker drops it without a last will."""
        self.db.execute("UPDATE kiosks SET state = 'offline' WHERE id = ? AND state = 'online'", (kiosk_id,))

    def assign_kiosk(self, kiosk_id: str, event_id: str | None) -> KioskConfig:
        """Point a kiosk at an event (None: no event). Returns the config to publish to it."""
        if not is_kiosk_id(kiosk_id):
            raise ValueError(f"kiosk id {kiosk_id!r} may use letters, digits, '_' and '-' (up to 32)")
        with self.db.transaction():
            if event_id is not None and not self.has_event(event_id):
                raise NotFound(f"no event {event_id}")
            self.ensure_kiosk(kiosk_id)
            self.db.execute("UPDATE kiosks SET event = ? WHERE id = ?", (event_id, kiosk_id))
        return self.kiosk_config(kiosk_id)

    def kiosk_config(self, kiosk_id: str) -> KioskConfig:
        kiosk = self.kiosk(kiosk_id)
        event = self.event(kiosk.event) if kiosk and kiosk.event else None
        return KioskConfig(event=event.id if event else None, event_name=event.name if event else None,
                           roles=tuple(self.rules().roles))

    def record_kiosk_status(self, kiosk_id: str, state: str, version: str | None = None,
                            queued: int | None = None, seen_at: str | None = None,
                            event: str | None = None) -> bool:
        """What a kiosk last said about itself (its retained status, or its last will); False
        when the hub does not know the kiosk and has no room for more."""
        with self.db.transaction():
            if not self.note_kiosk(kiosk_id):
                return False
            self.db.execute(
                "UPDATE kiosks SET state = ?, version = COALESCE(?, version),"
                " queued = COALESCE(?, queued), last_seen = ?, reported_event = ? WHERE id = ?",
                (state, version, queued, seen_at or utc_now(), event, kiosk_id))
        return True

    def configs_to_send(self, everything: bool = False) -> dict[str, KioskConfig]:
        """Kiosks whose config differs from the one last published to them (an organiser
        assigned an event, from any process, or the roles changed); with ``everything``, every
        kiosk that has been sent one or has an event (after the broker may have lost them)."""
        rules = self.rules()
        rows = self.db.execute(
            "SELECT k.id, k.event, e.name, k.config_sent FROM kiosks k"
            " LEFT JOIN events e ON e.id = k.event ORDER BY k.id").fetchall()
        due = {}
        for kiosk_id, event, name, sent in rows:
            config = KioskConfig(event=event if name is not None else None, event_name=name,
                                 roles=tuple(rules.roles))
            if sent is None and config.event is None:
                continue  # never assigned: it may be counting for a set-up card's event
            if everything or sent != config.to_json().decode():
                due[kiosk_id] = config
        return due

    def config_sent(self, kiosk_id: str, config: KioskConfig) -> None:
        self.db.execute("UPDATE kiosks SET config_sent = ? WHERE id = ?",
                        (config.to_json().decode(), kiosk_id))

    def kiosks_seen(self, seen: dict[str, str]) -> None:
        """When each of these kiosks last sent something (one statement for a batch's kiosks)."""
        self.db.executemany("UPDATE kiosks SET last_seen = ? WHERE id = ?",
                            [(seen_at, kiosk_id) for kiosk_id, seen_at in sorted(seen.items())])
