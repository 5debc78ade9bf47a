"""The iCalendar feed: upcoming events only, CRLF lines, escaping and folding (RFC 5545)."""

from __future__ import annotations

import pytest

from hub.web.ics import escape_text, fold
from tests.hub.web.sitekit import small_site


@pytest.fixture(scope="module")
def feed(hub_db_shared, tmp_path_factory):
    site = small_site(hub_db_shared)
    response = site.client().get("/events.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    return site, response.content


def unfold(raw: bytes) -> list[str]:
    return raw.decode("utf-8").replace("\r\n ", "").split("\r\n")


def test_every_line_ends_in_crlf_and_fits_75_octets(feed):
    _, raw = feed
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)


def test_only_upcoming_events_with_escaped_text(feed):
    site, raw = feed
    lines = unfold(raw)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == 1 == lines.count("END:VEVENT")
    assert "SUMMARY:Autumn camp\\; with\\, commas" in lines
    assert "LOCATION:Hall\\, Room 2" in lines
    assert "DTSTART;VALUE=DATE:20250920" in lines and "DTEND;VALUE=DATE:20250921" in lines
    assert f"UID:{site.events['future']}@testserver" in lines
    assert any(line.startswith("DTSTAMP:") and line.endswith("Z") for line in lines)
    [description] = [line for line in lines if line.startswith("DESCRIPTION:")]
    assert "Hashtag: #lgcautumn\\n" in description


def test_escaping():
    assert escape_text('a\\b;c,d\ne') == 'a\\\\b\\;c\\,d\\ne'


def test_folding_never_splits_a_character():
    line = "SUMMARY:" + "Café ☕ " * 30
    folded = fold(line)
    pieces = folded.encode("utf-8").split(b"\r\n ")
    assert all(len(p) <= 75 for p in pieces[:1]) and all(len(p) <= 74 for p in pieces[1:])
    assert "".join(p.decode("utf-8") for p in pieces) == line
    assert fold("SHORT:line") == "SHORT:line"
