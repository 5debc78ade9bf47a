"""Every public page through FastAPI's TestClient: status, key content, escaping, consent."""

from __future__ import annotations

import re
from html import unescape
from datetime import date

import pytest

from tests.hub.web.sitekit import small_site

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def site(hub_db_shared, tmp_path_factory):
    return small_site(hub_db_shared)


@pytest.fixture(scope="module")
def client(site):
    return site.client()


def text_of(html: str) -> str:
    """The page's words with tags removed and spaces collapsed, for phrases across elements."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def assert_page(response, *phrases: str) -> str:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<script>alert(1)</script>" not in html
    words = text_of(html)
    for phrase in phrases:
        assert phrase in words, phrase
    return html


def test_every_page_has_the_layout(client):
    html = assert_page(client.get("/"), "Skip to main content", "Turnout", "Privacy",
                       "Open Government Licence v3.0")
    assert '<html lang="en-GB">' in html
    assert '<a href="#main-content" class="skip-link">' in html
    assert 'id="main-content"' in html
    for label, href in [("Events", "/events"), ("Leaderboard", "/leaderboard"), ("Impact", "/impact"),
                        ("Open data", "/data"), ("Register", "/register"), ("Admin", "/admin")]:
        assert f'href="{href}"' in html and label in html


def test_current_page_is_marked_in_the_menu(client):
    html = client.get("/events").text
    assert re.search(r'href="/events" aria-current="page"', html)
    assert not re.search(r'href="/leaderboard" aria-current="page"', html)


def test_home_shows_upcoming_events_and_headline_numbers(client):
    words = text_of(assert_page(client.get("/"), "Coming up", "Autumn camp; with, commas",
                                "Latest results", "Summer camp"))
    # 3 events held, 1 + 4 + 3 attendances, 4 different people, 3 times someone helped.
    assert "3 events held" in words
    assert "8 attendances" in words
    assert "4 different people" in words
    assert "3 times someone helped" in words


def test_events_lists_results_by_season_and_what_is_coming(client, site):
    html = assert_page(client.get("/events"), "Coming up", "Autumn camp; with, commas", "2025", "2024",
                       "Spring camp", "NHS hack day")
    assert f'href="/events/{site.events["spring"]}"' in html
    assert "3 out of 5 stars" in html  # spring ticked agenda, hashtag, live (and ongoing after a gap)


def test_event_results_show_who_came_first_timers_and_helpers(client, site):
    html = assert_page(client.get(f"/events/{site.events['spring']}"),
                       "Spring camp", "Saturday 1 March 2025", "Town Hall", "The Fox & Hounds",
                       "#lgcspring", "4 people came", "3 came for the first time", "1 helped",
                       "Cake (1) Ann Abbott", "Ann Abbott", "Bob B.",
                       "And 1 person who chose not to be named, 1 of them for the first time",
                       "3 out of 5 stars", "Star 4: Open to people outside the room")
    assert "Cat" not in text_of(html)  # hidden: counted, never named
    assert ESCAPED in html  # the person named <script>… appears as text
    assert 'href="https://notes.example.org/spring"' in html
    assert html.count("First time</strong>") == 2  # Bob and the hostile name; Ann came before
    assert "A map of &lt;b&gt;warm spaces&lt;/b&gt;" in html
    assert "A project started" in html


def test_event_results_name_helpers_only_by_consent(client, site):
    words = text_of(assert_page(client.get(f"/events/{site.events['summer']}")))
    assert "Tidy (1) Bob B." in words
    assert "Organise (1) 1 person not named" in words
    assert "Cat" not in words


def test_an_upcoming_event_invites_everyone(client, site):
    assert_page(client.get(f"/events/{site.events['future']}"), "You are invited",
                "Results will appear here after the event")


def test_unknown_event_is_a_friendly_404(client):
    response = client.get("/events/no-such-event")
    assert response.status_code == 404
    assert "Page not found" in response.text and "Traceback" not in response.text
    assert client.get("/api/v1/events/no-such-event").json() == {"detail": "no event no-such-event"}


def test_personal_page_shows_points_milestones_roles_and_history(client, site):
    words = text_of(assert_page(client.get(f"/people/{site.badges['ann']}"),
                                "Ann Abbott", "5 points", "3 events", "1 time helped",
                                "Cake 1 time", "9 more times helping to the volunteer 10 club",
                                "2 events in 2025 so far, 1 in 2024"))
    # History table: March and June this year, November last year.
    assert "March 1 0" in words and "June 1 0" in words and "November 0 1" in words
    assert "Spring camp" in words and "NHS hack day" in words


def test_personal_page_of_a_hidden_person_shows_no_name(client, site):
    words = text_of(assert_page(client.get(f"/people/{site.badges['cat']}"),
                                "chose not to have their name shown", "7 points"))
    assert "Cat" not in words


def test_personal_page_escapes_the_name(client, site):
    html = assert_page(client.get(f"/people/{site.badges['xss']}"))
    assert ESCAPED in html


def test_unknown_or_unclaimed_badges_are_404(client, site):
    assert client.get("/people/T99999").status_code == 404
    [blank] = site.store.add_blank_badges(1)
    assert client.get(f"/people/{blank}").status_code == 404


def test_leaderboard_lists_only_people_who_agreed(client):
    html = assert_page(client.get("/leaderboard"), "Points: All series, all time",
                       "1 Ann Abbott 5 3 1", "2 Bob B. 4 2 1")
    words = text_of(html)
    assert "Cat" not in words  # 7 points, but hidden: left out, and positions skip nobody
    assert ESCAPED in html


def test_leaderboard_by_season_and_series(client):
    words = text_of(assert_page(client.get("/leaderboard?season=2024")))
    assert "Points: All series, 2024" in words and "1 Ann Abbott 1 1 0" in words
    assert "Bob" not in words.split("Most helpful")[0]
    words = text_of(assert_page(client.get("/leaderboard?series=LocalGovCamp&season=2025")))
    assert "1 Ann Abbott 4 2 1" in words and "1 Bob B. 4 2 1" in words  # a tie shares a place



def test_a_leaderboard_filter_it_cannot_use_is_said_so_on_the_page(client):
    """Rule: an invalid query value is never silently ignored. /leaderboard?season=abcd used to
    show the all-time board with a 200 and no word about the season."""
    response = client.get("/leaderboard?season=abcd&series=nope")
    assert response.status_code == 400  # not a year at all
    words = text_of(response.text)
    assert "There is a problem" in words
    assert "The season must be a year, like 2025: showing all time instead" in words
    assert "There is no series called ‘nope’: showing all series instead" in words
    assert "Points: All series, all time" in words, "the board for everything, under the notice"
    assert response.text.index('class="error-summary"') < response.text.index("<h1")
    assert "<title>Error: Leaderboard" in response.text
    unknown = client.get("/leaderboard?season=1999")
    assert unknown.status_code == 404 and "There were no events in 1999" in text_of(unknown.text)
    assert client.get("/leaderboard?season=&series=").status_code == 200, "the form's “all” choices"


def test_a_page_given_a_value_it_cannot_read_says_which_in_html(client):
    """FastAPI's own answer was a JSON 422 on an HTML page."""
    response = client.get("/badges/T5724?new=yes")
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
    words = text_of(response.text)
    assert "There is a problem with this address" in words and "new:" in words


def test_leaderboard_by_organisation_counts_everyone_without_naming(client):
    words = text_of(assert_page(client.get("/leaderboard"), "By organisation"))
    assert "Leeds City Council 2 5 2 9" in words  # Ann and Bob: 5 attendances, 2 helped, 9 points
    assert "NHS Wales 1 2 1 7" in words  # Cat is counted here, not named anywhere


def test_most_helpful_and_first_timers(hub_db, tmp_path):
    site = small_site(hub_db, today=date(2025, 3, 20))
    words = text_of(assert_page(site.client().get("/leaderboard"), "Most helpful",
                                "First-timers this month", "March 2025"))
    first = words.split("First-timers this month")[1]
    assert "Bob B. at Spring camp" in first
    assert "And 1 person not named" in first
    assert "Ann" not in first  # she came to the hack day in 2024


def test_impact_headlines_tables_and_charts(client):
    html = assert_page(client.get("/impact"), "3 events held", "8 attendances", "4 different people",
                       "75% came more than once", "3 volunteer occasions",
                       "10.5 volunteer hours (estimated)", "2 organisations represented",
                       "£128.57 cost per attendance", "Season by season",
                       "Volunteer occasions by role", "A map of <b>warm spaces</b>")
    assert html.count("<svg") == 4
    assert html.count('role="img" aria-label="') >= 4
    assert "<script" not in html  # the charts need no JavaScript
    assert "Show the figures as a table" in html


def test_volunteer_hours_per_role_are_configurable(hub_db, tmp_path):
    site = small_site(hub_db, hours_per_role={"organise": 4})
    assert_page(site.client().get("/impact"), "6.5 volunteer hours (estimated)")


def test_impact_print_page_for_the_committee(client):
    html = assert_page(client.get("/impact/print"), "For the committee", "Turnout impact report",
                       "Figures as at Sunday 15 June 2025")
    assert "<details" not in html  # every table is open on paper
    assert re.search(r'href="/static/print.css\?v=[0-9a-f]{8}" media="print"', html)


def test_privacy_notice_says_what_is_kept_why_and_how_long(client):
    html = assert_page(client.get("/privacy"), "What we keep", "Why we keep it",
                       "How long we keep it", "Email addresses are never published")
    assert 'href="/privacy/download"' in html and 'href="/privacy/erase"' in html


def test_static_stylesheets_are_served(client):
    css = client.get("/static/turnout.css")
    assert css.status_code == 200 and ".skip-link" in css.text and ":focus-visible" in css.text
    assert "@page" in client.get("/static/print.css").text


def test_server_errors_are_friendly_and_hide_the_trace(site):
    def boom():
        raise RuntimeError("secret database detail")

    site.app.add_api_route("/boom-for-test", boom)
    site.app.add_api_route("/api/v1/boom-for-test", boom)
    client = site.client()
    page = client.get("/boom-for-test")
    assert page.status_code == 500
    assert "Sorry, there is a problem with the service" in page.text
    assert "secret database detail" not in page.text and "Traceback" not in page.text
    api = client.get("/api/v1/boom-for-test")
    assert api.status_code == 500 and api.json() == {"detail": "Internal Server Error"}
    client.cookies.set("turnout_lang", "cy")
    welsh = client.get("/boom-for-test")
    assert '<html lang="cy">' in welsh.text and "Mae'n ddrwg gennym" in welsh.text


def test_pages_follow_new_scans_and_consent_changes(hub_db, tmp_path):
    from tests.hub.web.sitekit import Scanner

    site = small_site(hub_db)
    client = site.client()
    site.store.update_person(site.badges["bob"], consent="hidden")
    assert "Bob" not in text_of(client.get("/leaderboard").text)
    Scanner(site.store).scan(site.events["hack"], site.badges["bob"])
    assert "9 attendances" in text_of(client.get("/").text)


def test_an_unclaimed_badge_page_says_how_to_claim_it(hub_db, tmp_path):
    from fastapi.testclient import TestClient

    from hub.store import Store
    from hub.web import create_web_app
    store = Store(hub_db)
    [code] = store.add_blank_badges(1)
    page = TestClient(create_web_app(store)).get(f"/people/{code}")
    assert page.status_code == 404
    assert "not claimed yet" in page.text and 'href="/claim"' in page.text


def test_todays_event_is_coming_up_until_the_first_scan_then_held(hub_db, tmp_path):
    from tests.hub.web.sitekit import Scanner
    site = small_site(hub_db, today=date(2025, 9, 20))  # the day of the "future" event
    client = site.client()
    today = site.events["future"]

    def sections():
        page = client.get("/events").text
        return page[:page.index(">Results<")], page[page.index(">Results<"):]

    coming, results = sections()
    assert "Autumn camp" in coming and "Autumn camp" not in results
    assert "You are invited" in client.get(f"/events/{today}").text
    assert "3 events held" in text_of(client.get("/").text)
    Scanner(site.store).scan(today, site.badges["ann"])
    coming, results = sections()
    assert "Autumn camp" not in coming and "Autumn camp" in results
    page = text_of(client.get(f"/events/{today}").text)
    assert "You are invited" not in page and "1 person came" in page
    assert "4 events held" in text_of(client.get("/").text)
    site.store.close()
