"""Roles and their points, kept in the database (the rules file gives the clubs)."""

from __future__ import annotations

import secrets

from hub.rules import Rules
from hub.storage.base import StoreBase


class RolesStore(StoreBase):
    def rules(self) -> Rules:
        """The rules file's clubs with the roles and points kept in the database. Roles changed
        by another process (``turnout-hub role set`` beside a running hub) show at once: each
        call looks at a version stamp, one tiny query, and re-reads the roles when it moved."""
        version = self.db.execute("SELECT value FROM meta WHERE key = 'roles_version'").fetchone()
        version = version[0] if version else None
        if self._rules is None or version != self._rules_version:
            rows = self.db.execute("SELECT name, points, hours FROM roles ORDER BY name").fetchall()
            self._rules = self.file_rules.with_roles({r["name"]: r["points"] for r in rows},
                                                      {r["name"]: r["hours"] for r in rows})
            self._rules_version = version
        return self._rules

    def reload_rules(self) -> Rules:
        self._rules = None
        return self.rules()

    def set_role(self, name: str, points: int, hours: float | None = None) -> None:
        from turnout.codes import is_role_name
        if not is_role_name(name):
            raise ValueError(f"role name {name!r} must be lower-case letters, digits, _ or -")
        if points < 0:
            raise ValueError("points cannot be negative")
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO roles (name, points, hours) VALUES (?, ?, ?) ON CONFLICT (name) "
                "DO UPDATE SET points = excluded.points, hours = excluded.hours",
                (name, points, hours if hours is not None else self.rules().hours.get(name, 0)))
            self.db.execute("INSERT INTO meta (key, value) VALUES ('roles_version', ?) ON CONFLICT (key)"
                            " DO UPDATE SET value = excluded.value", (secrets.token_hex(8),))
        self._rules = None
