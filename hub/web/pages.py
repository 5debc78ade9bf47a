"""The public pages: home, events, people, leaderboards, impact, privacy."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hub.store import Store


def router(store: Store, templates: Jinja2Templates, settings) -> APIRouter:
    pages = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)

    @pages.get("/")
    def home(request: Request):
        return templates.TemplateResponse(request, "home.html", {})

    return pages
