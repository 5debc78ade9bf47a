"""Kiosk settings: one dataclass, loaded from TOML (``/etc/turnout/kiosk.toml`` on a Pi),
with command-line flags on top. Defaults match the wiring in hardware.md."""

from __future__ import annotations

import base64
import gettext
import re
import ssl
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, NamedTuple

from turnout.broker_url import BrokerURL, broker_for_card
from turnout.codes import LoginCard
from turnout.i18n import LANGUAGES, N_, translations

DEFAULT_CONFIG_PATH = Path("/etc/turnout/kiosk.toml")
DEFAULT_ROLES = ("attend", "pitch", "cake", "tidy", "organise")
DEFAULT_ROLE_LABELS = {
    "attend": N_("Attend"), "pitch": N_("Pitch"), "cake": N_("Cake"), "tidy": N_("Tidy"),
    "organise": N_("Organise"),
}
# BCM GPIO numbers, as wired in hardware.md.
DEFAULT_BUTTON_PINS = {"pitch": 5, "cake": 6, "tidy": 13, "organise": 19}
DEFAULT_LED_PINS = {"pitch": 12, "cake": 16, "tidy": 20, "organise": 21}
DEFAULT_BUZZER_PIN = 18
# MQTT forbids wildcards and NUL in a topic published to: paho would raise on every scan.
_BASE_TOPIC = re.compile(r"[^+#\x00]{1,100}")


class ConfigError(ValueError):
    """The configuration file or flags are wrong; the message says which setting."""


@dataclass(frozen=True)
class Settings:
    kiosk_id: str = "kiosk-1"
    event: str | None = None  # the hub's retained config overrides this once it arrives
    event_name: str | None = None
    data_dir: Path = Path("/var/lib/turnout")
    broker: str = "mqtt://localhost:1883"
    broker_username: str | None = None
    broker_password: str | None = None
    broker_ca: str | None = None  # the CA to pin for mqtts: a PEM file's path, or the PEM itself
    base_topic: str = "turnout"
    scanner: str = "hid"  # hid | hid:/dev/input/... | stdin | images:DIR | picamera2 | v4l2:/dev/videoN
    display: str = "ssd1306"  # ssd1306 | sh1106 | none
    i2c_port: int = 1
    i2c_address: int = 0x3C
    buzzer: str = "passive"  # passive (TonalBuzzer) | active (Buzzer) | none
    buzzer_pin: int = DEFAULT_BUZZER_PIN
    roles: tuple[str, ...] = DEFAULT_ROLES
    role_labels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ROLE_LABELS))
    button_pins: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_BUTTON_PINS))
    led_pins: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_LED_PINS))
    language: str = "en"  # what the screen says: en (English) | cy (Cymraeg, Welsh)
    sim: bool = False
    from_flags: frozenset[str] = frozenset()  # settings given on the command line

    def label(self, role: str) -> str:
        """The role's name on the screen: role_labels' (in the kiosk's language when it is one
        of the defaults), else the role name itself."""
        label = self.role_labels.get(role) or role.replace("_", " ").capitalize()
        return self.words().gettext(label) if label == DEFAULT_ROLE_LABELS.get(role) else label

    def words(self) -> gettext.NullTranslations:
        """The kiosk catalogue in ``language`` (the standard library's gettext, no Babel)."""
        return translations("kiosk", self.language)

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "kiosk.db"

    def configured_broker(self) -> BrokerURL:
        """`broker` (a --broker flag or the file), with the file's credentials if it has any."""
        return BrokerURL.parse(self.broker).with_credentials(self.broker_username, self.broker_password)

    def with_login(self, login: LoginCard | None) -> "Settings":
        """The kiosk id and broker login a login card gave (kept in kiosk.db) over the file's;
        flags on the command line still win."""
        if login is None:
            return self
        changes: dict[str, Any] = {"broker_username": login.username, "broker_password": login.password}
        if "kiosk_id" not in self.from_flags:
            changes["kiosk_id"] = login.kiosk_id
        if "broker" not in self.from_flags:
            changes["broker"] = login.broker
        if login.ca:
            der = base64.urlsafe_b64decode(login.ca + "=" * (-len(login.ca) % 4))
            changes["broker_ca"] = ssl.DER_cert_to_PEM_cert(der)
        return replace(self, **changes)

    def broker_to_use(self, card_hub: str | None) -> BrokerURL:
        """A --broker flag; else the hub a set-up card named (``card_hub``, saved by the kiosk),
        reached as broker_for_card says; else `broker`."""
        if card_hub and "broker" not in self.from_flags:
            return broker_for_card(self.configured_broker(), card_hub)
        return self.configured_broker()


_TOML_KEYS = {f.name for f in fields(Settings)} - {"sim", "from_flags"}

def _is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class _Kind(NamedTuple):
    words: str  # what the error message says the setting should be
    holds: Callable[[Any], bool]


_TEXT = _Kind("text (in quotes)", lambda v: isinstance(v, str))
_NUMBER = _Kind("a whole number, 0 or more", _is_number)
_TEXTS = _Kind("a list of role names", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))
_LABELS = _Kind('a table of role = "label"',
                lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()))
_PINS = _Kind("a table of role = GPIO number", lambda v: isinstance(v, dict) and all(map(_is_number, v.values())))
# What each TOML setting must hold.
_KINDS = {
    "kiosk_id": _TEXT, "event": _TEXT, "event_name": _TEXT, "data_dir": _TEXT, "broker": _TEXT,
    "broker_username": _TEXT, "broker_password": _TEXT, "broker_ca": _TEXT, "base_topic": _TEXT, "scanner": _TEXT,
    "display": _TEXT, "buzzer": _TEXT, "i2c_port": _NUMBER, "i2c_address": _NUMBER,
    "buzzer_pin": _NUMBER, "roles": _TEXTS, "role_labels": _LABELS, "button_pins": _PINS,
    "led_pins": _PINS, "language": _TEXT,
}


def _check_types(values: dict[str, Any], path: Path) -> None:
    """TOML has its own types: say which setting is wrong rather than fail later."""
    for key, value in values.items():
        kind = _KINDS[key]
        if not kind.holds(value):
            shown = str(value).lower() if isinstance(value, bool) else repr(value)
            raise ConfigError(f"{path}: {key} = {shown} should be {kind.words}")


def load_settings(path: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    """Settings from a TOML file (missing file = defaults) with non-None overrides on top."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                values = tomllib.load(fh)
        except FileNotFoundError:
            if path != DEFAULT_CONFIG_PATH:
                raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
        except RecursionError:  # tomllib reads nested brackets recursively
            raise ConfigError(f"{path}: brackets nested too deeply") from None
    unknown = set(values) - _TOML_KEYS
    if unknown:
        raise ConfigError(f"unknown setting(s) in {path}: {', '.join(sorted(unknown))}")
    _check_types(values, path)
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    values.update(flags, from_flags=frozenset(flags))
    return _checked(values)


def _checked(values: dict[str, Any]) -> Settings:
    if "data_dir" in values:
        values["data_dir"] = Path(values["data_dir"]).expanduser()
    if "roles" in values:
        values["roles"] = tuple(values["roles"])
    settings = replace(Settings(), **values)
    from turnout.codes import is_role_name
    from turnout.protocol import EVENT_ID, is_kiosk_id
    if not is_kiosk_id(settings.kiosk_id):
        raise ConfigError(f"kiosk_id {settings.kiosk_id!r}: use 1-32 letters, digits, - or _")
    if settings.event is not None and not EVENT_ID.fullmatch(settings.event):
        # the hub would refuse every scan for it, and keep them only as junk
        raise ConfigError(f"event {settings.event!r}: use the hub's event id "
                          "(1-64 letters, digits, '.', '-' or '_')")
    if not _BASE_TOPIC.fullmatch(settings.base_topic):
        raise ConfigError(f"base_topic {settings.base_topic!r}: use 1-100 characters, no + or #")
    if "attend" not in settings.roles:
        raise ConfigError("roles must include 'attend'")
    bad = [r for r in settings.roles if not is_role_name(r)]
    if bad:
        raise ConfigError(f"bad role name(s): {bad}")
    if settings.display not in ("ssd1306", "sh1106", "none"):
        raise ConfigError(f"display {settings.display!r}: use ssd1306, sh1106 or none")
    if settings.language not in LANGUAGES:
        raise ConfigError(f"language {settings.language!r}: use {' or '.join(LANGUAGES)}")
    if settings.buzzer not in ("passive", "active", "none"):
        raise ConfigError(f"buzzer {settings.buzzer!r}: use passive, active or none")
    return settings
