"""The organiser's settings for one card: a TOML file (what `turnout-hub kiosk add` prints, plus
an optional ``[card]`` table) and flags on top. Every value is checked here, with a message that
names it, before anything is written.

    kiosk_id = "door-1"                 # the kiosk's own settings (/etc/turnout/kiosk.toml)
    broker = "mqtts://hub.example.org:8883"
    broker_username = "door-1"
    broker_password = "…"

    [card]                              # only for the card; never reaches the kiosk
    hostname = "door-1"
    wifi_ssid = "Venue Guest"
    wifi_password = "…"
    wifi_country = "GB"
    admin_user = "organiser"
    admin_ssh_keys = ["ssh-ed25519 AAAA… me@laptop"]
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from imaging.boot_files import KIOSK_USER, Admin, Card, Wifi, hostname_for

WIFI_PASSWORD_ENV = "TURNOUT_WIFI_PASSWORD"  # so the password need not be on a command line
MAX_SETTINGS_BYTES = 64 * 1024

CARD_KEYS = {
    "hostname": str, "wifi_ssid": str, "wifi_password": str, "wifi_country": str,
    "wifi_hidden": bool, "timezone": str, "admin_user": str, "admin_password_hash": str,
    "admin_ssh_keys": list, "camera": bool,
}


class CardError(ValueError):
    """A setting for the card is wrong; the message says which."""


def load_card(path: Path | None, flags: dict[str, Any] | None = None) -> Card:
    """The card for a settings file (None: a card with no kiosk settings) and flags on top."""
    kiosk: dict[str, Any] = {}
    card: dict[str, Any] = {}
    if path is not None:
        kiosk = _read_toml(Path(path))
        card = kiosk.pop("card", {})
        if not isinstance(card, dict):
            raise CardError(f"{path}: [card] should be a table")
    unknown = set(card) - set(CARD_KEYS)
    if unknown:
        raise CardError(f"unknown [card] setting(s): {', '.join(sorted(unknown))} "
                        f"(known: {', '.join(sorted(CARD_KEYS))})")
    for key, value in (flags or {}).items():
        if value is not None:
            card[key] = value
    if card.get("wifi_password") is None and os.environ.get(WIFI_PASSWORD_ENV):
        card["wifi_password"] = os.environ[WIFI_PASSWORD_ENV]
    for key, value in card.items():
        if not isinstance(value, CARD_KEYS[key]):
            raise CardError(f"[card] {key} = {value!r} should be {CARD_KEYS[key].__name__}")

    kiosk_toml = None
    kiosk_id = None
    scanner = ""
    if kiosk:
        kiosk_toml = toml_text(kiosk)
        settings = _checked_kiosk_settings(kiosk_toml)
        kiosk_id, scanner = settings.kiosk_id, settings.scanner
    camera = card.get("camera", scanner.startswith(("picamera2", "v4l2")))
    return Card(
        hostname=_hostname(card.get("hostname") or hostname_for(kiosk_id)),
        instance_id=f"turnout-{hostname_for(kiosk_id)}-{secrets.token_hex(4)}",
        kiosk_toml=kiosk_toml,
        kiosk_id=kiosk_id,
        wifi=_wifi(card),
        admin=_admin(card),
        timezone=_timezone(card.get("timezone", "Europe/London")),
        camera=camera,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CardError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_SETTINGS_BYTES:
        raise CardError(f"{path} is {len(data)} bytes: a kiosk's settings fit in {MAX_SETTINGS_BYTES}")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise CardError(f"{path}: not valid TOML ({exc})") from None


def _checked_kiosk_settings(text: str):
    """The kiosk's own settings, checked by the kiosk's own loader: a card the kiosk would
    refuse at start-up is refused here instead."""
    from kiosk.config import ConfigError, load_settings

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kiosk.toml"
        path.write_text(text)
        try:
            return load_settings(path)
        except ConfigError as exc:
            message = str(exc).replace(str(path), "kiosk settings")
            raise CardError(f"{message} (this Turnout's kiosk would refuse it)") from None


_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_COUNTRY = re.compile(r"[A-Z]{2}")
_TIMEZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}")
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_HASH = re.compile(r"\$[0-9a-z]+\$[!-~]+")  # crypt(3): $6$salt$hash, $y$…; no spaces or ':'
_SSH_KEY = re.compile(r"(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( [ -~]*)?")


def _hostname(name: str) -> str:
    if not _HOSTNAME.fullmatch(name):
        raise CardError(f"hostname {name!r}: use 1-63 lower-case letters, digits and '-'")
    return name


def _wifi(card: dict[str, Any]) -> Wifi | None:
    ssid = card.get("wifi_ssid")
    if ssid is None:
        if card.get("wifi_password") is not None:
            raise CardError("a wi-fi password needs the network's name (wifi_ssid)")
        return None
    if not 1 <= len(ssid.encode()) <= 32 or not ssid.isprintable():
        raise CardError(f"wifi_ssid {ssid!r}: a network name is 1-32 bytes of printable text")
    password = card.get("wifi_password")
    if password is not None and not (8 <= len(password) <= 63 and password.isascii() and password.isprintable()):
        raise CardError("wifi_password: a WPA password is 8-63 printable ASCII characters")
    country = card.get("wifi_country", "GB")
    if not _COUNTRY.fullmatch(country):
        raise CardError(f"wifi_country {country!r}: two capital letters, e.g. GB")
    return Wifi(ssid, password, country, card.get("wifi_hidden", False))


def _admin(card: dict[str, Any]) -> Admin | None:
    name = card.get("admin_user")
    password_hash = card.get("admin_password_hash")
    keys = card.get("admin_ssh_keys", [])
    if name is None:
        if password_hash or keys:
            raise CardError("admin_password_hash and admin_ssh_keys need admin_user")
        return None
    if not _USER.fullmatch(name) or name in (KIOSK_USER, "root"):
        raise CardError(f"admin_user {name!r}: a login name (lower case, not root or {KIOSK_USER})")
    if password_hash is not None and not _HASH.fullmatch(password_hash):
        raise CardError("admin_password_hash: a crypt hash such as `openssl passwd -6` prints ($6$…)")
    for key in keys:
        if not isinstance(key, str) or len(key) > 16384 or not _SSH_KEY.fullmatch(key.strip()):
            raise CardError(f"admin_ssh_keys: {str(key)[:40]!r}… is not one line of an SSH public key")
    if not password_hash and not keys:
        raise CardError(f"admin_user {name}: give admin_password_hash, admin_ssh_keys or both")
    return Admin(name, password_hash, tuple(k.strip() for k in keys))


def _timezone(name: str) -> str:
    if not _TIMEZONE.fullmatch(name):
        raise CardError(f"timezone {name!r}: a name such as Europe/London")
    return name


def toml_text(values: dict[str, Any]) -> str:
    """TOML for a kiosk's settings (text, whole numbers, true/false, lists of text, tables of
    those), read back by tomllib as the same values."""
    plain = [(k, v) for k, v in values.items() if not isinstance(v, dict)]
    tables = [(k, v) for k, v in values.items() if isinstance(v, dict)]
    lines = [f"{_key(k)} = {_value(v)}" for k, v in plain]
    lines += [f"{_key(k)} = {{ " + ", ".join(f"{_key(ik)} = {_value(iv)}" for ik, iv in v.items()) + " }"
              for k, v in tables]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise CardError(f"kiosk setting value {value!r}: only text, numbers, true/false and lists")


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
