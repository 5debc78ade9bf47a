"""Welsh beside English on the web pages: the switcher, Accept-Language, lang="", words, dates and
numbers; and no template text a person reads left out of the catalogue."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

from hub.web import i18n
from tests.hub.web.sitekit import small_site

TEMPLATES = Path(i18n.__file__).parent / "templates"
# Attributes a person reads or hears (a meta description's content is checked too).
READ_ATTRIBUTES = {"title", "alt", "aria-label", "placeholder", "content", "value"}
GETTEXT = {"_", "gettext", "ngettext"}
HOLE = "\x00"  # where an expression or a {% trans %} block was


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_data(self, data):
        self.found.append(data)

    def handle_starttag(self, tag, attrs):
        described = dict(attrs).get("name") == "description"
        for name, value in attrs:
            if name not in READ_ATTRIBUTES or not value or (name == "value" and tag != "button"):
                continue
            if name != "content" or (tag == "meta" and described):
                self.found.append(value)


def unmarked_text(source: str) -> list[str]:
    """Words in a template outside {% trans %}, _() and ngettext(): its HTML text and read
    attributes, and string literals in its expressions that read like prose."""
    html, found = [], []
    calls: list[str | None] = []  # the function each open bracket belongs to
    in_trans = in_code = False
    previous = None
    for _, kind, value in Environment(extensions=["jinja2.ext.i18n"]).lex(source):
        if kind in ("block_begin", "variable_begin"):
            in_code = True
            html.append(HOLE)
        elif kind in ("block_end", "variable_end"):
            in_code = False
        elif kind == "name" and in_code and value in ("trans", "endtrans") and previous == "block_begin":
            in_trans = value == "trans"
        elif kind == "data" and not in_trans:
            html.append(value)
        elif kind == "operator" and value in "([":
            calls.append(previous_name if previous == "name" else None)
        elif kind == "operator" and value in ")]" and calls:
            calls.pop()
        elif kind == "string" and not in_trans and not (set(calls) & GETTEXT):
            text = value[1:-1]
            if re.search(r"[A-Za-z]{2,}", text) and (" " in text.strip() or text[:1].isupper()) \
                    and not re.search(r"\.(html|css|svg|png)$", text):
                found.append(text)
        if kind != "whitespace":
            previous = kind
            previous_name = value if kind == "name" else None
    parser = _Text()
    parser.feed("".join(html))
    for text in parser.found:
        text = " ".join(text.replace(HOLE, " ").split())
        if re.fullmatch(r'([\w-]+="[^"]*"\s*)+', text):
            continue  # attributes a macro writes out, not text
        if re.search(r"(?<![.\w])[A-Za-z]{2,}", text):  # a word, not a file's extension
            found.append(text)
    return found


ALL_TEMPLATES = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
ALLOWED = {"UTC"}  # a time zone's name is the same in Welsh


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_every_word_a_person_reads_is_marked_for_translation(template):
    left = [t for t in unmarked_text((TEMPLATES / template).read_text()) if t not in ALLOWED]
    assert not left, f"{template}: mark these with {{{{ _(…) }}}} or {{% trans %}}: {left}"


def test_the_template_check_finds_unmarked_words():
    source = ('<h1>{{ _("Marked") }}</h1><p>Not marked</p><a title="Also not" href="/x">{% trans %}Ok'
              '{% endtrans %}</a>{{ ui.stat(n, "points here") }}{{ ngettext("a b", "c d", n) }}')
    assert unmarked_text(source) == ["points here", "Not marked", "Also not"]


# --- Choosing the language ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return small_site(tmp_path_factory.mktemp("i18n") / "hub.sqlite")


def test_english_by_default_with_a_link_to_welsh(site):
    page = site.client().get("/events")
    assert '<html lang="en-GB">' in page.text
    assert ('<a class="header__language" href="/language/cy?next=/events" lang="cy" hreflang="cy" '
            'rel="nofollow">Cymraeg</a>') in page.text


def test_pages_say_they_vary_by_language(site):
    page = site.client().get("/events")
    assert {"Cookie", "Accept-Language"} <= {v.strip() for v in page.headers["vary"].split(",")}
    assert "vary" not in site.client().get("/api/v1/events").headers or \
        "Cookie" not in site.client().get("/api/v1/events").headers["vary"]


def test_the_switcher_remembers_welsh_and_comes_back_to_the_page(site):
    client = site.client()
    chosen = client.get("/language/cy?next=/events%3Fx%3D1", follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/events?x=1"
    assert "turnout_lang=cy" in chosen.headers["set-cookie"] and "Max-Age=31536000" in chosen.headers["set-cookie"]
    page = client.get("/events")
    assert '<html lang="cy">' in page.text and "<h1 class=\"heading-xl\">Digwyddiadau</h1>" in page.text
    assert 'lang="en" hreflang="en" rel="nofollow">English</a>' in page.text
    client.get("/language/en")
    assert '<html lang="en-GB">' in client.get("/events").text


def test_the_browsers_language_counts_until_a_choice_is_made(site):
    client = site.client()
    assert '<html lang="cy">' in client.get("/", headers={"Accept-Language": "cy-GB,en;q=0.5"}).text
    assert '<html lang="en-GB">' in client.get("/", headers={"Accept-Language": "fr,en;q=0.5,cy;q=0.1"}).text
    client.cookies.set("turnout_lang", "en")
    assert '<html lang="en-GB">' in client.get("/", headers={"Accept-Language": "cy"}).text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example", "", "events"])
def test_the_switcher_only_sends_people_back_to_this_site(site, target):
    chosen = site.client().get("/language/cy", params={"next": target}, follow_redirects=False)
    assert chosen.headers["location"] == "/"


def test_an_unknown_language_changes_nothing(site):
    chosen = site.client().get("/language/xx?next=/events", follow_redirects=False)
    assert chosen.status_code == 303 and "set-cookie" not in chosen.headers


@pytest.mark.parametrize("header,expected", [
    ("cy", "cy"), ("en-GB,en;q=0.9", "en"), ("fr, cy;q=0.2", "cy"), ("cy;q=0, en", "en"),
    ("de", None), ("", None), ("cy;q=abc, en", "en"), ("x" * 10_000, None),
])
def test_accept_language(header, expected):
    assert i18n.from_accept_language(header) == expected


# --- Words, dates and numbers -------------------------------------------------------------------

def welsh(function, *args):
    token = i18n._language.set("cy")
    try:
        return function(*args)
    finally:
        i18n._language.reset(token)


def test_dates_and_numbers_in_each_language():
    day = date(2025, 1, 18)
    assert i18n.long_date(day) == "Saturday 18 January 2025"
    assert welsh(i18n.long_date, day) == "Dydd Sadwrn 18 Ionawr 2025"
    assert welsh(i18n.short_date, "2025-03-01") == "1 Maw 2025"
    assert welsh(i18n.month_name, "2025-06") == "Mehefin 2025"
    assert i18n.number(1234.5) == "1,234.5" and welsh(i18n.number, 1234) == "1,234"
    assert i18n.money(12050) == "£120.50" and welsh(i18n.money, 100000) == "£1,000"
    assert welsh(i18n.percent, 0.42) == "42%"


def test_a_welsh_page_says_its_dates_names_and_roles_in_welsh(site):
    client = site.client()
    client.cookies.set("turnout_lang", "cy")
    page = client.get(f"/events/{site.events['spring']}").text
    assert "Dydd Sadwrn 1 Mawrth 2025" in page and "Pwy ddaeth" in page and "Who came" not in page
    assert "Cacen" in page  # Ann's role, in the roles' list
    person = client.get(f"/people/{site.badges['ann']}").text
    assert "Y garreg filltir nesaf" in person and "i gyrraedd Clwb gwirfoddoli 10" in person
