"""The hub's database: one ``Store`` made of a small store per table group (``hub/storage/``).

    storage/database.py    the connection abstraction (engines/: SQLite, PostgreSQL)
    storage/schema.py      every table, and the migrations, in one place
    storage/people.py      people and badges         storage/events.py     events and results rolls
    storage/kiosks.py      kiosks and their configs  storage/scans.py      scans as kiosks sent them
    storage/standings.py   points and clubs          storage/quarantine.py refused messages
    storage/privacy.py     requests and erasure      storage/outcomes.py   what came of events
    storage/roles.py       roles and points          storage/settings.py   hub-wide settings
    storage/sessions.py    organisers' admin sessions
    storage/emails.py      closing events, the email outbox
    storage/credentials.py Open Badges credentials issued, revoked

Only these modules speak SQL (and hub.reports, which reads through the same connection). Scans
are kept forever, exactly as the kiosk sent them; everything else about a person's points
(standings, milestones awarded) is derived and can be rebuilt with ``recompute()``.
"""

from __future__ import annotations

from pathlib import Path

from hub.rules import Rules, default_rules
from hub.storage.base import NotFound, utc_now
from hub.storage.credentials import CredentialsStore, IssuedCredential
from hub.storage.database import Database, open_database
from hub.storage.emails import EmailsStore, EmailSummary, OutboxEmail, QueuedEmail
from hub.storage.events import Event, EventReport, EventsStore, RollEntry
from hub.storage.kiosks import Kiosk, KiosksStore
from hub.storage.outcomes import OUTCOME_KINDS, Outcome, OutcomesStore
from hub.storage.people import RECIPIENT_CHOICES, Person, PeopleStore
from hub.storage.privacy import ERASED_PREFIX, PrivacyRequest, PrivacyStore
from hub.storage.quarantine import MAX_QUARANTINE_PAYLOAD, Quarantined, QuarantineStore
from hub.storage.roles import RolesStore
from hub.storage.scans import NewScan, ScansStore, StoredScan, Tally
from hub.storage.schema import SCHEMA_VERSION, init_schema
from hub.storage.sessions import SessionsStore
from hub.storage.settings import SettingsStore
from hub.storage.standings import StandingsStore

__all__ = [
    "ERASED_PREFIX", "MAX_QUARANTINE_PAYLOAD", "OUTCOME_KINDS", "RECIPIENT_CHOICES", "SCHEMA_VERSION",
    "EmailSummary", "Event", "EventReport", "IssuedCredential", "Kiosk", "NewScan", "NotFound",
    "OutboxEmail", "Outcome", "Person", "PrivacyRequest", "QueuedEmail", "Quarantined", "RollEntry",
    "Database", "Store", "StoredScan", "Tally", "open_database",
    "utc_now",
]


class Store(PeopleStore, EventsStore, KiosksStore, ScansStore, StandingsStore, QuarantineStore,
            PrivacyStore, OutcomesStore, RolesStore, SettingsStore, SessionsStore, EmailsStore,
            CredentialsStore):
    """Everything the hub keeps. Thread-safe: each thread gets its own connection."""

    def __init__(self, location: str | Path, rules: Rules | None = None):
        self.db = open_database(location)
        self.file_rules = rules or default_rules()  # its clubs; roles live in the database
        self._rules: Rules | None = None
        self._rules_version: str | None = None
        init_schema(self.db, self.file_rules)

    def close(self) -> None:
        self.db.close()
