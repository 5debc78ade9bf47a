"""Milestone badges on the web: the issuer's keys and profile, each club's achievement and
image, a person's credentials to download, ``/verify`` for anyone, and the JSON API's
``/api/v1/verify`` and ``/api/v1/people/{badge}/credentials``.

The issuer (``hub.badges.issuer``) is ``app.state.issuer``: ``turnout-hub serve`` gives the one
its email worker uses; a bare app makes one for the address in its settings.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from hub.api import API_PREFIX, BadRequestOut, rate_limited, responses
from hub.badges import credentials as ob
from hub.badges.images import baked, club_image, unbaked
from hub.badges.issuer import Issuer, Verification
from hub.badges.keys import IssuerKeys
from hub.badges.proof import MAX_TOKEN, unverified_claims
from hub.store import IssuedCredential, Person, Store
from hub.web.i18n import gettext as _
from hub.web.security import checked_form
from turnout.codes import BADGE_PATTERN

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SLUG_PATTERN = r"^[a-z0-9-]{1,60}$"
MAX_UPLOAD = 2 * 1024 * 1024  # a baked badge image is a few tens of kilobytes
JWT_TYPE = "application/vc+jwt"


class CredentialOut(BaseModel):
    milestone: str = Field(description="the club, e.g. 25 club")
    credential: str = Field(description="the OpenBadgeCredential as a compact JWS (VC-JWT, EdDSA)")


class VerifyOut(BaseModel):
    valid: bool
    reason: str = Field(description="why, in plain words")
    revoked: bool = Field(False, description="genuine, but revoked (Bitstring Status List)")
    credential: dict[str, Any] | None = Field(None, description="what the credential says, once its "
                                                                "signature is checked")


def issuer_of(app: FastAPI, store: Store, settings) -> Issuer:
    issuer = getattr(app.state, "issuer", None)
    if issuer is None:
        issuer = app.state.issuer = Issuer(store, settings.base_url or "http://localhost:8080",
                                           IssuerKeys.beside(store.db.location), settings.service_name)
    return issuer


def shareable(person: Person | None) -> bool:
    """Credentials are listed publicly only for people whose page shows their name."""
    return bool(person and person.claimed and person.public_name)


def linkedin_url(issuer: Issuer, credential: IssuedCredential) -> str:
    """LinkedIn's "add licence or certification" form, filled in."""
    from urllib.parse import urlencode

    key = credential.id.removeprefix("urn:uuid:")
    return "https://www.linkedin.com/profile/add?" + urlencode({
        "startTask": "CERTIFICATION_NAME", "name": f"{issuer.service_name} {credential.milestone}",
        "organizationName": issuer.service_name, "issueYear": credential.reached_on[:4],
        "issueMonth": str(int(credential.reached_on[5:7])),
        "certUrl": f"{issuer.base}/credentials/{key}.json", "certId": credential.id})


def api_router(store: Store, issuer: Issuer) -> APIRouter:
    api = APIRouter(prefix=API_PREFIX, tags=["api v1"], dependencies=[Depends(rate_limited)],
                    responses=responses(400, 429))

    @api.get("/people/{badge}/credentials", response_model=list[CredentialOut],
             responses=responses(404, not_found="no public badge T5724"))
    def credentials(badge: str = Path(pattern=BADGE_PATTERN, examples=["T397"],
                                      description="the badge code")) -> list[CredentialOut]:
        """A person's milestone badges as Open Badges 3.0 credentials (people shown publicly only)."""
        person = store.person(badge)
        if not shareable(person):
            raise HTTPException(404, f"no public badge {badge}")
        return [CredentialOut(milestone=c.milestone, credential=c.jws)
                for c in issuer.credentials_for(person) if c.jws]

    @api.post("/verify", response_model=VerifyOut, responses={413: {
                  "description": "Longer than any credential", "model": VerifyOut}},
              openapi_extra={"requestBody": {"required": True, "description": "the compact JWS",
                                             "content": {"text/plain": {"schema": {
                                                 "type": "string", "minLength": 1, "maxLength": MAX_TOKEN}}}}})
    async def verify(request: Request) -> JSONResponse:
        """Is this credential (a compact JWS in the body) genuine and not revoked? 200 with
        ``valid`` and the reason, whatever the text; 400 for no body, 413 for one too long."""
        body = await _bounded_body(request, MAX_TOKEN + 1)
        if not body:
            problem = "the body must be the credential: a compact JWS, as text"
            return JSONResponse(BadRequestOut(detail=problem, problems=[]).model_dump(), status_code=400)
        if len(body) > MAX_TOKEN:
            return JSONResponse(VerifyOut(valid=False, reason="too long to be a credential").model_dump(),
                                status_code=413)
        result = issuer.verify(body.decode("utf-8", errors="replace"))
        return JSONResponse(_verify_out(result).model_dump())

    return api


def _verify_out(result: Verification) -> VerifyOut:
    return VerifyOut(valid=result.valid, reason=result.reason, revoked=result.revoked,
                     credential=result.claims)


async def _bounded_body(request: Request, limit: int) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) >= limit:
            break
    return body


def router(store: Store, templates: Jinja2Templates, issuer: Issuer) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/.well-known/jwks.json")
    def jwks() -> JSONResponse:
        issuer.keys.current()  # the first visitor finds a key, not an empty set
        return JSONResponse(issuer.keys.jwks(issuer.jwks_url), headers={"Cache-Control": "max-age=300"})

    @pages.get("/badges/issuer")
    def issuer_profile() -> JSONResponse:
        return JSONResponse(ob.issuer_profile(issuer.base, issuer.service_name))

    def club_or_404(slug: str) -> ob.Club:
        club = issuer.club(slug)
        if club is None:
            raise HTTPException(404, "There is no badge with that name.")
        return club

    @pages.get("/badges/achievements/{slug}.png")
    def achievement_image(slug: str) -> Response:
        club = club_or_404(slug)
        return Response(club_image(club, issuer.service_name), media_type="image/png",
                        headers={"Cache-Control": "max-age=86400"})

    @pages.get("/badges/achievements/{slug}")
    def achievement(slug: str) -> JSONResponse:
        return JSONResponse({"@context": [ob.VC_CONTEXT, ob.OB_CONTEXT],
                             **ob.achievement(issuer.base, club_or_404(slug), issuer.service_name)})

    @pages.get("/credentials/status/{number}")
    def status_list(number: int) -> Response:
        if not 0 <= number < 1000:
            raise HTTPException(404, "There is no such status list.")
        return Response(issuer.status_list(number), media_type=JWT_TYPE,
                        headers={"Cache-Control": "no-cache"})

    def issued_or_404(key: str) -> IssuedCredential:
        import re

        found = store.credential(f"urn:uuid:{key}") if re.match(UUID_PATTERN, key) else None
        if found is None or not found.jws:
            raise HTTPException(404, "There is no credential here.")
        return found

    @pages.get("/credentials/{key}.json")
    def credential_json(key: str) -> Response:
        found = issued_or_404(key)
        claims = unverified_claims(found.jws)
        return Response(json.dumps(claims, indent=2, ensure_ascii=False), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{_file(found)}.json"'})

    @pages.get("/credentials/{key}.jwt")
    def credential_jwt(key: str) -> Response:
        found = issued_or_404(key)
        return PlainTextResponse(found.jws, media_type=JWT_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{_file(found)}.jwt"'})

    @pages.get("/credentials/{key}.png")
    def credential_png(key: str) -> Response:
        found = issued_or_404(key)
        club = issuer.clubs().get(found.milestone)
        if club is None:
            raise HTTPException(404, "That club is no longer in the rules.")
        return Response(baked(club_image(club, issuer.service_name), found.jws), media_type="image/png",
                        headers={"Content-Disposition": f'attachment; filename="{_file(found)}.png"'})

    def verify_page(request: Request, result: Verification | None = None, text: str = "",
                    status_code: int = 200, problem: str | None = None, email: str = ""):
        return templates.TemplateResponse(request, "verify.html", {
            "result": result, "text": text, "problem": problem, "email": email,
            "form": {"errors": {"credential": problem} if problem else {}}}, status_code=status_code)

    @pages.get("/verify", response_class=HTMLResponse)
    def verify_form(request: Request):
        return verify_page(request)

    @pages.post("/verify", response_class=HTMLResponse)
    async def verify(request: Request):
        if int(request.headers.get("content-length") or 0) > MAX_UPLOAD:
            return verify_page(request, problem=_("The file is too big to be a badge"), status_code=413)
        form = await checked_form(request)
        text = str(form.get("credential") or "").strip()
        upload = form.get("file")
        if not text and upload is not None and hasattr(upload, "read"):
            data = await upload.read(MAX_UPLOAD + 1)
            text = _token_from_upload(data)
            if text is None:
                return verify_page(request, problem=_("That file has no credential in it: choose the "
                                                      "badge image (PNG) or the .jwt file"), status_code=400)
        if not text:
            return verify_page(request, problem=_("Paste a credential, or choose a badge file"),
                               status_code=400)
        email = str(form.get("email") or "").strip()[:254] or None
        return verify_page(request, issuer.verify(text, email), text=text[:MAX_TOKEN], email=email or "")

    return pages


def _token_from_upload(data: bytes) -> str | None:
    """A compact JWS from an uploaded file: a baked PNG, a .jwt, or a JSON with one inside."""
    if data.startswith(b"\x89PNG"):
        try:
            return unbaked(data)
        except Exception:  # not a PNG after all
            return None
    text = data.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        return parsed.get("credential") if isinstance(parsed, dict) else None
    return text or None


def _file(credential: IssuedCredential) -> str:
    return f"{ob.club_slug(credential.milestone)}-{credential.badge}"


def mount(app: FastAPI, store: Store, templates: Jinja2Templates, settings) -> None:
    issuer = issuer_of(app, store, settings)
    app.include_router(api_router(store, issuer))
    app.include_router(router(store, templates, issuer))
