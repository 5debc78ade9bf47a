"""The hub's tables, created or brought up to date in one place (``init_schema``), for SQLite
and PostgreSQL alike: one text, with the engine's own words for the few things that differ
(``{autoincrement_key}``: an integer key the database numbers). ``meta`` keeps the version."""

from __future__ import annotations

import re

from hub.rules import Rules
from hub.storage.database import Database

SCHEMA_VERSION = 6

# How to bring an older database up to SCHEMA_VERSION: the statements for each version.
# (New tables need none: SCHEMA below creates whatever is missing before these run.)
MIGRATIONS = {
    2: ["ALTER TABLE kiosks ADD COLUMN reported_event TEXT",
        "ALTER TABLE kiosks ADD COLUMN config_sent TEXT"],
    3: ["ALTER TABLE quarantine ADD COLUMN size INTEGER",
        "ALTER TABLE quarantine ADD COLUMN cut_short INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE quarantine ADD COLUMN is_scan INTEGER NOT NULL DEFAULT 0"],
    # Blank badges printed before claim codes keep none: only an organiser can claim them.
    4: ["ALTER TABLE people ADD COLUMN claim_code TEXT"],
    # Results emails and badges (issue 13). Events already held count as closed, so upgrading
    # a hub sends nobody an email about an event from before it could send them.
    5: ["ALTER TABLE people ADD COLUMN results_email INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE people ADD COLUMN badge_recipient TEXT NOT NULL DEFAULT 'email'",
        "ALTER TABLE events ADD COLUMN closed_at TEXT",
        "ALTER TABLE events ADD COLUMN emails_queued_at TEXT",
        "UPDATE events SET closed_at = created_at, emails_queued_at = created_at"
        " WHERE date < CAST(CURRENT_DATE AS TEXT)"],
    # The language a person reads (turnout.i18n.LANGUAGES): their results emails are in it.
    6: ["ALTER TABLE people ADD COLUMN language TEXT NOT NULL DEFAULT 'en'"],
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- people.claim_code: printed on a blank badge, needed at /claim; NULL once claimed.
-- people.results_email: opted in to an email after each event; people.badge_recipient: how
-- their credentials name them ('email', hashed, or 'page').
CREATE TABLE IF NOT EXISTS people (
    badge TEXT PRIMARY KEY,
    number BIGINT NOT NULL UNIQUE,  -- badge numbers run to 10^17
    name TEXT,
    org TEXT,
    email TEXT,
    junior INTEGER NOT NULL DEFAULT 0,
    consent TEXT NOT NULL DEFAULT 'initial',
    claimed INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    claimed_at TEXT,
    claim_code TEXT,
    results_email INTEGER NOT NULL DEFAULT 0,
    badge_recipient TEXT NOT NULL DEFAULT 'email',
    language TEXT NOT NULL DEFAULT 'en'  -- 'en' or 'cy': the language of their results emails
);
-- events.closed_at: closed by an organiser or at the end of its day (results emails follow);
-- events.emails_queued_at: when those emails went into the outbox.
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    date TEXT NOT NULL,
    series TEXT,
    venue TEXT,
    after_venue TEXT,
    hashtag TEXT,
    notes_url TEXT,
    cost_pence INTEGER,
    openness TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    closed_at TEXT,
    emails_queued_at TEXT
);
CREATE INDEX IF NOT EXISTS events_by_date ON events (date);
CREATE TABLE IF NOT EXISTS roles (
    name TEXT PRIMARY KEY,
    points INTEGER NOT NULL,
    hours DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS kiosks (
    id TEXT PRIMARY KEY,
    event TEXT,  -- the event the hub assigned
    state TEXT NOT NULL DEFAULT 'unknown',
    version TEXT,
    queued INTEGER NOT NULL DEFAULT 0,
    last_seen TEXT,
    created_at TEXT NOT NULL,
    reported_event TEXT,  -- the event the kiosk says it counts for (its status)
    config_sent TEXT  -- the retained config last published to it (JSON); NULL: never
);
CREATE TABLE IF NOT EXISTS scans (
    id TEXT PRIMARY KEY,
    kiosk TEXT NOT NULL,
    event TEXT NOT NULL,
    badge TEXT NOT NULL,
    role TEXT NOT NULL,
    ts TEXT NOT NULL,
    seq BIGINT NOT NULL,  -- a kiosk's own counter, 64-bit
    clock_ok INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    annuls TEXT,
    annulled INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    milestone TEXT
);
CREATE INDEX IF NOT EXISTS scans_by_badge ON scans (badge);
CREATE INDEX IF NOT EXISTS scans_by_event ON scans (event, badge, role);
DROP INDEX IF EXISTS scans_by_annuls;
-- Only undos name another scan: a partial index keeps the common insert free of it.
CREATE INDEX IF NOT EXISTS scans_undoing ON scans (annuls) WHERE annuls IS NOT NULL;
CREATE TABLE IF NOT EXISTS quarantine (
    id {autoincrement_key},
    scan_id TEXT,
    kiosk TEXT,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    received_at TEXT NOT NULL,
    resolved_at TEXT,
    resolution TEXT,
    size INTEGER,  -- bytes the message had
    cut_short INTEGER NOT NULL DEFAULT 0,  -- only the start of the payload is kept
    is_scan INTEGER NOT NULL DEFAULT 0  -- a well-formed scan (it may be counted at another event)
);
CREATE INDEX IF NOT EXISTS quarantine_by_scan ON quarantine (scan_id);
-- Every refused message counted, per kiosk ('' for one the hub does not know) and hour.
CREATE TABLE IF NOT EXISTS quarantine_counts (
    kiosk TEXT NOT NULL,
    hour TEXT NOT NULL,  -- YYYY-MM-DDTHH, UTC
    refused INTEGER NOT NULL DEFAULT 0,
    scans_kept INTEGER NOT NULL DEFAULT 0,
    junk_kept INTEGER NOT NULL DEFAULT 0,
    junk_cut INTEGER NOT NULL DEFAULT 0,
    not_kept INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kiosk, hour)
);
CREATE INDEX IF NOT EXISTS quarantine_counts_by_hour ON quarantine_counts (hour);
CREATE TABLE IF NOT EXISTS milestones (
    badge TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    target INTEGER NOT NULL,
    reached_on TEXT NOT NULL,
    event TEXT NOT NULL,
    awarded_at TEXT NOT NULL,
    PRIMARY KEY (badge, name)
);
CREATE TABLE IF NOT EXISTS standings (
    badge TEXT PRIMARY KEY,
    points INTEGER NOT NULL,
    attended INTEGER NOT NULL,
    volunteered INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS standings_by_points ON standings (points DESC, attended DESC);
CREATE TABLE IF NOT EXISTS outcomes (
    id {autoincrement_key},
    event TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    story TEXT,
    link TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outcomes_by_event ON outcomes (event);
CREATE TABLE IF NOT EXISTS merges (
    badge TEXT PRIMARY KEY,
    into_badge TEXT NOT NULL,
    merged_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS erasures (
    badge TEXT PRIMARY KEY,
    erased_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pseudonyms (
    badge TEXT PRIMARY KEY,
    pid TEXT NOT NULL UNIQUE  -- a stable random id per badge, for open participation records
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,  -- SHA-256 of the id in the organiser's cookie, never the id
    created_at DOUBLE PRECISION NOT NULL,  -- Unix seconds: the absolute lifetime counts from here
    last_seen DOUBLE PRECISION NOT NULL  -- Unix seconds: the idle limit counts from here
);
-- Emails to send, each exactly once: written in the transaction that decides to send them.
CREATE TABLE IF NOT EXISTS email_outbox (
    id {autoincrement_key},
    event TEXT NOT NULL,
    badge TEXT NOT NULL,
    kind TEXT NOT NULL,  -- 'results'
    address TEXT,  -- NULL once sent or given up (and when the person is erased)
    message TEXT,  -- the whole message (RFC 5322, 7-bit), as composed when queued
    message_id TEXT NOT NULL UNIQUE,  -- fixed when queued: a resend after a crash is the same mail
    state TEXT NOT NULL DEFAULT 'queued',  -- queued, sent, failed (given up), dropped (opted out)
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try DOUBLE PRECISION NOT NULL DEFAULT 0,  -- Unix seconds (REAL is 4 bytes in PostgreSQL)
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (event, badge, kind)
);
CREATE INDEX IF NOT EXISTS email_outbox_due ON email_outbox (state, next_try);
-- Open Badges 3.0 credentials issued; ``status_index`` is the credential's bit in the
-- Bitstring Status List (revocation).
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,  -- urn:uuid:...
    badge TEXT NOT NULL,
    milestone TEXT NOT NULL,
    reached_on TEXT NOT NULL,
    status_index INTEGER NOT NULL UNIQUE,
    issued_at TEXT NOT NULL,
    jws TEXT,  -- the signed credential (compact JWS); NULL once its person is erased
    revoked_at TEXT,
    revoked_why TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS credentials_live ON credentials (badge, milestone)
    WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS privacy_requests (
    id {autoincrement_key},
    badge TEXT NOT NULL,
    kind TEXT NOT NULL,
    note TEXT,
    requested_at TEXT NOT NULL,
    resolved_at TEXT,
    resolution TEXT
);
"""


# Tables whose ``id`` the database numbers (a sequence in PostgreSQL, to move on after copying).
NUMBERED_TABLES = tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \(\s+id \{autoincrement_key\}", SCHEMA))


def schema_for(db: Database) -> str:
    """SCHEMA in the words of this database's engine."""
    return SCHEMA.replace("{autoincrement_key}", db.dialect.autoincrement_key)


def init_schema(db: Database, file_rules: Rules) -> None:
    """Create the tables, or run the migrations an older database needs."""
    db.script(schema_for(db))
    with db.transaction():
        db.lock(["schema"])  # hub processes starting together: one sets the version, once
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                       (str(SCHEMA_VERSION),))
            # A new hub starts with the rules file's roles; after that, roles live here.
            db.executemany(
                "INSERT INTO roles (name, points, hours) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(r, p, file_rules.hours.get(r, 0)) for r, p in file_rules.roles.items()])
            return
        for version in range(int(row["value"]) + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version]:
                db.execute(statement)
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
