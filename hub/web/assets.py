"""Static files addressed by their content, so browsers may keep them for a year.

Pages link ``{{ static_url('turnout.css') }}``, which is ``/static/turnout.css?v=<8 hex digits of
its SHA-256>``. A request whose ``v`` matches the file as it is now is answered
``Cache-Control: public, max-age=31536000, immutable``; any other (an old page, no ``v``) gets
``no-cache``, so the browser asks again. Changing a file changes its address on every page.
The icons browsers ask for by fixed address (``/favicon.ico``, ``/apple-touch-icon.png``) are
kept for a day.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

FOREVER = "public, max-age=31536000, immutable"
A_DAY = "public, max-age=86400"
FIXED_ADDRESSES = ("favicon.ico", "apple-touch-icon.png")


class Assets:
    """The hashes of the files in one directory, worked out again only when a file changes."""

    def __init__(self, directory: Path, prefix: str = "/static"):
        self.directory = Path(directory)
        self.prefix = prefix
        self._hashes: dict[str, tuple[tuple[int, int], str]] = {}

    def version(self, name: str) -> str | None:
        path = self.directory / name
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        known = self._hashes.get(name)
        if known is None or known[0] != key:
            known = (key, hashlib.sha256(path.read_bytes()).hexdigest()[:8])
            self._hashes[name] = known
        return known[1]

    def url(self, name: str) -> str:
        """The file's address with its version; a template error if there is no such file."""
        version = self.version(name)
        if version is None:
            raise FileNotFoundError(f"no static file {name!r} in {self.directory}")
        return f"{self.prefix}/{name}?v={version}"


class VersionedStaticFiles(StaticFiles):
    """Starlette's StaticFiles, with a cache lifetime that follows the requested version."""

    def __init__(self, assets: Assets):
        super().__init__(directory=str(assets.directory))
        self.assets = assets

    async def get_response(self, path: str, scope: Scope):
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
            current = self.assets.version(os.path.normpath(path))
            response.headers["Cache-Control"] = FOREVER if asked and asked == current else "no-cache"
        return response


def router(assets: Assets) -> APIRouter:
    """The icons at the addresses browsers and phones ask for without being told."""
    icons = APIRouter(include_in_schema=False)

    def icon(name: str):
        async def serve() -> FileResponse:
            return FileResponse(assets.directory / name, headers={"Cache-Control": A_DAY})
        return serve

    for name in FIXED_ADDRESSES:
        icons.add_api_route(f"/{name}", icon(name), methods=["GET"])
    return icons
