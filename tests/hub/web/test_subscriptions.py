"""Asking for results emails and choosing how badges name you: at registration, on your own
page (only in the browser that registered the badge), and closing an event from the admin."""

from __future__ import annotations

from tests.hub.web.formkit import errors_in, make_hub, post_form, scan


def register(client, **fields):
    data = {"name": "Ada Lovelace", "email": "", "consent": "initial", **fields}
    return post_form(client, "/register", data, follow_redirects=False)


def test_registering_can_ask_for_results_emails_which_need_an_address(hub_db):
    hub = make_hub(hub_db)
    browser = hub.client()
    refused = register(browser, results_email="yes")
    assert refused.status_code == 400
    assert errors_in(refused) == ["#results_email Enter your email address above to get results emails"]
    done = register(browser, results_email="yes", email="ada@example.org")
    assert done.status_code == 303
    badge = done.headers["location"].split("/")[2].split("?")[0]
    assert hub.store.person(badge).results_email
    plain = register(hub.client(), email="bo@example.org")
    assert not hub.store.person(plain.headers["location"].split("/")[2].split("?")[0]).results_email


def test_only_the_persons_own_browser_sees_and_changes_their_settings(hub_db):
    hub = make_hub(hub_db)
    own = hub.client()
    badge = register(own, email="ada@example.org").headers["location"].split("/")[2].split("?")[0]
    page = own.get(f"/people/{badge}")
    assert "Your settings" in page.text and page.headers["cache-control"] == "no-store"
    saved = post_form(own, f"/people/{badge}", {"results_email": "yes", "badge_recipient": "page"},
                      action=f"/people/{badge}/settings", follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("settings=saved#settings")
    person = hub.store.person(badge)
    assert person.results_email and person.badge_recipient == "page"
    stranger = hub.client(address="10.0.0.9")
    assert "Your settings" not in stranger.get(f"/people/{badge}").text
    refused = post_form(stranger, "/register", {"results_email": ""}, action=f"/people/{badge}/settings")
    assert refused.status_code == 404 and hub.store.person(badge).results_email


def test_the_language_a_person_registers_in_is_their_emails_and_they_can_change_it(hub_db):
    hub = make_hub(hub_db)
    welsh = hub.client()
    welsh.cookies.set("turnout_lang", "cy")
    badge = register(welsh, email="ada@example.org").headers["location"].split("/")[2].split("?")[0]
    assert hub.store.person(badge).language == "cy"
    english = register(hub.client(address="10.0.0.7"), email="bo@example.org")
    assert hub.store.person(english.headers["location"].split("/")[2].split("?")[0]).language == "en"
    page = welsh.get(f"/people/{badge}").text
    assert 'name="language" type="radio" value="cy" checked' in page
    saved = post_form(welsh, f"/people/{badge}", {"results_email": "yes", "badge_recipient": "email",
                                                  "language": "en"},
                      action=f"/people/{badge}/settings", follow_redirects=False)
    assert saved.status_code == 303 and hub.store.person(badge).language == "en"
    refused = post_form(welsh, f"/people/{badge}", {"language": "fr"}, action=f"/people/{badge}/settings")
    assert refused.status_code == 400 and hub.store.person(badge).language == "en"


def test_an_organiser_closes_an_event_and_sees_its_emails(hub_db):
    hub = make_hub(hub_db)
    event = hub.store.add_event("CivicCamp June", "2999-06-14").id
    ada = hub.store.add_person("Ada Lovelace", email="ada@example.org", results_email=True).badge
    scan(hub.store, event, ada)
    admin = hub.admin()
    page = admin.get(f"/admin/events/{event}")
    assert "Close the event and send results emails" in page.text
    closed = post_form(admin, f"/admin/events/{event}", {}, action=f"/admin/events/{event}/close",
                       follow_redirects=False)
    assert closed.status_code == 303 and hub.store.event(event).closed_at
    hub.store.queue_emails(event, [])  # as the worker would, with nothing to send
    after = admin.get(f"/admin/events/{event}").text
    assert "Close the event" not in after and "Waiting to send" in after
    other = hub.store.add_event("CivicCamp July", "2999-07-12").id
    anonymous = post_form(hub.client(address="10.0.0.8"), "/register", {},
                          action=f"/admin/events/{other}/close", follow_redirects=False)
    assert anonymous.status_code in (303, 401, 403) and hub.store.event(other).closed_at is None
