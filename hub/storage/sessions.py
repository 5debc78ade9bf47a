"""Organisers' admin sessions, kept on the hub so that signing out really ends them.

The browser's cookie carries a random session id; this table keeps only its SHA-256 with when
the session began and when it was last used (Unix seconds, from the caller's clock). Whether
a session is still alive (its lifetime and idle limits) is ``hub.web.security``'s rule; this
store keeps the rows, ends them, and keeps at most a fixed number (bounded storage).
"""

from __future__ import annotations

from hub.storage.base import StoreBase


class SessionsStore(StoreBase):
    def start_session(self, id_hash: str, now: float, keep: int) -> None:
        """A new signed-in session; only the ``keep`` newest sessions stay (the rest end)."""
        with self.db.transaction():
            self.db.execute("INSERT INTO sessions (id_hash, created_at, last_seen) VALUES (?, ?, ?)",
                            (id_hash, now, now))
            self.db.execute("DELETE FROM sessions WHERE id_hash NOT IN"
                            " (SELECT id_hash FROM sessions ORDER BY created_at DESC LIMIT ?)", (keep,))

    def session_times(self, id_hash: str) -> tuple[float, float] | None:
        """(created_at, last_seen) of a session that has not ended, else None."""
        row = self.db.execute("SELECT created_at, last_seen FROM sessions WHERE id_hash = ?",
                              (id_hash,)).fetchone()
        return (row["created_at"], row["last_seen"]) if row else None

    def touch_session(self, id_hash: str, now: float) -> None:
        self.db.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, id_hash))

    def end_session(self, id_hash: str) -> None:
        self.db.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))

    def end_all_sessions(self) -> int:
        """Sign every organiser out (a new admin password); how many sessions ended."""
        return self.db.execute("DELETE FROM sessions").rowcount

    def prune_sessions(self, started_before: float, unused_since: float) -> int:
        """End sessions begun before ``started_before`` or last used before ``unused_since``."""
        return self.db.execute("DELETE FROM sessions WHERE created_at < ? OR last_seen < ?",
                               (started_before, unused_since)).rowcount

    def count_sessions(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
