"""The iCalendar feed of upcoming events (RFC 5545), written by hand: it is small and exact.

Lines end in CRLF, text values escape backslash, semicolon, comma and newline, and lines longer
than 75 octets are folded (never inside a UTF-8 character). Events are all-day (DATE values):
the hub knows an event's day, not its hours.
"""

from __future__ import annotations

from datetime import date as Date, datetime, timedelta, timezone

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.store import Event, Store


def escape_text(value: str) -> str:
    """TEXT escaping (RFC 5545 3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str, limit: int = 75) -> str:
    """Split a content line into 75-octet pieces joined by CRLF and a space (RFC 5545 3.1)."""
    data = line.encode("utf-8")
    if len(data) <= limit:
        return line
    pieces, start, first = [], 0, True
    while start < len(data):
        size = limit if first else limit - 1  # continuation lines start with a space
        end = min(start + size, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # not inside a character
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start, first = end, False
    return "\r\n ".join(pieces)


def _stamp(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def calendar(events: list[Event], base_url: str, name: str, host: str) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Turnout//Turnout hub//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{escape_text(name)}",
             "REFRESH-INTERVAL;VALUE=DURATION:PT12H"]
    for e in events:
        day = Date.fromisoformat(e.date)
        url = f"{base_url}/events/{e.id}"
        details = [f"Series: {e.series}" if e.series else "",
                   f"Afterwards: {e.after_venue}" if e.after_venue else "",
                   f"Hashtag: {e.hashtag}" if e.hashtag else "",
                   f"Agenda and notes: {e.notes_url}" if e.notes_url else "",
                   f"Details: {url}", "Everyone is welcome. Bring your badge, or get one at the door."]
        lines += ["BEGIN:VEVENT",
                  f"UID:{e.id}@{host}",
                  f"DTSTAMP:{_stamp(e.created_at)}",
                  f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
                  f"SUMMARY:{escape_text(e.name)}"]
        if e.venue:
            lines.append(f"LOCATION:{escape_text(e.venue)}")
        lines += [f"DESCRIPTION:{escape_text(chr(10).join(d for d in details if d))}",
                  f"URL:{url}", "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def router(store: Store, settings) -> APIRouter:
    feed = APIRouter(include_in_schema=False)

    @feed.get("/events.ics")
    def events_ics(request: Request) -> Response:
        base = (settings.base_url or str(request.base_url)).rstrip("/")
        host = base.split("://", 1)[-1].split("/")[0] or "turnout"
        upcoming = store.events(since=settings.now().isoformat())
        return Response(calendar(upcoming, base, f"{settings.service_name} events", host),
                        media_type="text/calendar; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="events.ics"'})

    return feed
