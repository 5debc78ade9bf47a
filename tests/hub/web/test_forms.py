"""Register, claim and badge downloads through the framework's test client (hub/web/forms.py)."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest
from markupsafe import escape
from pyzbar import pyzbar

from hub.claims import printed
from hub.web.forms import normalise_code
from tests.hub.web.formkit import HOSTILE, errors_in, make_hub, post_form, scan, token
from turnout.codes import badge_code

PERSON = {"name": "  Ada   Lovelace ", "organisation": "Analytical Engines", "email": "ada@example.org",
          "junior": "yes", "consent": "full"}


@pytest.fixture
def hub(hub_db, tmp_path):
    return make_hub(hub_db)


def register(client, **fields):
    return post_form(client, "/register", {"consent": "initial", **fields}, follow_redirects=False)


def badge_of(response) -> str:
    assert response.status_code == 303, response.text
    return re.match(r"/badges/(T\d+)\?", response.headers["location"]).group(1)


# -- register --

def test_the_register_form_has_labelled_fields_a_token_and_first_name_and_initial_by_default(hub):
    page = hub.client().get("/register")
    assert page.status_code == 200
    for field in ("name", "organisation", "email", "junior", "consent"):
        assert f'for="{field}"' in page.text
    assert 'name="csrf_token"' in page.text
    assert re.search(r'id="consent" name="consent" type="radio" value="initial" checked', page.text)


def test_registering_stores_the_person_and_shows_the_code_big_with_a_badge_download(hub):
    client = hub.client()
    badge = badge_of(register(client, **PERSON))
    person = hub.store.person(badge)
    assert (person.name, person.org, person.email, person.junior, person.consent) == \
        ("Ada Lovelace", "Analytical Engines", "ada@example.org", True, "full")
    page = client.get(f"/badges/{badge}?new=1")
    assert page.status_code == 200
    assert f'<strong class="badge-code" id="badge-code">{badge}</strong>' in page.text
    assert f'href="/badges/{badge}.pdf"' in page.text


def test_the_badge_pdf_is_one_page_whose_codes_scan_back_as_the_badge_code(hub):
    client = hub.client()
    badge = badge_of(register(client, name="Grace Hopper"))
    pdf = client.get(f"/badges/{badge}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    document = pdfium.PdfDocument(pdf.content)
    assert len(document) == 1
    image = document[0].render(scale=200 / 72).to_pil()
    assert sorted(r.data.decode() for r in pyzbar.decode(image)) == [badge, badge]


@pytest.mark.parametrize("fields, field, message", [
    ({"name": "   "}, "name", "Enter your name or a nickname"),
    ({"name": "x" * 101}, "name", "Name must be 100 characters or fewer"),
    ({"name": "Ada", "email": "not an email"}, "email", "Enter an email address in the correct format"),
    ({"name": "Ada", "organisation": "o" * 121}, "organisation", "Organisation must be 120 characters"),
    ({"name": "Ada", "consent": "everyone"}, "consent", "Choose how your name appears"),
])
def test_register_says_what_is_wrong_at_the_top_and_beside_the_field(hub, fields, field, message):
    page = register(hub.client(), **fields)
    assert page.status_code == 400
    assert page.text.count("There is a problem") == 1
    [summary] = errors_in(page)
    assert summary.startswith(f"#{field} {message}")
    assert f'id="{field}-error"' in page.text and '<title>Error: ' in page.text
    assert hub.store.count_people(None) == 0


def test_a_form_with_errors_keeps_what_was_typed(hub):
    page = register(hub.client(), name="Ada Lovelace", email="bad", organisation="Analytical Engines")
    assert 'value="Ada Lovelace"' in page.text and 'value="Analytical Engines"' in page.text


def test_any_script_is_welcome_in_a_name_and_stored_as_typed(hub):
    for name in ("Ζωή Παπαδοπούλου", "Алёна", "李小龍", "محمد", "Zoë O'Neill-Smith"):
        badge = badge_of(register(hub.client(), name=name))
        assert hub.store.person(badge).name == name


def test_bidi_overrides_and_invisible_characters_are_dropped_from_what_people_type(hub):
    # "\u202e" would reverse the rest of a leaderboard line; zero-width characters hide in names.
    typed = {"name": "\u202eAda\u202c Love\u200blace\u2066", "organisation": "\ufeffLeeds\u200f"}
    badge = badge_of(register(hub.client(), **typed))
    person = hub.store.person(badge)
    assert (person.name, person.org) == ("Ada Lovelace", "Leeds")
    emoji = "\U0001F469\u200d\U0001F4BB Sam"  # the joiner inside an emoji sequence stays
    assert hub.store.person(badge_of(register(hub.client(), name=emoji))).name == emoji


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_stored_as_is_and_escaped_on_every_page(hub, name):
    client = hub.client()
    badge = badge_of(register(client, name=name, organisation=name))
    assert hub.store.person(badge).name == name
    admin = hub.admin()
    pages = [client.get(f"/badges/{badge}?new=1"), admin.get(f"/admin/people/{badge}"),
             admin.get("/admin/people"), register(client, name=name, email="bad")]
    for page in pages:
        assert name not in page.text, page.url
        assert str(escape(name)) in page.text, page.url
        assert "<script>alert" not in page.text and "<img src=x" not in page.text


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_print_on_the_badge_as_text_not_markup(hub, name):
    client = hub.client()
    badge = badge_of(register(client, name=name))
    document = pdfium.PdfDocument(client.get(f"/badges/{badge}.pdf").content)
    text = document[0].get_textpage().get_text_range()
    assert name in text.replace("\r\n", " ").replace("\n", " ") or \
        name.replace(" ", "") in text.replace("\r\n", "").replace("\n", "").replace(" ", "")


# -- who may open a badge --

def test_a_badge_page_and_pdf_are_only_for_the_browser_that_registered_it_and_organisers(hub):
    badge = badge_of(register(hub.client(), name="Ada Lovelace"))
    stranger = hub.client()
    assert stranger.get(f"/badges/{badge}").status_code == 404
    assert stranger.get(f"/badges/{badge}.pdf").status_code == 404
    assert "Ada" not in stranger.get(f"/badges/{badge}").text
    assert hub.admin().get(f"/badges/{badge}.pdf").status_code == 200


def test_unknown_and_malformed_badges_are_a_plain_not_found(hub):
    client = hub.client()
    for path in ("/badges/T999999.pdf", "/badges/nonsense", "/badges/T12"):
        page = client.get(path)
        assert page.status_code == 404 and "Traceback" not in page.text


# -- claim --

@pytest.fixture
def blank(hub):
    [code] = hub.store.add_blank_badges(1)
    return code


def claim_code_of(hub, code) -> str:
    """The claim code as printed on the badge, e.g. 7KQ-2MX."""
    return printed(hub.store.person(code).claim_code)


def claim(client, code, claim_code="", **fields):
    return post_form(client, "/claim", {"code": code, "claim_code": claim_code, "name": "Ada Lovelace",
                                        "consent": "initial", **fields}, follow_redirects=False)


def test_claiming_a_blank_badge_makes_it_theirs(hub, blank):
    client = hub.client()
    response = claim(client, blank, claim_code_of(hub, blank), organisation="Leeds City Council")
    assert response.headers["location"] == f"/badges/{blank}?claimed=1"
    person = hub.store.person(blank)
    assert person.claimed and person.name == "Ada Lovelace" and person.org == "Leeds City Council"
    assert person.claim_code is None  # spent: it can never open the badge again
    assert client.get(f"/badges/{blank}.pdf").status_code == 200


def test_a_badge_claimed_in_welsh_gets_its_emails_in_welsh(hub, blank):
    client = hub.client()
    client.cookies.set("turnout_lang", "cy")
    assert claim(client, blank, claim_code_of(hub, blank)).status_code == 303
    assert hub.store.person(blank).language == "cy"
    [english] = hub.store.add_blank_badges(1)
    assert claim(hub.client(address="10.0.0.6"), english, claim_code_of(hub, english)).status_code == 303
    assert hub.store.person(english).language == "en"


def test_scans_made_before_the_claim_count_once_it_is_claimed(hub, blank):
    events = [hub.store.add_event(f"Camp {n}", f"2025-0{n}-01") for n in (1, 2)]
    for event in events:
        assert scan(hub.store, event.id, blank).ack.status == "accepted"
    scan(hub.store, events[1].id, blank, role="cake")
    assert hub.store.leaderboard() == []
    client = hub.client()
    claim(client, blank, claim_code_of(hub, blank))
    standing = hub.store.standing(blank)
    assert (standing.attended, standing.volunteered, standing.points) == (2, 1, 4)
    assert [p.badge for p, _ in hub.store.leaderboard()] == [blank]
    page = client.get(f"/badges/{blank}?claimed=1")
    assert "2 events and 4 points already count for you" in page.text


def test_codes_are_read_the_way_people_type_them(hub, blank):
    for typed in (blank.lower(), f"  {blank} ", "T " + " ".join(blank[1:]), blank[1:]):
        assert normalise_code(typed) == blank, typed
    loosely = " " + claim_code_of(hub, blank).lower().replace("-", " ") + " "
    assert claim(hub.client(), " " + blank.lower() + " ", loosely).status_code == 303


def test_claim_tells_a_typo_from_an_unknown_badge_from_a_claimed_one(hub, blank):
    typo = blank[:-1] + str((int(blank[-1]) + 1) % 10)
    unknown = badge_code(987654)
    cases = {"": "Enter the code printed on your badge",
             "X12": "A badge code is the letter T followed by numbers",
             typo: "That code has a typo",
             unknown: "We have no badge with that code"}
    for code, message in cases.items():
        page = claim(hub.client(), code, "7KQ-2MX")
        assert page.status_code == 400
        assert errors_in(page)[0].startswith(f"#code {message}"), (code, errors_in(page))
    right = claim_code_of(hub, blank)
    claim(hub.client(), blank, right)
    page = claim(hub.client(), blank, right, name="Someone Else")
    assert errors_in(page)[0].startswith("#code That badge has already been claimed")
    assert hub.store.person(blank).name == "Ada Lovelace"


def test_claim_reports_every_problem_at_once(hub):
    page = claim(hub.client(), "", name="")
    assert [e.split(" ")[0] for e in errors_in(page)] == ["#code", "#claim_code", "#name"]


def test_a_blank_badge_is_claimed_only_with_its_claim_code_not_by_counting_badge_numbers(hub):
    stack = hub.store.add_blank_badges(3)  # sequential: anyone can guess the next one
    client = hub.client()
    for code in stack:
        page = claim(client, code)
        assert page.status_code == 400
        assert errors_in(page) == ["#claim_code Enter the claim code printed on your badge"]
        wrong = claim(client, code, "ZZZ-ZZZ" if claim_code_of(hub, code) != "ZZZ-ZZZ" else "YYY-YYY")
        assert errors_in(wrong) == ["#claim_code That claim code does not match the badge. "
                                    "Check it against your badge"]
        other = claim(client, code, claim_code_of(hub, stack[(stack.index(code) + 1) % 3]))
        assert other.status_code == 400  # another badge's code does not open this one
    assert hub.store.count_people(claimed=True) == 0
    assert claim(client, stack[1], claim_code_of(hub, stack[1])).status_code == 303


def test_wrong_claim_codes_are_limited_per_badge_from_any_address_and_per_address(hub, blank):
    right = claim_code_of(hub, blank)
    wrong = "ZZZ-ZZZ" if right != "ZZZ-ZZZ" else "YYY-YYY"
    for n in range(10):  # ten wrong tries an hour at one badge, each from a new address
        assert claim(hub.client(address=f"198.51.100.{n}"), blank, wrong).status_code == 400
    refused = claim(hub.client(address="203.0.113.1"), blank, right)
    assert refused.status_code == 429 and hub.store.person(blank).claimed is False
    assert errors_in(refused)[0].startswith("#code You have tried too many times")
    sweeper = hub.client(address="203.0.113.2")  # one address trying many badges
    for n in range(30):
        assert claim(sweeper, badge_code(900_000 + n), wrong).status_code == 400
    [other] = hub.store.add_blank_badges(1)
    assert claim(sweeper, other, claim_code_of(hub, other)).status_code == 429
    assert claim(hub.client(address="203.0.113.3"), other, claim_code_of(hub, other)).status_code == 303


def test_a_blank_badge_from_before_claim_codes_is_claimed_by_an_organiser(hub, blank):
    hub.store.db.execute("UPDATE people SET claim_code = NULL WHERE badge = ?", (blank,))  # as migrated
    page = claim(hub.client(), blank, "7KQ-2MX")
    assert errors_in(page)[0] == ("#code This badge was printed before badges had claim codes. "
                                  "Ask an organiser to claim it for you")
    assert "ask an organiser" in hub.client().get("/claim").text
    post_form(hub.admin(), f"/admin/people/{blank}", {"name": "Ada Lovelace", "consent": "initial"})
    assert hub.store.person(blank).name == "Ada Lovelace"


# -- sessions and CSRF --

def cookie_header(response) -> str:
    return response.headers.get("set-cookie", "")


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_over_https(hub):
    plain = cookie_header(hub.client().get("/register"))
    assert plain.startswith("turnout_session=") and "HttpOnly" in plain and "SameSite=Lax" in plain
    assert "Secure" not in plain
    assert "Secure" in cookie_header(hub.client(https=True).get("/register"))


def test_secure_cookies_can_be_required_even_behind_a_plain_http_proxy(hub_db, tmp_path, monkeypatch):
    monkeypatch.setenv("TURNOUT_HUB_HTTPS_ONLY", "1")
    assert "Secure" in cookie_header(make_hub(hub_db).client().get("/register"))


def test_pages_without_forms_set_no_cookie(hub):
    assert "set-cookie" not in hub.client().get("/api/v1/kiosks").headers
    assert "set-cookie" not in hub.client().get("/").headers


@pytest.mark.parametrize("forged", [None, "", "wrong-token-that-is-long-enough-to-look-real"])
def test_a_form_without_the_right_token_is_refused_with_a_friendly_page(hub, forged):
    client = hub.client()
    client.get("/register")
    data = {"name": "Mallory", "consent": "initial"}
    if forged is not None:
        data["csrf_token"] = forged
    page = client.post("/register", data=data, follow_redirects=False)
    assert page.status_code == 403
    assert "Your form could not be sent" in page.text and "Traceback" not in page.text
    assert hub.store.count_people(None) == 0


def test_another_browsers_token_does_not_work(hub):
    theirs = token(hub.client().get("/register"))
    mine = hub.client()
    mine.get("/register")
    assert mine.post("/register", data={"csrf_token": theirs, "name": "Mallory"}).status_code == 403


def test_a_form_posted_from_another_site_is_refused_even_with_a_token(hub):
    client = hub.client()
    page = client.get("/register")
    response = client.post("/register", data={"csrf_token": token(page), "name": "Mallory"},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert hub.store.count_people(None) == 0


def test_a_tampered_session_cookie_is_ignored(hub):
    client = hub.client()
    page = client.get("/register")
    good = client.cookies["turnout_session"]
    client.cookies.set("turnout_session", good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"))
    response = client.post("/register", data={"csrf_token": token(page), "name": "Mallory"})
    assert response.status_code == 403


def test_nonsense_posts_get_a_page_not_a_stack_trace(hub):
    client = hub.client()
    page = client.get("/register")
    for body in ({"csrf_token": token(page), "junior": ["yes", "no"], "consent": ["full", "x"]},
                 {"csrf_token": token(page), "name": "\x00\x01 \u202e"}):
        response = client.post("/register", data=body)
        assert response.status_code in (303, 400, 200) and "Traceback" not in response.text
    response = client.post("/register", content=b"\xff\xfe", headers={"content-type": "multipart/form-data"})
    assert response.status_code in (400, 403) and "Traceback" not in response.text
