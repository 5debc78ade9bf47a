"""The credentials' proof: a compact JWS (VC-JWT) signed with EdDSA over Ed25519 (joserfc).

Open Badges 3.0 allows only ``alg``, ``kid``, ``jwk`` and ``typ`` in the header; the hub uses
``alg``, ``kid`` (a URI into its JWK set) and ``typ: JWT``. "EdDSA" is the algorithm name every
JOSE library knows; RFC 9864 adds the fully specified "Ed25519", which verification accepts too.
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

ALGORITHM = "EdDSA"
ACCEPTED = ("EdDSA", "Ed25519")
MAX_TOKEN = 64 * 1024  # characters: a credential is a few kilobytes


class NotGenuine(ValueError):
    """Why a credential did not verify, in plain words."""


def sign(claims: dict, key: OKPKey, kid: str) -> str:
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
    with warnings.catch_warnings():  # joserfc warns that RFC 9864 prefers "Ed25519"
        warnings.simplefilter("ignore")
        return jws.serialize_compact({"alg": ALGORITHM, "kid": kid, "typ": "JWT"}, payload, key,
                                     algorithms=[ALGORITHM])


def header_of(token: str) -> dict:
    """The JOSE header, unverified (to find the key)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise NotGenuine("this is not a compact JWS (three parts separated by dots)")
    try:
        header = json.loads(_b64(parts[0]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotGenuine("its header is not readable JSON") from exc
    if not isinstance(header, dict):
        raise NotGenuine("its header is not a JSON object")
    return header


def verify(token: str, key_for: Callable[[str], OKPKey | None]) -> dict:
    """The verified claims, or NotGenuine saying why not. ``key_for(kid)`` finds the public key."""
    token = token.strip()
    if len(token) > MAX_TOKEN:
        raise NotGenuine(f"it is longer than any credential this hub issues ({MAX_TOKEN} characters)")
    header = header_of(token)
    if header.get("alg") not in ACCEPTED:
        raise NotGenuine(f"it is signed with {header.get('alg')!r}, not EdDSA (Ed25519)")
    key = key_for(str(header.get("kid", "")))
    if key is None:
        raise NotGenuine("it was not signed with any key this hub publishes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = jws.deserialize_compact(token, key, algorithms=list(ACCEPTED))
    except (JoseError, ValueError) as exc:
        raise NotGenuine("the signature does not match: it was changed after it was issued, "
                         "or it was not signed by this hub") from exc
    try:
        claims = json.loads(result.payload)
    except ValueError as exc:
        raise NotGenuine("its contents are not JSON") from exc
    if not isinstance(claims, dict):
        raise NotGenuine("its contents are not a credential")
    return claims


def unverified_claims(token: str) -> dict:
    """The payload of a compact JWS as JSON, without checking its signature (for a download of
    a credential the hub itself stored)."""
    return json.loads(_b64(token.split(".")[1]))


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
