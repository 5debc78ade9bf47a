"""Open Badges credentials the hub has issued, and their revocation (Bitstring Status List).

A credential is live while its club stays awarded: ``revoke_lapsed`` revokes any whose club an
undo (or a recompute) took away, erasure revokes and forgets a person's, and each credential's
``status_index`` is its bit in the published status list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hub.storage.base import StoreBase, utc_now
from hub.storage.database import marks


@dataclass(frozen=True)
class IssuedCredential:
    id: str
    badge: str
    milestone: str
    reached_on: str
    status_index: int
    issued_at: str
    jws: str | None
    revoked_at: str | None = None
    revoked_why: str | None = None


def _credential(row) -> IssuedCredential:
    return IssuedCredential(**{k: row[k] for k in row.keys()})


class CredentialsStore(StoreBase):
    def issue_credential(self, credential_id: str, badge: str, milestone: str, reached_on: str,
                         sign: Callable[[int, str], str]) -> IssuedCredential:
        """Record a new credential; ``sign(status_index, issued_at)`` makes its compact JWS
        (the index is chosen here, in the same transaction, so no two credentials share one)."""
        with self.db.transaction():
            live = self.db.execute("SELECT * FROM credentials WHERE badge = ? AND milestone = ?"
                                   " AND revoked_at IS NULL", (badge, milestone)).fetchone()
            if live is not None:
                return _credential(live)
            index = self.db.execute("SELECT COALESCE(MAX(status_index), -1) + 1 FROM credentials"
                                    ).fetchone()[0]
            now = utc_now()
            self.db.execute("INSERT INTO credentials (id, badge, milestone, reached_on, status_index,"
                            " issued_at, jws) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (credential_id, badge, milestone, reached_on, index, now,
                             sign(index, now)))
        return self.credential(credential_id)

    def credential(self, credential_id: str) -> IssuedCredential | None:
        row = self.db.execute("SELECT * FROM credentials WHERE id = ?", (credential_id,)).fetchone()
        return _credential(row) if row else None

    def live_credentials(self, badge: str) -> list[IssuedCredential]:
        return [_credential(r) for r in self.db.execute(
            "SELECT * FROM credentials WHERE badge = ? AND revoked_at IS NULL ORDER BY issued_at, id",
            (badge,))]

    def credentials_of(self, badge: str) -> list[IssuedCredential]:
        """Every credential issued to a badge, revoked ones too (for the person's data download)."""
        return [_credential(r) for r in self.db.execute(
            "SELECT * FROM credentials WHERE badge = ? ORDER BY issued_at, id", (badge,))]

    def revoke_credentials(self, badges: list[str], why: str, forget: bool = False) -> int:
        """Revoke these badges' live credentials; ``forget`` also drops the signed text (it
        names the person by their email's hash or their page)."""
        if not badges:
            return 0
        in_list = marks(badges)
        count = self.db.execute(
            f"UPDATE credentials SET revoked_at = ?, revoked_why = ? WHERE revoked_at IS NULL"
            f" AND badge IN ({in_list})", (utc_now(), why, *badges)).rowcount
        if forget:
            self.db.execute(f"UPDATE credentials SET jws = NULL WHERE badge IN ({in_list})", badges)
        return count

    def revoke_lapsed(self) -> int:
        """Revoke credentials whose club is no longer awarded (the scans behind it were undone,
        or the badge was merged into another)."""
        return self.db.execute(
            "UPDATE credentials SET revoked_at = ?, revoked_why = 'the scans behind it were undone'"
            " WHERE revoked_at IS NULL AND NOT EXISTS (SELECT 1 FROM milestones m"
            " WHERE m.badge = credentials.badge AND m.name = credentials.milestone)",
            (utc_now(),)).rowcount

    def revoked_indexes(self, start: int, stop: int) -> list[int]:
        """The status-list bits to set: revoked credentials with an index in [start, stop)."""
        return [r[0] for r in self.db.execute(
            "SELECT status_index FROM credentials WHERE revoked_at IS NOT NULL"
            " AND status_index >= ? AND status_index < ?", (start, stop))]
