"""The iCalendar feed of upcoming events."""

from __future__ import annotations

from fastapi import APIRouter


def router(store, settings) -> APIRouter:
    return APIRouter(include_in_schema=False)
