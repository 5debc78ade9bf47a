"""Broker addresses as URLs: ``mqtt://user:password@host:1883`` or ``mqtts://host:8883``. Pure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

MQTT_PORT, MQTTS_PORT = 1883, 8883


@dataclass(frozen=True)
class BrokerURL:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> "BrokerURL":
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"broker URL must start mqtt:// or mqtts://, not {url!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        if not parts.hostname:
            raise ValueError(f"broker URL has no host: {url!r}")
        return cls(host=parts.hostname, port=parts.port or (MQTTS_PORT if tls else MQTT_PORT), tls=tls,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)

    def __str__(self) -> str:  # never shows the password: this goes into logs
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"

    def with_credentials(self, username: str | None, password: str | None) -> "BrokerURL":
        """These credentials instead of the URL's, where given (the settings file's win)."""
        if not username:
            return self
        return replace(self, username=username, password=password or self.password)


def broker_for_card(configured: BrokerURL, hub: str) -> BrokerURL:
    """The broker a set-up card's ``host[:port]`` points this kiosk at. Rule: a card never
    weakens the link. It names a host, never a scheme: a kiosk configured for mqtts:// stays on
    TLS (port 8883 unless the card gives one), and the configured credentials go only to the
    configured host, never to one a card named."""
    parts = urlsplit(hub if "://" in hub else f"//{hub}")  # "mqtt://host:port" was saved once
    if not parts.hostname or parts.username or parts.password or parts.path:
        raise ValueError(f"not a hub address: {hub!r}")
    host, port = parts.hostname, parts.port  # .port raises ValueError when out of range
    same_host = host == configured.host.lower()
    return BrokerURL(host=host, port=port or (MQTTS_PORT if configured.tls else MQTT_PORT),
                     tls=configured.tls,
                     username=configured.username if same_host else None,
                     password=configured.password if same_host else None)
