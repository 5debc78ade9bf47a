"""The organisers' admin (hub/web/admin.py) through the test client: sign-in, every section."""

from __future__ import annotations

import csv
import io
import json
import re

import pypdfium2 as pdfium
import pytest
from pyzbar import pyzbar

from hub.claims import printed
from hub.web.security import MAX_SESSIONS, PASSWORD_SETTING, SESSION_IDLE, SESSION_LIFETIME
from tests.hub.web.formkit import PASSWORD, Clock, errors_in, make_hub, post_form, scan, token

ADMIN_PAGES = ["/admin", "/admin/events", "/admin/events/new", "/admin/kiosks", "/admin/quarantine",
               "/admin/people", "/admin/roles", "/admin/print", "/admin/export", "/admin/privacy",
               "/admin/export/people.csv", "/admin/export/scans.csv", "/admin/print/cards.pdf"]


@pytest.fixture
def hub(hub_db, tmp_path):
    return make_hub(hub_db)


@pytest.fixture
def admin(hub):
    return hub.admin()


def login(client, password):
    return post_form(client, "/admin/login", {"password": password}, follow_redirects=False)


# -- signing in --

@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_every_admin_page_needs_signing_in(hub, path):
    response = hub.client().get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=")


def test_admin_forms_do_nothing_without_signing_in_even_with_a_token(hub):
    client = hub.client()
    page = client.get("/admin/login")
    response = client.post("/admin/events/new", data={"csrf_token": token(page), "name": "Sneaky",
                                                      "date": "2025-01-01"}, follow_redirects=False)
    assert response.status_code == 303 and hub.store.events() == []


def test_a_wrong_password_is_refused_with_a_message(hub):
    client = hub.client()
    response = login(client, "not the password")
    assert response.status_code == 401
    assert errors_in(response) == ["#password The password is not right"]
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session_on_the_hub_so_a_copied_cookie_stops_working(hub):
    client = hub.client()
    response = login(client, PASSWORD)
    assert response.headers["location"] == "/admin"
    page = client.get("/admin")
    assert page.status_code == 200
    copied = client.cookies["turnout_session"]  # as anyone at a shared computer could take it
    assert client.post("/admin/logout", data={"csrf_token": token(page)},
                       follow_redirects=False).status_code == 303
    assert client.get("/admin", follow_redirects=False).status_code == 303
    replayed = hub.client()
    replayed.cookies.set("turnout_session", copied)
    assert replayed.get("/admin", follow_redirects=False).status_code == 303
    assert hub.store.count_sessions() == 0


def test_a_session_ends_12_hours_after_signing_in_however_busy_or_after_8_hours_unused(hub):
    clock = Clock()
    hub.app.state.security.clock = clock
    busy = hub.admin()
    copied = busy.cookies["turnout_session"]
    for _ in range(11):  # an organiser at work all day, never idle for long
        clock.now += 60 * 60
        assert busy.get("/admin", follow_redirects=False).status_code == 200
    clock.now += SESSION_LIFETIME - 11 * 60 * 60 - 1
    assert busy.get("/admin", follow_redirects=False).status_code == 200
    clock.now += 1  # 12 hours since signing in
    assert busy.get("/admin", follow_redirects=False).status_code == 303
    replayed = hub.client()
    replayed.cookies.set("turnout_session", copied)
    assert replayed.get("/admin", follow_redirects=False).status_code == 303

    steady = hub.admin()
    clock.now += 4 * 60 * 60
    assert steady.get("/admin", follow_redirects=False).status_code == 200  # use restarts the idle limit
    clock.now += SESSION_IDLE - 1
    assert steady.get("/admin", follow_redirects=False).status_code == 200
    idle = hub.admin()
    clock.now += SESSION_IDLE
    assert idle.get("/admin", follow_redirects=False).status_code == 303


def test_sessions_kept_on_the_hub_are_bounded_and_visitors_add_none(hub):
    clock = Clock()
    hub.app.state.security.clock = clock
    visitor = hub.client()
    for _ in range(20):
        post_form(visitor, "/register", {"name": "Ada", "consent": "initial"})
    assert hub.store.count_sessions() == 0  # the public forms keep their session in the cookie
    first = hub.admin()
    for _ in range(MAX_SESSIONS):
        clock.now += 1
        hub.admin()
    assert hub.store.count_sessions() == MAX_SESSIONS
    assert first.get("/admin", follow_redirects=False).status_code == 303  # the oldest ended
    clock.now += SESSION_LIFETIME
    hub.admin()
    assert hub.store.count_sessions() == 1  # expired sessions are pruned at the next sign-in


def test_sign_out_needs_the_token_too(admin):
    assert admin.post("/admin/logout", data={}).status_code == 403
    assert admin.get("/admin").status_code == 200


def test_after_signing_in_you_go_back_to_the_admin_page_you_asked_for_but_nowhere_else(hub):
    client = hub.client()
    page = client.get("/admin/login?next=/admin/kiosks")
    ok = client.post("/admin/login", data={"csrf_token": token(page), "password": PASSWORD,
                                           "next": "/admin/kiosks"}, follow_redirects=False)
    assert ok.headers["location"] == "/admin/kiosks"
    client = hub.client()
    page = client.get("/admin/login")
    away = client.post("/admin/login", data={"csrf_token": token(page), "password": PASSWORD,
                                             "next": "//evil.example/admin"}, follow_redirects=False)
    assert away.headers["location"] == "/admin"


def test_the_password_is_kept_as_an_argon2id_hash(hub):
    stored = hub.store.setting(PASSWORD_SETTING)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_passwords_slow_sign_in_down_but_never_lock_an_organiser_out_for_long(hub):
    clock = Clock()
    logins = hub.app.state.security.logins
    logins.clock = clock
    client = hub.client(address="192.0.2.7")
    for _ in range(5):
        assert login(client, "guess").status_code == 401
    waits = []
    for _ in range(10):
        refused = login(client, "guess")
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert errors_in(refused) == [f"#password Too many wrong passwords. Wait {wait} second"
                                      f"{'' if wait == 1 else 's'} and try again"]
        waits.append(wait)
        clock.now += wait
        assert login(client, "guess").status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]  # doubling, never past a minute
    assert login(hub.client(address="192.0.2.8"), PASSWORD).status_code == 303  # per address
    refused = login(client, PASSWORD)
    assert refused.status_code == 429
    clock.now += int(refused.headers["retry-after"])
    assert login(client, PASSWORD).status_code == 303


def test_wrong_passwords_are_forgotten_after_15_minutes(hub):
    clock = Clock()
    logins = hub.app.state.security.logins
    logins.clock = clock
    client = hub.client()
    for _ in range(5):
        login(client, "guess")
    assert login(client, "guess").status_code == 429
    clock.now += 15 * 60
    assert login(client, "guess").status_code == 401
    assert login(client, "guess").status_code == 401  # one recent failure: no wait yet


def test_a_new_password_signs_everyone_out(hub, admin):
    from hub.web.security import set_admin_password
    copied = admin.cookies["turnout_session"]
    set_admin_password(hub.store, "a different password entirely")
    assert admin.get("/admin", follow_redirects=False).status_code == 303
    assert hub.store.count_sessions() == 0
    replayed = hub.client()
    replayed.cookies.set("turnout_session", copied)
    assert replayed.get("/admin", follow_redirects=False).status_code == 303


def test_a_hub_with_no_password_says_how_to_set_one(hub_db, tmp_path, monkeypatch):
    monkeypatch.delenv("TURNOUT_HUB_ADMIN_PASSWORD", raising=False)
    hub = make_hub(hub_db, password=False)
    page = hub.client().get("/admin/login")
    assert "turnout-hub admin set-password" in page.text and 'name="password"' not in page.text
    client = hub.client()
    refused = post_form(client, "/register", {"password": ""}, action="/admin/login")
    assert refused.status_code == 400 and "No admin password is set yet" in refused.text


def test_on_first_run_the_password_comes_from_the_environment(hub_db, tmp_path, monkeypatch):
    monkeypatch.setenv("TURNOUT_HUB_ADMIN_PASSWORD", "from the environment")
    hub = make_hub(hub_db, password=False)
    assert login(hub.client(), "from the environment").status_code == 303
    assert hub.store.setting(PASSWORD_SETTING).startswith("$argon2id$")


def test_set_password_from_the_command_line(hub_db, tmp_path, monkeypatch, capsys):
    from hub.cli import main
    db = hub_db
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["--db", str(db), "admin", "set-password", "--stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["--db", str(db), "admin", "set-password", "--stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    from hub.store import Store
    from hub.web.security import verify_password
    assert verify_password(Store(db).setting(PASSWORD_SETTING), "a long enough password")


# -- events and outcomes --

EVENT = {"name": "LocalGovCamp North", "date": "2025-06-14", "id": "lgc-north-25",
         "series": "LocalGovCamp", "venue": "Leeds Central Library", "after_venue": "The Victoria",
         "hashtag": "LGCNorth25", "notes_url": "https://notes.example.org/lgc", "cost": "1,250.5",
         "openness": ["agenda", "hashtag", "remote"]}


def test_creating_an_event_keeps_every_detail(hub, admin):
    response = post_form(admin, "/admin/events/new", EVENT, follow_redirects=False)
    assert response.headers["location"] == "/admin/events/lgc-north-25"
    event = hub.store.event("lgc-north-25")
    assert (event.name, event.date, event.series, event.venue, event.after_venue, event.hashtag,
            event.notes_url, event.cost_pence, event.openness) == (
        "LocalGovCamp North", "2025-06-14", "LocalGovCamp", "Leeds Central Library", "The Victoria",
        "#LGCNorth25", "https://notes.example.org/lgc", 125050, ("agenda", "hashtag", "remote"))
    page = admin.get("/admin/events/lgc-north-25")
    assert 'value="1250.50"' in page.text and 'id="openness-remote" name="openness" type="checkbox" value="remote" checked' in page.text


def test_event_form_errors_name_each_field(hub, admin):
    page = post_form(admin, "/admin/events/new", {"name": "", "date": "14/06/2025", "id": "no spaces",
                                                  "hashtag": "not-a-tag!", "notes_url": "javascript:alert(1)",
                                                  "cost": "lots"})
    assert page.status_code == 400
    assert [e.split(" ")[0] for e in errors_in(page)] == \
        ["#name", "#date", "#id", "#hashtag", "#notes_url", "#cost"]
    assert hub.store.events() == []


def test_an_event_id_already_taken_is_a_form_error(hub, admin):
    post_form(admin, "/admin/events/new", EVENT)
    page = post_form(admin, "/admin/events/new", EVENT)
    assert errors_in(page) == ["#id There is already an event with that id: choose another"]


def test_editing_an_event(hub, admin):
    event = hub.store.add_event("Camp", "2025-01-01", openness=["agenda"])
    response = post_form(admin, f"/admin/events/{event.id}", {**EVENT, "name": "Camp renamed", "openness": []},
                         follow_redirects=False)
    assert response.status_code == 303
    changed = hub.store.event(event.id)
    assert changed.name == "Camp renamed" and changed.openness == () and changed.cost_pence == 125050
    assert "Event saved" in admin.get(response.headers["location"]).text


def test_outcomes_are_recorded_escaped_and_removed(hub, admin):
    event = hub.store.add_event("Camp", "2025-01-01")
    path = f"/admin/events/{event.id}"
    post_form(admin, path, {"kind": "service", "title": "<b>Bins</b> app adopted",
                            "story": "The council took it on.", "link": "https://example.org/bins"},
              action=path + "/outcomes")
    [outcome] = hub.store.outcomes(event.id)
    assert (outcome.kind, outcome.title, outcome.link) == ("service", "<b>Bins</b> app adopted",
                                                           "https://example.org/bins")
    page = admin.get(path)
    assert "&lt;b&gt;Bins&lt;/b&gt; app adopted" in page.text and "<b>Bins</b>" not in page.text
    bad = post_form(admin, path, {"kind": "miracle", "title": ""}, action=path + "/outcomes")
    assert [e.split(" ")[0] for e in errors_in(bad)] == ["#kind", "#title"]
    post_form(admin, path, {}, action=f"{path}/outcomes/{outcome.id}/delete")
    assert hub.store.outcomes(event.id) == []


def test_the_setup_card_carries_the_event(hub, admin):
    event = hub.store.add_event("Camp", "2025-01-01")
    pdf = admin.get(f"/admin/events/{event.id}/setup-card.pdf")
    image = pdfium.PdfDocument(pdf.content)[0].render(scale=150 / 72).to_pil()
    assert {r.data.decode() for r in pyzbar.decode(image)} == {f"TURNOUT:SETUP:{event.id}"}
    with_hub = admin.get(f"/admin/events/{event.id}/setup-card.pdf?hub=hub.local:1884")
    image = pdfium.PdfDocument(with_hub.content)[0].render(scale=150 / 72).to_pil()
    assert {r.data.decode() for r in pyzbar.decode(image)} == {f"TURNOUT:SETUP:{event.id}@hub.local:1884"}
    bad = admin.get(f"/admin/events/{event.id}/setup-card.pdf?hub=not a host!")
    assert bad.status_code == 400 and errors_in(bad)[0].startswith("#hub Enter the hub address")


# -- kiosks and the quarantine --

def test_assigning_a_kiosk_publishes_its_config(hub, admin):
    event = hub.store.add_event("Camp", "2025-01-01")
    hub.store.add_kiosk("door-1")
    response = post_form(admin, "/admin/kiosks", {"event": event.id}, action="/admin/kiosks/door-1/assign")
    assert hub.published == ["door-1"]
    assert hub.store.kiosk("door-1").event == event.id
    assert "Kiosk door-1 now counts for Camp: the kiosk is being told" in response.text
    post_form(admin, "/admin/kiosks", {"event": ""}, action="/admin/kiosks/door-1/assign")
    assert hub.store.kiosk("door-1").event is None and hub.published == ["door-1", "door-1"]


def test_an_assignment_waits_in_the_database_until_the_hub_can_send_it(hub_db, tmp_path):
    hub = make_hub(hub_db)
    hub.app.state.publish_config = None  # no ingest running: the broker is away
    event = hub.store.add_event("Camp", "2025-01-01")
    hub.store.add_kiosk("door-1")
    page = post_form(hub.admin(), "/admin/kiosks", {"event": event.id}, action="/admin/kiosks/door-1/assign")
    assert page.status_code == 200 and "as soon as it is connected to the broker" in page.text
    assert hub.store.kiosk("door-1").event == event.id
    assert hub.store.configs_to_send()["door-1"].event == event.id


def test_kiosk_status_shows_online_queued_and_last_seen(hub, admin):
    hub.store.record_kiosk_status("door-1", "online", version="1.2", queued=7,
                                  seen_at="2025-06-14T09:30:00.000Z")
    hub.store.record_kiosk_status("door-2", "offline", queued=0)
    page = admin.get("/admin/kiosks").text
    row = page[page.index(">door-1"):page.index(">door-2")]
    assert "Online" in row and '<td class="numeric">7</td>' in row and "2025-06-14 09:30 UTC" in row
    assert "Offline" in page[page.index(">door-2"):]
    assert "It says it counts for" not in page


def test_a_kiosk_counting_for_another_event_than_assigned_is_pointed_out(hub, admin):
    event = hub.store.add_event("Camp", "2025-01-01")
    hub.store.assign_kiosk("door-1", event.id)
    hub.store.record_kiosk_status("door-1", "online", event="2025-02-02-other-camp")
    page = admin.get("/admin/kiosks").text
    assert "It says it counts for 2025-02-02-other-camp" in page
    hub.store.record_kiosk_status("door-1", "online", event=event.id)
    assert "It says it counts for" not in admin.get("/admin/kiosks").text


def test_adding_a_kiosk_checks_its_id(hub, admin):
    assert errors_in(post_form(admin, "/admin/kiosks", {"kiosk": "door 1!"}))[0].startswith("#kiosk")
    post_form(admin, "/admin/kiosks", {"kiosk": "door-3"})
    assert hub.store.kiosk("door-3") is not None


def test_a_scan_refused_for_an_unknown_event_can_be_counted_at_the_right_one(hub, admin):
    [badge] = [hub.store.add_person("Ada Lovelace").badge]
    answer = scan(hub.store, "no-such-event", badge)
    assert answer.ack.status == "rejected"
    [item] = hub.store.quarantined()
    event = hub.store.add_event("Camp", "2025-01-01")
    page = admin.get("/admin/quarantine")
    assert f"/admin/quarantine/{item.id}/reassign" in page.text
    done = post_form(admin, "/admin/quarantine", {"event": event.id},
                     action=f"/admin/quarantine/{item.id}/reassign")
    assert "Scan now counts at Camp (accepted)" in done.text
    assert hub.store.standing(badge).attended == 1 and hub.store.quarantined() == []


def test_the_quarantine_page_counts_refused_messages_and_shows_junk_cut_short(hub, admin):
    from hub.intake import Intake
    from hub.storage.quarantine import QuarantineLimits
    from tests.hub.kiosks import TOPICS

    hub.store.quarantine_limits = QuarantineLimits(junk_whole_per_kiosk_hour=1, junk_per_kiosk_hour=2)
    intake = Intake(hub.store)
    for n in range(5):
        intake.receive(TOPICS.scan("door-9"), b'{"v": 1, "id": "junk-%d", "padding": "%s"}' % (n, b"x" * 900))
    page = admin.get("/admin/quarantine").text
    assert "Refused in the last 24 hours" in page
    row = re.search(r"<tr><td>door-9</td>(.*?)</tr>", page).group(1)
    assert re.findall(r">(\d+)<", row) == ["5", "1", "1", "3"]  # refused, kept, cut short, only counted
    assert "cut short: 9" in page and page.count("/reassign") == 1  # not the one cut short


def test_a_quarantined_scan_is_moved_under_the_hubs_own_base_topic(hub_db, tmp_path):
    from turnout.protocol import Topics
    topics = Topics("civic/turnout")  # turnout-hub serve --base-topic civic/turnout
    hub = make_hub(hub_db, topics=topics)
    badge = hub.store.add_person("Ada Lovelace").badge
    assert scan(hub.store, "no-such-event", badge, topics=topics).ack.status == "rejected"
    [item] = hub.store.quarantined()
    assert item.topic == "civic/turnout/kiosk/door-1/scan"
    event = hub.store.add_event("Camp", "2025-01-01")
    done = post_form(hub.admin(), "/admin/quarantine", {"event": event.id},
                     action=f"/admin/quarantine/{item.id}/reassign")
    assert "Scan now counts at Camp (accepted)" in done.text
    assert hub.store.standing(badge).attended == 1 and hub.store.quarantined() == []


def test_serve_gives_the_web_pages_the_topics_it_listens_on(hub_db, tmp_path):
    from hub.cli import _web_app
    from hub.ingest import Ingest
    from hub.store import Store
    from turnout.protocol import Topics
    store = Store(hub_db)
    ingest = Ingest(store, "mqtt://127.0.0.1:1", Topics("civic/turnout"))  # never started
    assert _web_app(store, ingest).state.topics.base == "civic/turnout"


# -- people --

def test_merging_two_badges_of_one_person_adds_up_their_scans(hub, admin):
    events = [hub.store.add_event(f"Camp {n}", f"2025-0{n}-01") for n in (1, 2, 3)]
    keep = hub.store.add_person("Ada Lovelace").badge
    gone = hub.store.add_person("Ada L").badge
    scan(hub.store, events[0].id, keep)
    scan(hub.store, events[1].id, gone)
    scan(hub.store, events[1].id, gone, role="cake")
    scan(hub.store, events[2].id, gone)
    scan(hub.store, events[2].id, keep)
    response = post_form(admin, "/admin/people", {"keep": keep, "gone": gone},
                         action="/admin/people/merge", follow_redirects=False)
    assert response.headers["location"] == f"/admin/people/{keep}"
    standing = hub.store.standing(keep)
    assert (standing.attended, standing.volunteered, standing.points) == (3, 1, 5)
    assert hub.store.person(gone).name is None and hub.store.merged_into(gone) == keep
    assert [p.badge for p, _ in hub.store.leaderboard()] == [keep]


def test_merge_refuses_unknown_or_identical_badges(hub, admin):
    keep = hub.store.add_person("Ada Lovelace").badge
    page = post_form(admin, "/admin/people", {"keep": keep, "gone": keep}, action="/admin/people/merge")
    assert errors_in(page) == ["#gone Choose two different badges"]
    page = post_form(admin, "/admin/people", {"keep": keep, "gone": "T12"}, action="/admin/people/merge")
    assert errors_in(page)[0].startswith("#gone Enter a badge code we know")


def test_people_are_found_by_name_organisation_email_or_code(hub, admin):
    ada = hub.store.add_person("Ada Lovelace", org="Analytical Engines", email="ada@example.org")
    hub.store.add_person("Grace Hopper", org="Navy")
    assert "Ada Lovelace" in admin.get("/admin/people?q=lovel").text
    assert "Grace Hopper" not in admin.get("/admin/people?q=ENGINES").text
    assert "Ada Lovelace" in admin.get("/admin/people?q=ada@example").text
    assert "Grace" not in admin.get("/admin/people?q=100%25").text
    found = admin.get(f"/admin/people?q={ada.badge.lower()}", follow_redirects=False)
    assert found.headers["location"] == f"/admin/people/{ada.badge}"


def test_withdrawing_consent_in_the_admin_relabels_the_person_in_the_next_open_data(hub, admin):
    event = hub.store.add_event("Camp", "2025-01-01")
    badge = hub.store.add_person("Ada Lovelace", consent="full").badge
    scan(hub.store, event.id, badge)
    public = hub.client()
    [before] = csv.DictReader(io.StringIO(public.get("/data/v1/participation.csv").text))
    assert before["name"] == "Ada Lovelace"
    post_form(admin, f"/admin/people/{badge}", {"name": "Ada Lovelace", "consent": "hidden"})
    [after] = csv.DictReader(io.StringIO(public.get("/data/v1/participation.csv").text))
    assert after["name"] == "" and after["person_id"] != before["person_id"]


def test_editing_a_person(hub, admin):
    badge = hub.store.add_person("Ada Lovelace").badge
    post_form(admin, f"/admin/people/{badge}", {"name": "Ada King", "organisation": "Royal Society",
                                                "consent": "hidden", "junior": ""})
    person = hub.store.person(badge)
    assert (person.name, person.org, person.consent, person.public_name) == \
        ("Ada King", "Royal Society", "hidden", None)


def test_changing_points_rescores_everyone(hub, admin):
    event = hub.store.add_event("Camp", "2025-01-01")
    badge = hub.store.add_person("Ada Lovelace").badge
    scan(hub.store, event.id, badge)
    scan(hub.store, event.id, badge, role="cake")
    assert hub.store.leaderboard()[0][1].points == 3
    rules = hub.store.rules()
    data = {f"points-{r}": str(p) for r, p in rules.roles.items()}
    data |= {f"hours-{r}": str(rules.hours.get(r, 0)) for r in rules.roles}
    data |= {"points-cake": "10", "new_role": "photos", "points-new": "2", "hours-new": "1.5"}
    response = post_form(admin, "/admin/roles", data)
    assert "Roles saved and 1 badge rescored" in response.text
    assert hub.store.leaderboard()[0][1].points == 11
    assert hub.store.rules().roles["photos"] == 2 and hub.store.rules().hours["photos"] == 1.5


def test_bad_points_are_a_form_error_and_change_nothing(hub, admin):
    data = {"points-cake": "-1", "hours-cake": "lots", "new_role": "Bad Role"}
    page = post_form(admin, "/admin/roles", data)
    assert page.status_code == 400
    assert "#new_role" in " ".join(errors_in(page)) and "#points-cake" in " ".join(errors_in(page))
    assert hub.store.rules().roles["cake"] == 2


# -- export and print --

def test_export_people_and_scans_as_csv(hub, admin):
    event = hub.store.add_event("Camp", "2025-01-01")
    ada = hub.store.add_person("Ada Lovelace", email="ada@example.org").badge
    sly = hub.store.add_person("=HYPERLINK(\"http://evil\")").badge
    scan(hub.store, event.id, ada)
    hub.store.recompute()
    people = list(csv.DictReader(io.StringIO(admin.get("/admin/export/people.csv").text)))
    assert [(p["badge"], p["name"], p["email"], p["attended"]) for p in people] == [
        (ada, "Ada Lovelace", "ada@example.org", "1"), (sly, "'=HYPERLINK(\"http://evil\")", "", "0")]
    scans = list(csv.DictReader(io.StringIO(admin.get("/admin/export/scans.csv").text)))
    assert [(s["event"], s["badge"], s["role"], s["status"]) for s in scans] == \
        [(event.id, ada, "attend", "accepted")]


def decoded(pdf: bytes, dpi: int = 200) -> list[str]:
    found = []
    for page in pdfium.PdfDocument(pdf):
        found += [r.data.decode() for r in pyzbar.decode(page.render(scale=dpi / 72).to_pil())]
    return sorted(found)


def test_print_blank_badges_makes_new_unclaimed_codes_that_scan_back(hub, admin):
    response = post_form(admin, "/admin/print", {"which": "blank", "blank": "3", "layout": "sheet"},
                         action="/admin/print/badges.pdf")
    assert response.headers["content-type"] == "application/pdf"
    blanks = hub.store.people(claimed=False)
    codes = [p.badge for p in blanks]
    assert len(codes) == 3 and decoded(response.content) == sorted(codes * 2)
    text = pdfium.PdfDocument(response.content)[0].get_textpage().get_text_range()
    assert all(f"Claim code: {printed(p.claim_code)}" in text for p in blanks)
    assert len({p.claim_code for p in blanks}) == 3


def test_print_chosen_badges_and_refuse_unknown_ones(hub, admin):
    ada = hub.store.add_person("Ada Lovelace").badge
    response = post_form(admin, "/admin/print", {"which": "codes", "codes": f" {ada.lower()} ",
                                                 "layout": "single"}, action="/admin/print/badges.pdf")
    assert decoded(response.content) == [ada, ada]
    page = post_form(admin, "/admin/print", {"which": "codes", "codes": "T12"}, action="/admin/print/badges.pdf")
    assert page.status_code == 400 and errors_in(page) == ["#codes We have no badge T12: check the code"]


def test_print_role_cards_and_the_undo_card(hub, admin):
    found = decoded(admin.get("/admin/print/cards.pdf").content, dpi=100)
    assert set(found) == {"TURNOUT:ROLE:cake", "TURNOUT:ROLE:pitch", "TURNOUT:ROLE:tidy",
                          "TURNOUT:ROLE:organise", "TURNOUT:UNDO"}


def test_badges_and_cards_from_the_command_line(hub_db, tmp_path, capsys):
    from hub.cli import main
    from hub.store import Store
    db = str(hub_db)
    assert main(["--db", db, "person", "add", "Ada Lovelace"]) == 0
    ada = capsys.readouterr().out.split()[-1]
    out = tmp_path / "ada.pdf"
    assert main(["--db", db, "badges", "--out", str(out), ada]) == 0
    assert decoded(out.read_bytes()) == [ada, ada]
    assert main(["--db", db, "badges", "--out", str(out), "--blank", "2"]) == 0
    assert "claim code" in capsys.readouterr().out
    blanks = Store(db).people(claimed=False)
    text = pdfium.PdfDocument(out.read_bytes())[0].get_textpage().get_text_range()
    assert all(f"Claim code: {printed(p.claim_code)}" in text for p in blanks) and len(blanks) == 2
    assert main(["--db", db, "badges", "--out", str(out), "--all"]) == 0
    assert len(decoded(out.read_bytes())) == 2  # blank badges are not "everyone registered"
    assert main(["--db", db, "badges", "--out", str(out), ada, "--all"]) == 1
    assert main(["--db", db, "cards", "--out", str(out)]) == 0
    assert "TURNOUT:UNDO" in decoded(out.read_bytes(), dpi=100)
    capsys.readouterr()
    assert main(["--db", db, "cards", "--out", str(out), "--setup", "no-such-event"]) == 1
    assert "no event no-such-event" in capsys.readouterr().err


def test_admin_pages_put_the_token_in_every_post_form(hub, admin):
    event = hub.store.add_event("Camp", "2025-01-01")
    badge = hub.store.add_person("Ada Lovelace").badge
    hub.store.add_kiosk("door-1")
    hub.store.add_outcome(event.id, "project", "A project")
    for path in ADMIN_PAGES[:10] + [f"/admin/events/{event.id}", f"/admin/people/{badge}"]:
        text = admin.get(path).text
        forms = text.count('method="post"')
        assert forms >= 1 and text.count('name="csrf_token"') == forms, path


def test_admin_posts_without_the_token_are_refused(hub, admin):
    event = hub.store.add_event("Camp", "2025-01-01")
    response = admin.post(f"/admin/events/{event.id}", data={"name": "Hijacked", "date": "2025-01-01"})
    assert response.status_code == 403 and hub.store.event(event.id).name == "Camp"


def test_admin_json_download_for_a_person(hub, admin):
    badge = hub.store.add_person("Ada Lovelace", email="ada@example.org").badge
    data = json.loads(admin.get(f"/admin/people/{badge}/data.json").text)
    assert data["name"] == "Ada Lovelace" and data["email"] == "ada@example.org"
