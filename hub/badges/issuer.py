"""The hub as an Open Badges issuer: each club a person reached becomes a signed credential
(issued the first time it is asked for, then kept), revoked when the club is lost, and any
credential can be checked against the hub's keys and status list.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from hub.badges import credentials as ob
from hub.badges.keys import IssuerKeys
from hub.badges.proof import NotGenuine, sign, verify
from hub.store import IssuedCredential, Person, Store
# The reader's language (the request's, on /verify and the API): words and dates in it.
from hub.web.i18n import gettext as _, long_date

log = logging.getLogger("turnout.hub.badges")


@dataclass(frozen=True)
class Verification:
    """What checking a credential found, for people (``reason``) and programs."""

    valid: bool
    reason: str
    claims: dict | None = None
    revoked: bool = False
    facts: dict[str, str] = field(default_factory=dict)  # what it says, in words


class Issuer:
    def __init__(self, store: Store, base_url: str, keys: IssuerKeys, service_name: str = "Turnout"):
        self.store = store
        self.base = base_url.rstrip("/")
        self.keys = keys
        self.service_name = service_name

    @property
    def jwks_url(self) -> str:
        return f"{self.base}/.well-known/jwks.json"

    def clubs(self) -> dict[str, ob.Club]:
        rules = self.store.rules()
        return {m.name: ob.Club(m.name, m.kind, m.target) for m in rules.milestones(junior=True)}

    def club(self, slug: str) -> ob.Club | None:
        return next((c for c in self.clubs().values() if ob.club_slug(c.name) == slug), None)

    def page_url(self, badge: str) -> str:
        return f"{self.base}/people/{badge}"

    def credentials_for(self, person: Person) -> list[IssuedCredential]:
        """A live credential for each club the person holds now (issuing any not yet issued)."""
        self.store.revoke_lapsed()
        clubs = self.clubs()
        for name, reached in sorted(self.store.awarded(person.badge).items()):
            club = clubs.get(name) or ob.Club(name, reached.kind, reached.target)
            self._issue(person, club, reached.reached_on, reached.event)
        return self.store.live_credentials(person.badge)

    def _issue(self, person: Person, club: ob.Club, reached_on: str, event_id: str) -> IssuedCredential:
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        event = self.store.event(event_id)
        evidence = (f"{self.base}/events/{event_id}", event.name) if event else None
        if person.badge_recipient == "email" and person.email:
            recipient = ob.Recipient.by_email(person.email)
        else:
            recipient = ob.Recipient(page_url=self.page_url(person.badge))

        def signed(index: int, issued_at: str) -> str:
            when = datetime.fromisoformat(issued_at.replace("Z", "+00:00"))
            data = ob.credential(self.base, self.service_name, credential_id, club, recipient, when,
                                 index, evidence)
            key = self.keys.current()
            return sign(ob.jwt_claims(data, when), key, f"{self.jwks_url}#{key.thumbprint()}")

        issued = self.store.issue_credential(credential_id, person.badge, club.name, reached_on, signed)
        if issued.id == credential_id:
            log.info("issued the %s credential to badge %s", club.name, person.badge)
        return issued

    def status_list(self, list_number: int) -> str:
        """The revocation status list (a BitstringStatusListCredential) as a signed VC-JWT."""
        self.store.revoke_lapsed()
        start = list_number * ob.STATUS_LIST_BITS
        revoked = [i - start for i in self.store.revoked_indexes(start, start + ob.STATUS_LIST_BITS)]
        now = datetime.now(timezone.utc).replace(microsecond=0)
        data = ob.status_list_credential(self.base, list_number, revoked, now)
        claims = {**data, "iss": data["issuer"], "jti": data["id"], "nbf": int(now.timestamp()),
                  "sub": data["credentialSubject"]["id"]}
        key = self.keys.current()
        return sign(claims, key, f"{self.jwks_url}#{key.thumbprint()}")

    def _key_for(self, kid: str):
        prefix = self.jwks_url + "#"
        return self.keys.public_key(kid[len(prefix):]) if kid.startswith(prefix) else None

    def verify(self, token: str, email: str | None = None) -> Verification:
        """Is this credential genuine, and still valid? In plain words either way. With
        ``email``, also whether a credential naming its recipient by email hash names this one."""
        try:
            claims = verify(token, self._key_for)
        except NotGenuine as exc:
            return Verification(False, _("Not genuine: %(why)s.") % {"why": exc})
        types = claims.get("type") or []
        if "OpenBadgeCredential" not in types and "AchievementCredential" not in types:
            return Verification(False, _("Signed by this hub, but it is not a badge credential."), claims)
        if claims.get("iss") != ob.issuer_id(self.base):
            return Verification(False, _("Signed with this hub's key but naming another issuer."), claims)
        facts = self.facts(claims, email)
        self.store.revoke_lapsed()
        issued = self.store.credential(str(claims.get("jti") or claims.get("id")))
        if issued is None:
            return Verification(False, _("Signed by this hub, but the hub has no record of issuing it."),
                                claims, facts=facts)
        if issued.revoked_at:
            return Verification(False, _("Genuine, but revoked on %(day)s: %(why)s.") % {
                                    "day": long_date(issued.revoked_at), "why": issued.revoked_why}, claims, revoked=True, facts=facts)
        return Verification(True, _("Genuine: %(service)s issued this badge and has not revoked "
                                  "it.") % {"service": self.service_name}, claims, facts=facts)

    def facts(self, claims: dict, email: str | None = None) -> dict[str, str]:
        """What a credential says, in words: the badge, for whom, when, and by whom."""
        subject = claims.get("credentialSubject") or {}
        achievement = subject.get("achievement") or {}
        facts = {_("Badge"): str(achievement.get("name", claims.get("name", ""))),
                 _("What it takes"): str((achievement.get("criteria") or {}).get("narrative", "")),
                 _("Issued by"): str((claims.get("issuer") or {}).get("name", "")),
                 _("Issued on"): _issued_on(claims.get("validFrom"))}
        page = str(subject.get("id", ""))
        prefix = f"{self.base}/people/"
        if page.startswith(prefix):
            person = self.store.person(page[len(prefix):])
            who = person.public_name if person and person.public_name else _("the person with this badge page")
            facts[_("For")] = f"{who} ({page})"
        elif subject.get("identifier"):
            facts[_("For")] = _("the person with the email address it was issued to (kept as a salted hash)")
            if email:
                matches = any(ob.identity_hash(email, str(i.get("salt", ""))) == i.get("identityHash")
                              for i in subject["identifier"] if isinstance(i, dict))
                facts[_("For")] = (_("%(email)s: it was issued to this email address") if matches else
                                   _("not %(email)s: it was issued to another email address")) % {
                                       "email": email.strip()}
        for evidence in claims.get("evidence") or []:
            facts[_("Reached at")] = str(evidence.get("name", ""))
        return facts


def _issued_on(valid_from) -> str:
    """The credential's day in the reader's words; as it is written if it is not a date."""
    try:
        return long_date(str(valid_from))
    except ValueError:
        return str(valid_from or "")[:40]
