"""People and their badges: registering, blank badges and claiming them, merging two badges."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hub.claims import new_claim_code
from hub.people import CONSENTS, DEFAULT_CONSENT, first_name, less_public, public_name
from hub.storage.base import NotFound, StoreBase, blank_none, utc_now
from hub.storage.database import Row, chunks
from hub.text import one_line
from turnout.codes import badge_code, is_badge
from turnout.i18n import DEFAULT_LANGUAGE, LANGUAGES


@dataclass(frozen=True)
class Person:
    badge: str
    number: int
    name: str | None
    org: str | None = None
    email: str | None = None
    junior: bool = False
    consent: str = DEFAULT_CONSENT
    claimed: bool = False
    created_at: str = ""
    claimed_at: str | None = None
    # An unclaimed badge's, printed on it; None once claimed. Kept out of logs and tracebacks.
    claim_code: str | None = field(default=None, repr=False)
    results_email: bool = False  # opted in to an email after each event they come to
    badge_recipient: str = "email"  # how their credentials name them: RECIPIENT_CHOICES
    language: str = DEFAULT_LANGUAGE  # the language they read: their results emails are in it

    @property
    def public_name(self) -> str | None:
        return public_name(self.name, self.consent) if self.claimed else None

    @property
    def first_name(self) -> str:
        return first_name(self.name) if self.claimed else ""


def _person(row: Row) -> Person:
    return Person(badge=row["badge"], number=row["number"], name=row["name"], org=row["org"],
                  email=row["email"], junior=bool(row["junior"]), consent=row["consent"],
                  claimed=bool(row["claimed"]), created_at=row["created_at"],
                  claimed_at=row["claimed_at"], claim_code=row["claim_code"],
                  results_email=bool(row["results_email"]), badge_recipient=row["badge_recipient"],
                  language=row["language"])


def _clean_name(name: str) -> str:
    name = one_line(name)  # web, command line and import alike: no bidi or invisible characters
    if not name:
        raise ValueError("a person needs a name (a nickname is fine)")
    if len(name) > 100:
        raise ValueError("names are limited to 100 characters")
    return name


def _clean_org(org: str | None) -> str | None:
    return one_line(org) or None if org is not None else None


def _check_results_email(results_email: bool, email: str | None) -> None:
    if results_email and not email:
        raise ValueError("a results email needs an email address (--email)")


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")


def _check_consent(consent: str) -> None:
    if consent not in CONSENTS:
        raise ValueError(f"consent must be one of {', '.join(CONSENTS)}")


# How a person's credentials name them: a salted hash of their email, or their badge page.
RECIPIENT_CHOICES = ("email", "page")


class PeopleStore(StoreBase):
    def add_person(self, name: str, junior: bool = False, org: str | None = None,
                   email: str | None = None, consent: str = DEFAULT_CONSENT,
                   results_email: bool = False, language: str = DEFAULT_LANGUAGE) -> Person:
        """Register someone and give them the next badge number."""
        name = _clean_name(name)
        _check_consent(consent)
        _check_language(language)
        email = blank_none(email)
        _check_results_email(results_email, email)
        now = utc_now()
        with self.db.transaction():
            self.db.lock(["people:numbers"])  # two at once must not take the same number
            number = self._next_number()
            self.db.execute(
                "INSERT INTO people (badge, number, name, org, email, junior, consent, claimed,"
                " created_at, claimed_at, results_email, language) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                (badge_code(number), number, name, _clean_org(org), email,
                 int(junior), consent, now, now, int(results_email), language))
        return self.person(badge_code(number))

    def add_blank_badges(self, count: int) -> list[str]:
        """Badge codes for pre-printed badges, claimed later by whoever is handed one.

        Each gets its own random claim code (``Person.claim_code``), printed on the badge:
        ``/claim`` needs it, so holding the badge, not guessing the next number, is what counts.
        """
        now = utc_now()
        with self.db.transaction():
            self.db.lock(["people:numbers"])
            start = self._next_number()
            codes = [badge_code(n) for n in range(start, start + count)]
            self.db.executemany(
                "INSERT INTO people (badge, number, created_at, claim_code) VALUES (?, ?, ?, ?)",
                [(code, n, now, new_claim_code())
                 for n, code in zip(range(start, start + count), codes)])
        return codes

    def claim(self, badge: str, name: str, junior: bool = False, org: str | None = None,
              email: str | None = None, consent: str = DEFAULT_CONSENT,
              results_email: bool = False, language: str = DEFAULT_LANGUAGE) -> Person:
        """Give a pre-printed (or already scanned) badge to a person. Its earlier scans count now."""
        if not is_badge(badge):
            raise ValueError(f"{badge} is not a valid badge code (check the digits)")
        name = _clean_name(name)
        _check_consent(consent)
        _check_language(language)
        _check_results_email(results_email, blank_none(email))
        now = utc_now()
        with self.db.transaction():
            existing = self.person(badge)
            if existing is not None and existing.claimed:
                raise ValueError(f"badge {badge} is already claimed by {existing.name}")
            if existing is None:  # only badges this hub issued: numbering stays the hub's own
                raise NotFound(f"badge {badge} was not issued by this hub "
                               "(print blank badges with `turnout-hub badges --blank N`)")
            self.db.execute(
                "UPDATE people SET name = ?, org = ?, email = ?, junior = ?, consent = ?, claimed = 1,"
                " claimed_at = ?, claim_code = NULL, results_email = ?, language = ? WHERE badge = ?",
                (name, _clean_org(org), blank_none(email), int(junior), consent, now,
                 int(results_email), language, badge))
            self.refresh_person(badge, award=True)
        return self.person(badge)

    def update_person(self, badge: str, **changes: Any) -> Person:
        """Change a person's details. Consent made less public also forgets their open-data
        pseudonym (``forget_pseudonym``), so later downloads cannot be linked to earlier ones."""
        allowed = {"name", "org", "email", "junior", "consent", "results_email", "badge_recipient",
                   "language"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
        if "consent" in changes:
            _check_consent(changes["consent"])
        if "language" in changes:
            _check_language(changes["language"])
        if "name" in changes:
            changes["name"] = _clean_name(changes["name"])
        if "org" in changes:
            changes["org"] = _clean_org(changes["org"])
        if "junior" in changes:
            changes["junior"] = int(bool(changes["junior"]))
        if "email" in changes:
            changes["email"] = blank_none(changes["email"])
        if "results_email" in changes:
            changes["results_email"] = int(bool(changes["results_email"]))
        if changes.get("badge_recipient", "email") not in RECIPIENT_CHOICES:
            raise ValueError(f"badge_recipient must be one of {', '.join(RECIPIENT_CHOICES)}")
        if not changes:
            return self._person_or_raise(badge)
        with self.db.transaction():
            before = self._person_or_raise(badge)
            _check_results_email(bool(changes.get("results_email", before.results_email)),
                                 changes.get("email", before.email))
            if "consent" in changes and less_public(changes["consent"], before.consent):
                self.forget_pseudonym(badge)
            if changes.get("badge_recipient", before.badge_recipient) != before.badge_recipient:
                self.revoke_credentials([badge], "the person chose another way to be named")
            elif changes.get("email", before.email) != before.email:  # badges name the old one
                self.revoke_credentials([badge], "the person's email address changed")
            sets = ", ".join(f"{k} = ?" for k in changes)
            self.db.execute(f"UPDATE people SET {sets} WHERE badge = ?", (*changes.values(), badge))
            self.refresh_person(badge, award=True)
        return self.person(badge)

    def person(self, badge: str) -> Person | None:
        row = self.db.execute("SELECT * FROM people WHERE badge = ?", (badge,)).fetchone()
        return _person(row) if row else None

    def people(self, claimed: bool | None = True, limit: int | None = None, offset: int = 0,
               org: str | None = None) -> list[Person]:
        """People in badge-number order; ``claimed=None`` includes unclaimed badges too."""
        where, params = [], []
        if claimed is not None:
            where.append("claimed = ?")
            params.append(int(claimed))
        if org is not None:
            where.append("org = ?")
            params.append(org)
        sql = "SELECT * FROM people" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY number"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [_person(r) for r in self.db.execute(sql, params)]

    def count_people(self, claimed: bool | None = True) -> int:
        if claimed is None:
            return self.db.execute("SELECT COUNT(*) FROM people").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM people WHERE claimed = ?",
                               (int(claimed),)).fetchone()[0]

    def _next_number(self) -> int:
        return (self.db.execute("SELECT MAX(number) FROM people").fetchone()[0] or 0) + 1

    def _person_or_raise(self, badge: str) -> Person:
        person = self.person(badge)
        if person is None:
            raise NotFound(f"no badge {badge}")
        return person

    def people_by_badge(self, badges: Iterable[str]) -> dict[str, Person]:
        """The people (claimed or not) holding these badges; unknown badges are left out."""
        people: dict[str, Person] = {}
        for chunk in chunks(list(set(badges))):
            test, params = self.db.dialect.one_of("badge", chunk)
            people.update((r["badge"], _person(r)) for r in self.db.execute(
                f"SELECT * FROM people WHERE {test}", params))
        return people

    def find_people(self, text: str = "", limit: int = 50, offset: int = 0) -> list[Person]:
        """Badges whose code, name, organisation or email contains ``text`` (any case), newest first."""
        sql, params = "SELECT * FROM people", []
        if text:
            like = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sql += (" WHERE LOWER(badge) LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\'"
                    " OR LOWER(org) LIKE ? ESCAPE '\\' OR LOWER(email) LIKE ? ESCAPE '\\'")
            params = [like] * 4
        return [_person(r) for r in self.db.execute(sql + " ORDER BY number DESC LIMIT ? OFFSET ?",
                                                    (*params, limit, offset))]

    def merge_badges(self, keep: str, gone: str) -> Person:
        """Two badges of one person become one: ``gone``'s scans count for ``keep`` from now on.

        ``gone`` keeps its row (so its number is never reused) with no name, and is noted in
        ``merges``; scans it makes later still count for it, so the old badge should be retired.
        """
        if keep == gone:
            raise ValueError("choose two different badges")
        with self.db.transaction():
            self.lock_badges([keep, gone])
            kept, merged = self._person_or_raise(keep), self._person_or_raise(gone)
            if not kept.claimed:
                raise ValueError(f"badge {keep} is not claimed by anyone yet: keep the claimed badge")
            if self.merged_into(keep):
                raise ValueError(f"badge {keep} was itself merged into {self.merged_into(keep)}")
            self.db.execute("UPDATE scans SET badge = ? WHERE badge = ?", (keep, gone))
            self.db.execute("DELETE FROM standings WHERE badge = ?", (gone,))
            self.db.execute("DELETE FROM milestones WHERE badge = ?", (gone,))
            self.db.execute(
                "UPDATE people SET name = NULL, org = NULL, email = NULL, consent = 'hidden',"
                " results_email = 0, claimed = 1, claimed_at = COALESCE(claimed_at, ?), claim_code = NULL"
                " WHERE badge = ?", (utc_now(), gone))
            self.db.execute("INSERT INTO merges (badge, into_badge, merged_at) VALUES (?, ?, ?)",
                            (gone, keep, utc_now()))
            if merged.junior and not kept.junior:
                self.db.execute("UPDATE people SET junior = 1 WHERE badge = ?", (keep,))
            self.refresh_person(keep, award=True)
        return self.person(keep)

    def merged_into(self, badge: str) -> str | None:
        row = self.db.execute("SELECT into_badge FROM merges WHERE badge = ?", (badge,)).fetchone()
        return row["into_badge"] if row else None

    def merged_from(self, badge: str) -> list[str]:
        """The badges that were merged into this one."""
        return [r[0] for r in self.db.execute(
            "SELECT badge FROM merges WHERE into_badge = ? ORDER BY merged_at", (badge,))]
