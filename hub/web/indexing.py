"""What search engines are told: ``/robots.txt`` and ``/sitemap.xml``.

The public pages (events, results, leaderboards, impact, open data, registering) may be
indexed. The organisers' admin, the privacy pages and a person's new badge may not: robots.txt
asks crawlers to stay out and ``hub.headers`` marks those responses ``X-Robots-Tag: noindex``
for any that come anyway. The sitemap lists the public pages and every event; people's own
pages are left out (they are public by each person's choice, but the hub does not hand
search engines a list of people).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from hub.reports import Reports

# Not to be indexed: each prefix and everything under it.
NOINDEX = ("/admin", "/privacy", "/badges", "/api", "/metrics", "/language", "/credentials",
           "/unsubscribe")
# Public pages with fixed addresses, for the sitemap (events are added one by one).
PUBLIC_PAGES = ("/", "/events", "/leaderboard", "/impact", "/data", "/register", "/claim")


def base_of(request: Request, settings) -> str:
    return (settings.base_url or str(request.base_url)).rstrip("/")


def robots_txt(base: str) -> str:
    lines = ["User-agent: *", *(f"Disallow: {p}" for p in NOINDEX), "Allow: /", "",
             f"Sitemap: {base}/sitemap.xml"]
    return "\n".join(lines) + "\n"


def sitemap_xml(base: str, event_ids: list[str]) -> str:
    paths = [*PUBLIC_PAGES, *(f"/events/{e}" for e in event_ids)]
    urls = "".join(f"<url><loc>{escape(base + p)}</loc></url>\n" for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n")


def router(settings, reports: Reports) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/robots.txt")
    def robots(request: Request) -> Response:
        return PlainTextResponse(robots_txt(base_of(request, settings)))

    @pages.get("/sitemap.xml")
    def sitemap(request: Request) -> Response:
        ids = [e.id for e in reports.events()]
        return Response(sitemap_xml(base_of(request, settings), ids),
                        media_type="application/xml")

    return pages
