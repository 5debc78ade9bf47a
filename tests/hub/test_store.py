"""The store's own promises, on a real SQLite file: schema upgrades and what other processes see."""

import pytest

from hub.store import SCHEMA_VERSION, Store


def test_a_database_from_the_first_release_is_upgraded_in_place(hub_db, tmp_path):
    path = hub_db
    store = Store(path)
    store.add_kiosk("hall-1")
    for column in ("reported_event", "config_sent"):  # as version 1 made it
        store.db.execute(f"ALTER TABLE kiosks DROP COLUMN {column}")
    as_version_2(store)
    store.db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    store.close()
    store = Store(path)
    store.record_kiosk_status("hall-1", "online", event="camp-1")
    assert store.kiosk("hall-1").reported_event == "camp-1"
    store.quarantine("turnout/kiosk/hall-1/scan", b"junk", "not JSON", "2025-03-14T10:00:00.000Z")
    assert store.quarantined()[0].size == 4
    version = store.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert int(version) == SCHEMA_VERSION
    store.close()


def as_version_5(store: Store) -> None:
    """Take away what version 6 added: the language a person reads."""
    store.db.execute("ALTER TABLE people DROP COLUMN language")
    store.db.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")


def test_people_from_before_languages_read_english_and_can_choose_welsh(hub_db):
    store = Store(hub_db)
    ada = store.add_person("Ada Lovelace", language="cy").badge
    as_version_5(store)
    store.close()
    store = Store(hub_db)
    assert store.person(ada).language == "en"  # no one chose before: English, as they were sent
    assert store.update_person(ada, language="cy").language == "cy"
    assert store.add_person("Bo Diddley").language == "en"
    with pytest.raises(ValueError, match="language must be one of en, cy"):
        store.update_person(ada, language="fr")
    store.close()


def as_version_4(store: Store) -> None:
    """Take away what versions 5 and 6 added: results emails and badges; languages."""
    as_version_5(store)
    for table, column in (("people", "results_email"), ("people", "badge_recipient"),
                          ("events", "closed_at"), ("events", "emails_queued_at")):
        store.db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    store.db.execute("DROP TABLE email_outbox")
    store.db.execute("DROP TABLE credentials")
    store.db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")


def as_version_2(store: Store) -> None:
    """Take away what versions 3 to 5 added: quarantine sizes and counters; claim codes on
    badges and admin sessions on the hub; results emails and badges."""
    as_version_4(store)
    for column in ("size", "cut_short", "is_scan"):
        store.db.execute(f"ALTER TABLE quarantine DROP COLUMN {column}")
    store.db.execute("DROP TABLE quarantine_counts")
    store.db.execute("ALTER TABLE people DROP COLUMN claim_code")
    store.db.execute("DROP TABLE sessions")
    store.db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def test_a_database_from_before_claim_codes_is_upgraded_and_its_blank_badges_keep_none(hub_db, tmp_path):
    path = hub_db
    store = Store(path)
    [old_blank] = store.add_blank_badges(1)
    ada = store.add_person("Ada Lovelace").badge
    as_version_2(store)
    store.close()
    store = Store(path)
    assert store.person(old_blank).claim_code is None  # only an organiser can claim it now
    assert store.person(ada).name == "Ada Lovelace"
    [new_blank] = store.add_blank_badges(1)
    assert len(store.person(new_blank).claim_code) == 6
    store.start_session("hash", 1.0, keep=5)
    assert store.session_times("hash") == (1.0, 1.0)
    version = store.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert int(version) == SCHEMA_VERSION == 6
    store.close()


def test_upgrading_to_results_emails_counts_past_events_as_closed_so_nobody_is_emailed_about_them(tmp_path):
    path = tmp_path / "hub.sqlite"
    store = Store(path)
    past = store.add_event("Old camp", "2020-05-01").id
    future = store.add_event("Next camp", "2999-05-01").id
    ada = store.add_person("Ada Lovelace", email="ada@example.org").badge
    as_version_4(store)
    store.close()
    store = Store(path)
    assert store.event(past).closed_at and store.emails_queued(past)
    assert store.event(future).closed_at is None and not store.emails_queued(future)
    assert store.events_awaiting_emails() == []
    person = store.person(ada)
    assert (person.results_email, person.badge_recipient) == (False, "email")
    store.close()


def test_roles_changed_by_another_process_apply_at_once(hub_db, tmp_path):
    path = hub_db
    serving, organiser = Store(path), Store(path)  # the running hub, and the command line
    assert serving.rules().points("pitch") == 3
    organiser.set_role("pitch", 20)
    organiser.set_role("stream", 4)
    assert serving.rules().points("pitch") == 20 and serving.rules().knows_role("stream")
    serving.close()
    organiser.close()


def test_a_kiosk_is_sent_its_config_once_per_change_and_never_unasked(hub_db, tmp_path):
    store = Store(hub_db)
    event = store.add_event("Camp", "2025-03-14")
    store.add_kiosk("hall-1")
    store.add_kiosk("card-set")  # counting for a set-up card's event: the hub must not clear it
    assert store.configs_to_send() == {}
    store.assign_kiosk("hall-1", event.id)
    due = store.configs_to_send()
    assert list(due) == ["hall-1"] and due["hall-1"].event_name == "Camp"
    store.config_sent("hall-1", due["hall-1"])
    assert store.configs_to_send() == {}
    assert list(store.configs_to_send(everything=True)) == ["hall-1"]
    store.set_role("stream", 4)
    assert "stream" in store.configs_to_send()["hall-1"].roles
    store.close()


def test_names_from_any_door_lose_bidi_overrides_and_invisible_characters(hub_db, tmp_path):
    store = Store(hub_db)  # the command line and imports call the store directly
    ada = store.add_person("\u202eAda\u202c\u200b Lovelace", org="\u2067Leeds\u2069")
    assert (ada.name, ada.org) == ("Ada Lovelace", "Leeds")
    [blank] = store.add_blank_badges(1)
    assert store.claim(blank, "Grace\u200e Hopper").name == "Grace Hopper"
    assert store.update_person(ada.badge, name="\ufeffAda L", org="\u202dNorth").name == "Ada L"
    assert store.person(ada.badge).org == "North"
    store.close()


def test_a_locked_database_is_a_passing_failure_and_a_bad_statement_is_not(tmp_path):
    """The intake tries a whole batch again after a passing failure instead of refusing the
    message it was on (hub.intake); only the database's momentary states count as passing."""
    import sqlite3

    from hub.storage.database import is_passing_failure

    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as locked:
        other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError) as wrong:
        other.execute("SELECT no_such_column FROM t")
    holder.execute("ROLLBACK")
    assert is_passing_failure(locked.value)
    assert not is_passing_failure(wrong.value)
    assert not is_passing_failure(ValueError("a bad message"))
