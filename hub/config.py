"""The hub's settings: one dataclass, loaded from TOML, with defaults that suit a single Pi.

    # hub.toml
    db = "/var/lib/turnout/hub.sqlite"   # or "postgresql://turnout@db-host/turnout"
    broker = "mqtt://127.0.0.1:1883"
    http = "0.0.0.0:8080"
    rules = "/etc/turnout/rules.toml"

Command-line options override the file; ``TURNOUT_HUB_CONFIG`` and ``TURNOUT_HUB_DB`` name
the file and the database when no option does.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from platformdirs import user_data_dir

from turnout.protocol import DEFAULT_BASE_TOPIC


def default_db_path() -> Path:
    return Path(user_data_dir("turnout", appauthor=False)) / "hub.sqlite"


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

    @property
    def db_path(self) -> str:
        return self.db or os.environ.get("TURNOUT_HUB_DB") or str(default_db_path())

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
    known = {f.name for f in fields(HubConfig)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{path}: unknown settings {', '.join(sorted(unknown))}")
    return HubConfig(**data)
