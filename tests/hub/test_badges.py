"""Milestone badges as Open Badges 3.0 credentials: checked by an independent JOSE library
(PyJWT; the hub signs with joserfc), against 1EdTech's JSON schema, tampered with, revoked
through the Bitstring Status List, and after the signing key is rotated."""

from __future__ import annotations

import io
import json
import re
import warnings
from pathlib import Path
from datetime import date as Date

import jsonschema
import jwt
import pytest
from babel.dates import format_date
from PIL import Image

from hub.badges import credentials as ob
from hub.badges.images import unbaked
from hub.badges.issuer import Issuer
from hub.badges.keys import IssuerKeys
from hub.store import Store
from tests.hub.kiosks import make_scan

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

from hub.web import WebSettings, create_web_app  # noqa: E402

BASE = "http://testserver"
SCHEMA = json.loads((Path(__file__).parents[1] / "data/openbadges/ob_v3p0_achievementcredential_schema.json")
                    .read_text())


def regular(store: Store, events: int = 25, **person) -> tuple[str, list]:
    """Someone who came to ``events`` events (the 25 club at the 25th)."""
    badge = store.add_person(**{"name": "Ada Lovelace", "consent": "full", **person}).badge
    scans = []
    for n in range(events):
        event = store.add_event(f"Camp {n}", f"2025-{1 + n // 28:02d}-{1 + n % 28:02d}").id
        scan = make_scan("door-1", event, badge, seq=n)
        store.insert_scan(scan, "2025-06-01T00:00:00.000Z", "accepted")
        scans.append(scan)
    store.recompute()
    return badge, scans


@pytest.fixture
def hub(hub_db, tmp_path):
    store = Store(hub_db)
    issuer = Issuer(store, BASE, IssuerKeys(tmp_path / "issuer-keys"))  # where the CLI finds them too
    client = TestClient(create_web_app(store, settings=WebSettings(base_url=BASE), issuer=issuer))
    yield store, client
    store.close()


def credentials(client: TestClient, badge: str) -> list[dict]:
    answer = client.get(f"/api/v1/people/{badge}/credentials")
    assert answer.status_code == 200, answer.text
    return answer.json()


def pyjwt_verify(client: TestClient, token: str) -> dict:
    """Verify as an outsider would: the key from the hub's JWK set, by the header's kid, PyJWT."""
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    return jwt.decode(token, key.key, algorithms=["EdDSA"], options={"verify_aud": False})


@pytest.mark.parametrize("recipient", ["email", "page"])
def test_a_milestone_is_an_open_badge_that_pyjwt_verifies_and_the_schema_accepts(hub, recipient):
    store, client = hub
    badge, _ = regular(store, email="ada@example.org")
    store.update_person(badge, badge_recipient=recipient)
    [issued] = credentials(client, badge)
    assert issued["milestone"] == "25 club"
    header = jwt.get_unverified_header(issued["credential"])
    assert header == {"alg": "EdDSA", "kid": header["kid"], "typ": "JWT"}
    assert header["kid"].startswith(f"{BASE}/.well-known/jwks.json#")
    claims = pyjwt_verify(client, issued["credential"])
    errors = sorted(jsonschema.Draft201909Validator(SCHEMA).iter_errors(claims), key=str)
    assert not errors, [e.message for e in errors]
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["iss"] == claims["issuer"]["id"] == f"{BASE}/badges/issuer"
    assert claims["jti"] == claims["id"] and claims["sub"] == claims["credentialSubject"]["id"]
    achievement = claims["credentialSubject"]["achievement"]
    assert achievement["criteria"]["narrative"].startswith("Come to 25 events")
    assert client.get(achievement["image"]["id"].removeprefix(BASE)).headers["content-type"] == "image/png"
    assert claims["evidence"][0]["name"] == "Camp 24"
    status = claims["credentialStatus"]
    assert (status["type"], status["statusPurpose"]) == ("BitstringStatusListEntry", "revocation")
    subject = claims["credentialSubject"]
    if recipient == "page":
        assert subject["id"] == f"{BASE}/people/{badge}" and "identifier" not in subject
    else:
        [identity] = subject["identifier"]
        assert identity["identityHash"] == ob.identity_hash("ada@example.org", identity["salt"])
        assert badge not in json.dumps(claims)  # nothing in it leads to the badge


def test_the_schema_check_can_fail():
    bad = {"@context": [ob.VC_CONTEXT], "id": "x", "type": ["VerifiableCredential"]}
    assert list(jsonschema.Draft201909Validator(SCHEMA).iter_errors(bad))


def test_a_tampered_credential_fails_everywhere(hub):
    store, client = hub
    badge, _ = regular(store)
    token = credentials(client, badge)[0]["credential"]
    head, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["credentialSubject"]["achievement"]["name"] = "Turnout 250 club"
    forged = ".".join([head, jwt.utils.base64url_encode(json.dumps(claims).encode()).decode(), signature])
    with pytest.raises(jwt.InvalidSignatureError):
        pyjwt_verify(client, forged)
    answer = client.post("/api/v1/verify", content=forged).json()
    assert answer["valid"] is False and "signature does not match" in answer["reason"]
    assert client.post("/api/v1/verify", content=token).json()["valid"] is True
    assert client.post("/api/v1/verify", content="not a credential").json()["valid"] is False
    assert client.post("/api/v1/verify", content="x" * 70_000).status_code == 413
    assert client.post("/api/v1/verify", content=b"").status_code == 400


def test_the_verify_page_says_in_plain_words_and_reads_a_baked_badge_image(hub):
    store, client = hub
    badge, _ = regular(store)
    page = client.get(f"/people/{badge}").text
    key = re.search(r"/credentials/([0-9a-f-]{36})\.png", page).group(1)
    assert "linkedin.com/profile/add?" in page
    png = client.get(f"/credentials/{key}.png").content
    token = unbaked(png)
    assert Image.open(io.BytesIO(png)).size == (400, 400) and token.count(".") == 2
    form = client.get("/verify")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    genuine = client.post("/verify", data={"csrf_token": csrf}, files={"file": ("badge.png", png, "image/png")})
    assert "This badge is genuine" in genuine.text and "Ada Lovelace" in genuine.text
    tampered = client.post("/verify", data={"csrf_token": csrf, "credential": token[:-4] + "AAAA"})
    assert "This badge cannot be trusted" in tampered.text and "Not genuine" in tampered.text
    empty = client.post("/verify", data={"csrf_token": csrf, "credential": ""})
    assert empty.status_code == 400
    store.update_person(badge, email="ada@example.org", badge_recipient="email")
    hashed = credentials(client, badge)[0]["credential"]
    for email, says in (("Ada@Example.org", "it was issued to this email address"),
                        ("eve@example.org", "it was issued to another email address")):
        checked = client.post("/verify", data={"csrf_token": csrf, "credential": hashed, "email": email})
        assert "This badge is genuine" in checked.text and says in checked.text


def test_undoing_the_scans_behind_a_milestone_revokes_its_credential_in_the_status_list(hub):
    store, client = hub
    badge, scans = regular(store)
    token = credentials(client, badge)[0]["credential"]
    index = int(pyjwt_verify(client, token)["credentialStatus"]["statusListIndex"])

    def revoked() -> bool:
        status = client.get("/credentials/status/0")
        assert status.headers["content-type"].startswith("application/vc+jwt")
        listed = pyjwt_verify(client, status.text)
        assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
        return ob.bit_is_set(listed["credentialSubject"]["encodedList"], index)

    assert not revoked()
    undo = make_scan("door-1", scans[3].event, badge, annuls=scans[3].id, seq=99)
    store.insert_scan(undo, "2025-06-02T00:00:00.000Z", "accepted")
    store.recompute()
    assert revoked()
    answer = client.post("/api/v1/verify", content=token).json()
    assert answer["valid"] is False and answer["revoked"] is True and "undone" in answer["reason"]
    assert credentials(client, badge) == []


def test_erasure_revokes_and_forgets_the_credentials(hub):
    store, client = hub
    badge, _ = regular(store)
    token = credentials(client, badge)[0]["credential"]
    store.erase_person(badge)
    assert client.get(f"/api/v1/people/{badge}/credentials").status_code == 404
    answer = client.post("/api/v1/verify", content=token).json()
    assert answer["revoked"] is True and "erased" in answer["reason"]
    assert store.db.execute("SELECT COUNT(*) FROM credentials WHERE jws IS NOT NULL").fetchone()[0] == 0


def test_people_not_shown_publicly_have_no_public_credentials(hub):
    store, client = hub
    badge, _ = regular(store, consent="hidden")
    assert client.get(f"/api/v1/people/{badge}/credentials").status_code == 404
    assert "/credentials/" not in client.get(f"/people/{badge}").text


def test_after_a_key_rotation_old_credentials_still_verify_and_new_ones_use_the_new_key(hub, tmp_path):
    from hub.cli import main

    store, client = hub
    badge, _ = regular(store)
    old = credentials(client, badge)[0]["credential"]
    assert main(["--db", str(tmp_path / "hub.sqlite"), "badge-key", "rotate"]) == 0
    assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 2
    assert client.post("/api/v1/verify", content=old).json()["valid"] is True
    pyjwt_verify(client, old)
    store.update_person(badge, badge_recipient="page")  # revokes, and the next is signed anew
    new = credentials(client, badge)[0]["credential"]
    assert jwt.get_unverified_header(new)["kid"] != jwt.get_unverified_header(old)["kid"]
    pyjwt_verify(client, new)
    assert client.post("/api/v1/verify", content=old).json()["revoked"] is True
    key_files = list((tmp_path / "issuer-keys").glob("*.jwk"))
    assert len(key_files) == 2 and all(f.stat().st_mode & 0o777 == 0o600 for f in key_files)


def test_the_verify_page_gives_the_date_in_the_readers_language(hub):
    store, client = hub
    badge, _ = regular(store)
    token = credentials(client, badge)[0]["credential"]
    issued = Date.fromisoformat(pyjwt_verify(client, token)["validFrom"][:10])
    for language, heading, day in (("cy", "Cyhoeddwyd ar", format_date(issued, "EEEE d MMMM y", locale="cy_GB")),
                                   ("en", "Issued on", format_date(issued, "EEEE d MMMM y", locale="en_GB"))):
        client.cookies.set("turnout_lang", language)
        form = client.get("/verify")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        checked = client.post("/verify", data={"csrf_token": csrf, "credential": token}).text
        assert f">{heading}</dt>" in checked and f">{day}</dd>" in checked, checked
    assert "Dydd" in format_date(issued, "EEEE", locale="cy_GB")  # the Welsh check can fail
