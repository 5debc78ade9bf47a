"""Hub-wide settings kept in the database (the admin password hash, the session secret)."""

from __future__ import annotations

from hub.storage.base import StoreBase


class SettingsStore(StoreBase):
    def setting(self, key: str) -> str | None:
        """A hub-wide setting kept in the database (e.g. the admin password hash)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (f"setting:{key}",)).fetchone()
        return row["value"] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key)"
                        " DO UPDATE SET value = excluded.value", (f"setting:{key}", value))
