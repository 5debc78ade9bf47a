"""A person's copy of their data, and erasure (hub/web/privacy.py, Store.erase_person)."""

from __future__ import annotations

import json

import pytest

from tests.hub.web.formkit import errors_in, make_hub, post_form, scan


@pytest.fixture
def hub(hub_db, tmp_path):
    return make_hub(hub_db)


@pytest.fixture
def ada(hub):
    """Ada, at two events, who cooked at the second; Grace at the second too."""
    events = [hub.store.add_event(f"Camp {n}", f"2025-0{n}-01") for n in (1, 2)]
    ada = hub.store.add_person("Ada Lovelace", org="Analytical Engines", email="Ada@Example.org",
                               consent="full").badge
    grace = hub.store.add_person("Grace Hopper").badge
    for event in events:
        scan(hub.store, event.id, ada)
    scan(hub.store, events[1].id, ada, role="cake")
    scan(hub.store, events[1].id, grace)
    hub.store.recompute()
    return ada


def download(client, code, email):
    return post_form(client, "/privacy/download", {"code": code, "email": email})


def test_a_person_downloads_everything_held_about_them_with_code_and_email(hub, ada):
    response = download(hub.client(), ada.lower(), " ada@example.ORG ")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.text)
    assert (data["badge"], data["name"], data["organisation"], data["email"]) == \
        (ada, "Ada Lovelace", "Analytical Engines", "Ada@Example.org")
    assert (data["points"], data["events_attended"], data["volunteer_occasions"]) == (4, 2, 1)
    assert sorted((s["event_name"], s["role"]) for s in data["scans"]) == \
        [("Camp 1", "attend"), ("Camp 2", "attend"), ("Camp 2", "cake")]
    assert data["shown_on_public_pages_as"] == "Ada Lovelace"


@pytest.mark.parametrize("code, email", [("{ada}", "someone@else.org"), ("{other}", "ada@example.org"),
                                         ("{grace}", "")])
def test_a_wrong_pair_never_says_which_half_was_wrong(hub, ada, code, email):
    grace = hub.store.people()[1].badge
    from turnout.codes import badge_code
    code = code.format(ada=ada, other=badge_code(4242), grace=grace)
    page = download(hub.client(), code, email)
    assert page.status_code == 400 and "Ada" not in page.text
    if email:
        assert errors_in(page) == ["#code We could not match that badge code and email address. "
                                   "Check both, or ask an organiser at any event to help"]
    else:
        assert errors_in(page) == ["#email Enter the email address you gave when you registered"]


def test_a_person_without_an_email_cannot_be_looked_up_by_code_alone(hub, ada):
    grace = hub.store.people()[1].badge
    assert hub.store.person(grace).email is None
    assert download(hub.client(), grace, "anything@example.org").status_code == 400


def test_guessing_is_rate_limited_per_address(hub, ada):
    lookups = hub.app.state.security.lookups
    client = hub.client()
    for _ in range(lookups.limit):
        assert download(client, ada, "guess@example.org").status_code == 400
    page = download(client, ada, "ada@example.org")
    assert page.status_code == 400 and "You have tried too many times" in page.text


TOO_MANY = "You have tried too many times"
PER_BADGE = 10  # wrong tries an hour at one badge, from anywhere (docs/admin.md)


def test_guessing_at_one_badge_from_many_addresses_is_limited_per_badge_too(hub, ada):
    bob = hub.store.add_person("Bob Brown", email="bob@example.org").badge
    for n in range(PER_BADGE):  # a different address each time: the per-address limit never bites
        page = download(hub.client(address=f"198.51.100.{n}"), ada, f"guess{n}@example.org")
        assert page.status_code == 400 and TOO_MANY not in page.text
    page = download(hub.client(address="203.0.113.9"), ada, "ada@example.org")
    assert page.status_code == 400 and TOO_MANY in page.text and "Ada" not in page.text
    assert download(hub.client(address="203.0.113.9"), bob, "bob@example.org").status_code == 200


def test_looking_up_your_own_badge_does_not_buy_more_guesses_at_someone_elses(hub, ada):
    lookups = hub.app.state.security.lookups
    mallory = hub.store.add_person("Mallory", email="mallory@example.org").badge
    grace = hub.store.people()[1].badge
    client = hub.client()
    for _ in range(lookups.limit - 1):
        assert TOO_MANY not in download(client, ada, "guess@example.org").text
    assert download(client, mallory, "mallory@example.org").status_code == 200
    assert TOO_MANY not in download(client, grace, "guess@example.org").text  # the limit-th failure
    page = download(client, mallory, "mallory@example.org")
    assert page.status_code == 400 and TOO_MANY in page.text


def test_erasure_is_asked_for_then_confirmed_by_an_organiser(hub, ada):
    response = post_form(hub.client(), "/privacy/erase", {"code": ada, "email": "ada@example.org",
                                                          "note": "Moving away"})
    assert response.status_code == 200 and "We have your request" in response.text
    [request] = hub.store.privacy_requests()
    assert (request.badge, request.kind, request.note) == (ada, "erase", "Moving away")
    assert hub.store.person(ada).name == "Ada Lovelace"  # nothing happens until confirmed
    admin = hub.admin()
    assert ada in admin.get("/admin/privacy").text
    wrong = post_form(admin, f"/admin/people/{ada}", {"confirm": "T24"}, action=f"/admin/people/{ada}/erase")
    assert wrong.status_code == 400 and errors_in(wrong) == [f"#confirm Type the badge code, {ada}, to confirm"]
    assert hub.store.person(ada).name == "Ada Lovelace"
    done = post_form(admin, f"/admin/people/{ada}", {"confirm": ada}, action=f"/admin/people/{ada}/erase")
    assert "Personal details removed; 3 scans kept as anonymous counts" in done.text
    assert hub.store.privacy_requests() == []


def test_erasure_removes_name_and_contact_and_keeps_scans_only_as_anonymous_counts(hub, ada):
    events = hub.store.events()
    before = [len(hub.store.event_report(e.id).present) for e in events]
    roles_before = [hub.store.event_report(e.id).role_counts for e in events]
    admin = hub.admin()
    post_form(admin, f"/admin/people/{ada}", {"confirm": ada}, action=f"/admin/people/{ada}/erase")
    person = hub.store.person(ada)
    assert (person.name, person.org, person.email, person.public_name) == (None, None, None, None)
    assert hub.store.scans(badge=ada) == []
    assert [len(hub.store.event_report(e.id).present) for e in events] == before
    assert [hub.store.event_report(e.id).role_counts for e in events] == roles_before
    # The anonymous ids differ at each event, so nothing links the scans to each other.
    ids = [{r.badge for r in hub.store.event_report(e.id).present} - {p.badge for p in hub.store.people()}
           for e in events]
    assert all(len(i) == 1 for i in ids) and ids[0] != ids[1]
    assert ada not in [p.badge for p, _ in hub.store.leaderboard(include_hidden=True)]
    api = hub.client().get(f"/api/v1/people/{ada}").json()
    assert api["name"] is None and api["points"] == 0 and api["milestones"] == []
    public = hub.client().get(f"/people/{ada}")
    assert "Ada" not in public.text and "Lovelace" not in public.text and "Analytical" not in public.text


def test_after_erasure_the_badge_cannot_be_claimed_or_looked_up(hub, ada):
    admin = hub.admin()
    post_form(admin, f"/admin/people/{ada}", {"confirm": ada}, action=f"/admin/people/{ada}/erase")
    assert download(hub.client(), ada, "ada@example.org").status_code == 400
    page = post_form(hub.client(), "/claim", {"code": ada, "name": "Someone", "consent": "full"})
    assert errors_in(page)[0].startswith("#code That badge has already been claimed")
    assert "Erased badge" in admin.get(f"/admin/people/{ada}").text


def test_erasure_scrubs_the_badge_from_refused_messages(hub, ada):
    scan(hub.store, "no-such-event", ada)
    assert hub.store.quarantined_for(ada)
    hub.store.erase_person(ada)
    assert hub.store.quarantined_for(ada) == []
    assert ada not in hub.store.quarantined()[0].payload


def test_the_privacy_forms_are_labelled_and_carry_a_token(hub):
    for path in ("/privacy/download", "/privacy/erase"):
        page = hub.client().get(path)
        assert page.status_code == 200
        assert 'for="code"' in page.text and 'for="email"' in page.text and 'name="csrf_token"' in page.text
        assert post_form(hub.client(), path, {}).status_code == 400
        assert hub.client().post(path, data={"code": "T13", "email": "a@b.c"}).status_code == 403
