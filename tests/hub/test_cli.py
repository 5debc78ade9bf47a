"""``turnout-hub`` driven as a black box through subprocesses."""

import re

import httpx

from tests.hub.hubproc import HubProcess, cli, last_token
from tests.hub.kiosks import TOPICS, FakeKiosk, make_scan, retained
from turnout.codes import is_badge


def test_person_add_prints_the_badge_last_and_show_finds_them(hub_db, tmp_path):
    db = hub_db
    badge = last_token(cli(db, "person", "add", "Ada Lovelace", "--org", "Leeds City Council",
                           "--email", "ada@example.org"))
    assert is_badge(badge)
    junior = last_token(cli(db, "person", "add", "Sam Patel", "--junior"))
    assert junior != badge
    listed = cli(db, "person", "list").stdout
    assert "Ada Lovelace" in listed and "Leeds City Council" in listed and "junior" in listed
    shown = cli(db, "person", "show", badge).stdout
    assert "points: 0" in shown and "next: 25 club, 0 of 25 so far, 25 to go" in shown, shown


def test_person_add_takes_the_language_of_their_emails(hub_db, tmp_path):
    from hub.store import Store

    welsh = last_token(cli(hub_db, "person", "add", "Dai Jones", "--language", "cy"))
    english = last_token(cli(hub_db, "person", "add", "Ann Smith"))
    store = Store(hub_db)
    try:
        assert (store.person(welsh).language, store.person(english).language) == ("cy", "en")
    finally:
        store.close()
    refused = cli(hub_db, "person", "add", "Jean Dupont", "--language", "fr", check=False)
    assert refused.returncode != 0 and "invalid choice" in refused.stderr


def test_event_add_prints_the_id_last_and_event_list_shows_it(hub_db, tmp_path):
    db = hub_db
    event = last_token(cli(db, "event", "add", "LocalGovCamp North", "--date", "2025-03-14",
                           "--series", "LGC", "--venue", "Leeds"))
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", event)
    again = last_token(cli(db, "event", "add", "LocalGovCamp North", "--date", "2025-03-14"))
    assert again != event
    assert event in cli(db, "event", "list").stdout


def test_blank_badges_are_claimed_later(hub_db, tmp_path):
    db = hub_db
    lines = [line.split("\t") for line in cli(db, "person", "blank", "2").stdout.splitlines()]
    codes = [code for code, _ in lines]
    assert len(codes) == 2 and all(is_badge(c) for c in codes)
    assert all(re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{3}-[2-9A-HJKMNP-TV-Z]{3}", claim) for _, claim in lines)
    assert last_token(cli(db, "person", "claim", codes[0], "Grace Hopper")) == codes[0]
    assert "Grace Hopper" in cli(db, "person", "list").stdout
    refused = cli(db, "person", "claim", codes[0], "Someone Else", check=False)
    assert refused.returncode == 1 and "already claimed" in refused.stderr


def test_mistakes_get_a_one_line_reason_not_a_traceback(hub_db, tmp_path):
    db = hub_db
    for args in (["person", "show", "T13"], ["event", "add", "X", "--date", "14/03/2025"],
                 ["person", "claim", "T5725", "Bad Digit"], ["assign", "hall-1", "no-event"],
                 ["quarantine", "reassign", "99", "x"]):
        result = cli(db, *args, check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr, args
        assert result.stderr.startswith("turnout-hub: ")


def test_kiosks_roles_recompute_and_seed(hub_db, tmp_path):
    db = hub_db
    cli(db, "kiosk", "add", "hall-9")
    assert "hall-9\tunknown" in cli(db, "kiosk", "list").stdout
    again = cli(db, "kiosk", "add", "hall-9", check=False)
    assert again.returncode == 1 and "kiosk hall-9 already exists" in again.stderr and not again.stdout
    event = last_token(cli(db, "event", "add", "Camp", "--date", "2025-03-14"))
    assert "now counts for" in cli(db, "assign", "hall-9", event).stdout
    assert f"event {event}" in cli(db, "kiosk", "list").stdout
    cli(db, "role", "set", "stream", "4", "--hours", "2")
    assert "stream\t4 points" in cli(db, "role", "list").stdout
    assert "120 people, 12 events" in cli(db, "seed-sample").stdout
    assert "Rescored" in cli(db, "recompute").stdout


def test_assignments_and_roles_set_beside_a_running_hub_reach_kiosks_and_scores(hub_db, tmp_path, broker):
    """The command line is another process: the running hub must notice what it changed."""
    db = hub_db
    badge = last_token(cli(db, "person", "add", "Ada Lovelace"))
    event = last_token(cli(db, "event", "add", "Camp", "--date", "2025-03-14"))
    hub = HubProcess(db, broker.url, tmp_path / "hub.log").start()
    try:
        cli(db, "assign", "hall-9", event)
        config = retained(broker.port, TOPICS.config("hall-9"), timeout=10,
                          until=lambda c: c["event"] == event)
        assert config and config["event_name"] == "Camp"
        assert "stream" not in config["roles"]
        cli(db, "role", "set", "stream", "4")  # a new role: the kiosk must hear of it
        assert retained(broker.port, TOPICS.config("hall-9"), timeout=10,
                        until=lambda c: "stream" in c["roles"])
        kiosk = FakeKiosk(broker.port, "hall-9")
        assert kiosk.ask(make_scan("hall-9", event, badge, "pitch"))["person"]["points"] == 1 + 3
        cli(db, "role", "set", "pitch", "20")  # new points: the running hub scores with them
        cli(db, "recompute")
        assert httpx.get(f"{hub.api}/people/{badge}").json()["points"] == 1 + 20
        assert httpx.get(f"{hub.api}/leaderboard").json()[0]["points"] == 1 + 20
        kiosk.close()
    finally:
        hub.stop()


def test_quarantine_list_and_reassign(hub_db, tmp_path):
    from hub.intake import Intake
    from hub.store import Store
    from tests.hub.kiosks import make_scan

    db = hub_db
    badge = last_token(cli(db, "person", "add", "Ada Lovelace"))
    store = Store(db)
    Intake(store).receive(TOPICS.scan("hall-1"), make_scan("hall-1", "typo-event", badge).to_json())
    listed = cli(db, "quarantine", "list").stdout
    assert "unknown event: typo-event" in listed
    item = listed.split()[0]
    event = last_token(cli(db, "event", "add", "Camp", "--date", "2025-03-14"))
    assert "now counts" in cli(db, "quarantine", "reassign", item, event).stdout
    assert "attended: 1" in cli(db, "person", "show", badge).stdout
    after = cli(db, "quarantine", "list").stdout
    assert "typo-event" not in after  # resolved, so not listed; still counted:
    assert "\thall-1\t1\t1\t0\t0" in after


def test_the_rules_file_applies_to_every_command_not_only_serve(hub_db, tmp_path):
    from hub.intake import Intake
    from hub.rules import load_rules
    from hub.store import Store

    rules = tmp_path / "rules.toml"
    rules.write_text("[clubs]\nattend = [2]\n")
    db = hub_db
    badge = last_token(cli(db, "person", "add", "Ada Lovelace"))
    events = [last_token(cli(db, "event", "add", f"Camp {n}", "--date", f"2025-03-1{n}")) for n in (1, 2)]
    store = Store(db, rules=load_rules(rules))
    for event in events:
        Intake(store).receive(TOPICS.scan("hall-1"), make_scan("hall-1", event, badge).to_json())
    assert "2 club" in store.awarded(badge)
    store.close()
    assert "milestone: 2 club" in cli(db, "--rules", str(rules), "person", "show", badge).stdout
    cli(db, "--rules", str(rules), "recompute")
    store = Store(db)
    assert "2 club" in store.awarded(badge), "recompute with the same rules keeps the club"
    store.close()
