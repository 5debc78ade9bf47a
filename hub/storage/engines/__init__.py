"""The database engines behind ``hub.storage.database.Database``: SQLite and PostgreSQL."""
