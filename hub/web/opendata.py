"""Open data: CSV and JSON downloads with CSVW metadata."""

from __future__ import annotations

from fastapi import APIRouter


def router(store, templates, settings) -> APIRouter:
    return APIRouter(include_in_schema=False)
