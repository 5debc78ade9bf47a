"""The hub's settings: one dataclass, loaded from TOML, with defaults that suit a single Pi.

    # hub.toml
    db = "/var/lib/turnout/hub.sqlite"   # or "postgresql://turnout@db-host/turnout"
    broker = "mqtt://127.0.0.1:1883"
    http = "0.0.0.0:8080"
    rules = "/etc/turnout/rules.toml"
    public_url = "https://turnout.example.org"  # links in emails, and the badges' issuer

    [email]                      # results emails (docs/email.md); without it: a Maildir
    smtp = "smtp://mail.example.org:587"   # STARTTLS; smtps://HOST:465 for TLS from the start
    username = "turnout"
    password = "..."
    sender = "Turnout <turnout@example.org>"

Command-line options override the file; ``TURNOUT_HUB_CONFIG`` and ``TURNOUT_HUB_DB`` name
the file and the database when no option does.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from platformdirs import user_data_dir

from turnout.protocol import DEFAULT_BASE_TOPIC


def data_directory(database: str | Path) -> Path:
    """Where the hub keeps its files besides the database (the badges' signing keys, the
    Maildir): the SQLite file's directory, or the user data directory beside PostgreSQL."""
    text = str(database)
    if text.startswith(("postgres://", "postgresql://")):
        return Path(user_data_dir("turnout", appauthor=False))
    return Path(text.removeprefix("sqlite:")).resolve().parent


def default_db_path() -> Path:
    return Path(user_data_dir("turnout", appauthor=False)) / "hub.sqlite"


@dataclass(frozen=True)
class EmailSettings:
    """Where results emails go: an SMTP server, or (no ``smtp``) a Maildir to open them from."""

    smtp: str = ""  # smtp://HOST:PORT (STARTTLS when offered) or smtps://HOST:PORT (TLS)
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = "Turnout <turnout@localhost>"
    maildir: str = ""  # empty: "mail" beside the database
    ca_file: str = ""  # PEM certificates to trust for the server (empty: the system's)
    starttls: bool = True  # smtp:// only: refuse to send in the clear when the server offers none
    max_attempts: int = 8  # tries before an email is given up (backing off to an hour apart)

    def __post_init__(self) -> None:
        if self.smtp and not self.smtp.startswith(("smtp://", "smtps://")):
            raise ValueError(f"[email] smtp must be smtp://HOST:PORT or smtps://HOST:PORT, not {self.smtp!r}")


@dataclass(frozen=True)
class HubConfig:
    db: str = ""  # a SQLite path or a postgresql:// URL; empty: TURNOUT_HUB_DB, else the user's data directory
    broker: str = "mqtt://127.0.0.1:1883"
    http: str = "127.0.0.1:8080"
    base_topic: str = DEFAULT_BASE_TOPIC
    client_id: str = "turnout-hub"
    rules: str = ""  # empty: the built-in rules.default.toml
    max_batch: int = 500
    log_level: str = "INFO"
    broker_dir: str = ""  # what `broker-config` wrote: the hub's login, kiosk logins, the ACL
    # Proxies whose X-Forwarded-Proto/-For the web server believes (uvicorn's forwarded_allow_ips):
    # addresses or networks, comma-separated, "*" for any. Only then is a page known to be HTTPS.
    trusted_proxies: str = "127.0.0.1"
    # The address people reach the hub at: links in emails, and the badges' issuer id. Empty:
    # http://HOST:PORT from `http`.
    public_url: str = ""
    email: EmailSettings = field(default_factory=EmailSettings)

    @property
    def db_path(self) -> str:
        return self.db or os.environ.get("TURNOUT_HUB_DB") or str(default_db_path())

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host, port = self.http_host_port
        return f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}"

    @property
    def http_host_port(self) -> tuple[str, int]:
        host, _, port = self.http.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"--http wants HOST:PORT, not {self.http!r}")
        return host.strip("[]"), int(port)

    def with_options(self, **options: object) -> "HubConfig":
        """Override with whichever command-line options were given (None means not given)."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})


def load_config(path: str | Path | None = None) -> HubConfig:
    path = path or os.environ.get("TURNOUT_HUB_CONFIG")
    if not path:
        return HubConfig()
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    data = data.get("hub", data)
    data = dict(data)
    email = data.pop("email", {})
    for settings, table in ((data, HubConfig), (email, EmailSettings)):
        unknown = set(settings) - {f.name for f in fields(table)}
        if unknown:
            raise ValueError(f"{path}: unknown settings {', '.join(sorted(unknown))}")
    return HubConfig(**data, email=EmailSettings(**email))
