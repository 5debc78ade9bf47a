"""Open Badges 3.0 as JSON: the issuer profile, one achievement per club, a person's
credential, and the Bitstring Status List that revokes credentials. Pure: no I/O, no keys.

Shapes follow the Open Badges 3.0 specification (1EdTech) on the W3C Verifiable Credentials
Data Model 2.0; the tests check them against 1EdTech's JSON schema for AchievementCredential.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from hub.rules import ATTEND

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
# Bitstring Status List v1.0: at least 16 KB (131,072 bits) per list, so one credential's
# bit does not stand out to whoever fetches the list ("herd privacy").
STATUS_LIST_BITS = 131_072


@dataclass(frozen=True)
class Club:
    """A milestone club as a badge: its name, what it counts and how many."""

    name: str
    kind: str
    target: int


@dataclass(frozen=True)
class Recipient:
    """Who a credential is for: their badge page, or a salted hash of their email (their choice)."""

    page_url: str | None = None
    email: str | None = None
    salt: str = ""

    @classmethod
    def by_email(cls, email: str) -> "Recipient":
        return cls(email=email.strip().lower(), salt=secrets.token_hex(8))


def club_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def issuer_id(base: str) -> str:
    return f"{base}/badges/issuer"


def issuer_profile(base: str, service_name: str, description: str = "") -> dict:
    return {"@context": [VC_CONTEXT, OB_CONTEXT], "id": issuer_id(base), "type": ["Profile"],
            "name": service_name, "url": base + "/",
            "description": description or f"{service_name} counts who turns up and helps at "
                                          "civic unconferences, and awards milestone badges."}


def criteria(club: Club, service_name: str) -> str:
    """What earns the badge, in words (Markdown is allowed; this is plain)."""
    if club.kind == ATTEND:
        return (f"Come to {club.target} events counted by {service_name}: each event counts once, "
                "whatever role the person did there, and undone scans do not count.")
    return (f"Help out at {club.target} events counted by {service_name}: any role besides simply "
            "attending (organising, cake, tidying and so on) counts once per event.")


def achievement(base: str, club: Club, service_name: str) -> dict:
    slug = club_slug(club.name)
    url = f"{base}/badges/achievements/{slug}"
    return {"id": url, "type": ["Achievement"], "achievementType": "Achievement",
            "name": f"{service_name} {club.name}",
            "description": f"Reached the {club.name}: {criteria(club, service_name)}",
            "criteria": {"id": url, "narrative": criteria(club, service_name)},
            "image": {"id": f"{url}.png", "type": "Image", "caption": f"The {club.name} badge"},
            "creator": {"id": issuer_id(base), "type": ["Profile"], "name": service_name}}


def identity_hash(email: str, salt: str) -> str:
    """Open Badges' IdentityHash: sha256$ and the hex digest of the address and the salt."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def status_list_url(base: str, index: int) -> str:
    return f"{base}/credentials/status/{index // STATUS_LIST_BITS}"


def credential(base: str, service_name: str, credential_id: str, club: Club, recipient: Recipient,
               issued_at: datetime, status_index: int, evidence: tuple[str, str] | None = None) -> dict:
    """An OpenBadgeCredential for one club reached. ``evidence`` is the event it was reached at
    (its page URL and name)."""
    subject: dict = {"type": ["AchievementSubject"], "achievement": achievement(base, club, service_name)}
    if recipient.page_url:
        subject["id"] = recipient.page_url
    else:  # no id that would lead to the person: a hash only someone knowing the address can check
        subject["id"] = f"urn:uuid:{_uuid()}"
        subject["identifier"] = [{"type": "IdentityObject", "identityType": "emailAddress",
                                  "hashed": True, "salt": recipient.salt,
                                  "identityHash": identity_hash(recipient.email or "", recipient.salt)}]
    status_url = status_list_url(base, status_index)
    data = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{service_name} {club.name}",
        "issuer": {"id": issuer_id(base), "type": ["Profile"], "name": service_name, "url": base + "/"},
        "validFrom": _timestamp(issued_at),
        "credentialSubject": subject,
        "credentialStatus": {"id": f"{status_url}#{status_index}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(status_index),
                             "statusListCredential": status_url},
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if evidence:
        data["evidence"] = [{"id": evidence[0], "type": ["Evidence"], "name": evidence[1],
                             "narrative": f"The milestone was reached at {evidence[1]}."}]
    return data


def jwt_claims(data: dict, issued_at: datetime) -> dict:
    """The credential as a VC-JWT payload: the credential itself plus the registered claims
    Open Badges 3.0 requires (iss, jti, nbf, sub)."""
    return {**data, "iss": data["issuer"]["id"], "jti": data["id"], "nbf": int(issued_at.timestamp()),
            "sub": data["credentialSubject"]["id"]}


def status_list_credential(base: str, list_number: int, revoked: list[int], issued_at: datetime) -> dict:
    """A BitstringStatusListCredential (revocation) with ``revoked`` (indexes within this list) set."""
    url = f"{base}/credentials/status/{list_number}"
    return {"@context": [VC_CONTEXT], "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer_id(base), "validFrom": _timestamp(issued_at),
            "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                                  "statusPurpose": "revocation", "encodedList": encode_bits(revoked)}}


def encode_bits(set_bits: list[int], size: int = STATUS_LIST_BITS) -> str:
    """Multibase base64url (``u``) of the GZIP-compressed bitstring; bit 0 is the first byte's
    highest bit, as Bitstring Status List v1.0 says."""
    raw = bytearray(size // 8)
    for index in set_bits:
        raw[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(raw), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def bit_is_set(encoded: str, index: int) -> bool:
    if not encoded.startswith("u"):
        raise ValueError("the status list is not multibase base64url")
    text = encoded[1:]
    raw = gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    if index // 8 >= len(raw):
        raise ValueError("the status list is shorter than the credential's index")
    return bool(raw[index // 8] & (0x80 >> (index % 8)))


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())
