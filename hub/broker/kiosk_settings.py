"""What a kiosk is told when its login is made: its settings as TOML, or as a login card."""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from hub.broker.accounts import BrokerAccounts, _quote
from turnout.codes import LoginCard


@dataclass(frozen=True)
class KioskLogin:
    kiosk_id: str
    broker: str
    username: str
    password: str = field(repr=False)
    ca_pem: str | None = None  # the CA certificate kiosks pin (a self-made CA), PEM

    def to_toml(self) -> str:
        """Lines for the kiosk's /etc/turnout/kiosk.toml (the kiosk's own setting names)."""
        lines = [f"kiosk_id = {_quote(self.kiosk_id)}", f"broker = {_quote(self.broker)}",
                 f"broker_username = {_quote(self.username)}",
                 f"broker_password = {_quote(self.password)}"]
        if self.ca_pem:
            lines.append(f'broker_ca = """\n{self.ca_pem.strip()}\n"""')
        return "\n".join(lines) + "\n"

    def card(self) -> LoginCard:
        ca = None
        if self.ca_pem:  # DER in base64url: a third shorter than PEM, so the QR code stays small
            ca = base64.urlsafe_b64encode(ssl.PEM_cert_to_DER_cert(self.ca_pem)).decode().rstrip("=")
        return LoginCard(self.kiosk_id, self.broker, self.username, self.password, ca)


def kiosk_settings(accounts: BrokerAccounts, kiosk_id: str, password: str) -> KioskLogin:
    broker, ca_file = accounts.for_kiosks()
    ca_pem = Path(ca_file).read_text() if ca_file else None
    return KioskLogin(kiosk_id, broker, kiosk_id, password, ca_pem)
