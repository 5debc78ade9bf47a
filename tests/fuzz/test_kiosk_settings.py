"""The kiosk's TOML settings, fed hostile files: `load_settings` raises nothing but ConfigError
(which the CLI prints as one line), and settings it accepts are well typed and usable."""

from __future__ import annotations

import datetime
import math
import re
import tempfile
from pathlib import Path

from hypothesis import example, given, strategies as st

from kiosk.config import ConfigError, Settings, load_settings
from tests.fuzz.hostile import fuzz, nasty_text, texts
from turnout.codes import is_role_name
from turnout.protocol import EVENT_ID, is_kiosk_id

SETTINGS = sorted(Path(__file__).parents[2].joinpath("kiosk", "kiosk.example.toml").read_text()
                  .encode().splitlines(keepends=True))
KEYS = ["kiosk_id", "event", "event_name", "data_dir", "broker", "broker_username",
        "broker_password", "base_topic", "scanner", "display", "i2c_port", "i2c_address", "buzzer",
        "buzzer_pin", "roles", "role_labels", "button_pins", "led_pins"]


def toml_string(text: str) -> str:
    """A TOML basic string; TOML has no way to write a lone surrogate, so it becomes U+FFFD."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) \
            else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


toml_scalars = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(), texts, nasty_text,
                         st.dates(), st.times(), st.sampled_from(["attend", "cake", "hall-1", "none",
                                                                  "turnout/#", "+", "", " "]))
toml_values = st.recursive(toml_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.sampled_from(["attend", "cake", "pitch", "x y", ""]) | texts,
                                                 inner, max_size=4)), max_leaves=10)
role_lists = st.lists(st.sampled_from(["attend", "cake", "pitch", "tidy"]) | texts, max_size=5)


@st.composite
def settings_files(draw):
    """A kiosk.toml: known settings with any TOML value (or a plausible one), a stray key."""
    keys = draw(st.lists(st.sampled_from(KEYS + ["colour", "kiosk id"]), max_size=8, unique=True))
    lines = []
    for key in keys:
        value = draw(st.one_of(toml_values, role_lists, st.sampled_from(["ssd1306", "passive"]),
                               st.integers(0, 40)))
        lines.append(f"{toml_string(key) if ' ' in key else key} = {toml_value(value)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


@st.composite
def mangled_files(draw):
    """The shipped example file with lines dropped, bytes flipped, junk and deep nesting put in."""
    lines = draw(st.lists(st.sampled_from(SETTINGS), max_size=12))
    junk = draw(st.lists(st.one_of(
        st.binary(max_size=20), st.sampled_from([b"\xff\xfe", b"\xed\xa0\x80", b"[[[", b"a = [" * 3000,
                                                 b"a = {b = " * 2000, b"\x00", b"'''"]),
        st.builds(lambda n: b"kiosk_id = " + b"[" * n, st.integers(1, 5000))), max_size=3))
    for piece in junk:
        lines.insert(draw(st.integers(0, len(lines))), piece + b"\n")
    return b"".join(lines)


def load(content: bytes) -> Settings | None:
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "kiosk.toml"
        path.write_bytes(content)
        try:
            return load_settings(path)
        except ConfigError as refused:
            assert str(path) in str(refused) or "kiosk_id" in str(refused) or "role" in str(refused) \
                or "display" in str(refused) or "buzzer" in str(refused) or "event" in str(refused) \
                or "base_topic" in str(refused), str(refused)
            assert "\n" not in str(refused).strip()
            return None


def assert_usable(s: Settings) -> None:
    assert is_kiosk_id(s.kiosk_id)
    assert s.event is None or EVENT_ID.fullmatch(s.event), s.event  # else every scan is refused
    assert s.event_name is None or isinstance(s.event_name, str)
    assert isinstance(s.data_dir, Path) and isinstance(s.broker, str) and isinstance(s.scanner, str)
    # A base topic with a wildcard or NUL cannot be published to: paho raises on every scan.
    assert s.base_topic and not re.search("[+#\x00]", s.base_topic), s.base_topic
    assert isinstance(s.roles, tuple) and "attend" in s.roles and all(map(is_role_name, s.roles))
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in s.role_labels.items())
    for pins in (s.button_pins, s.led_pins):
        assert all(type(p) is int and p >= 0 for p in pins.values())
    assert all(type(n) is int and n >= 0 for n in (s.i2c_port, s.i2c_address, s.buzzer_pin))
    assert s.display in ("ssd1306", "sh1106", "none") and s.buzzer in ("passive", "active", "none")


@fuzz(150)
@given(st.one_of(settings_files(), mangled_files(), st.binary(max_size=200)))
@example(b"kiosk_id = " + b"[" * 3000)  # RecursionError out of tomllib
@example(b'event_name = "caf\xe9"\n')  # Latin-1, not UTF-8: UnicodeDecodeError out of tomllib
@example(b'event = "2025 camp"\n')  # no hub accepts a scan for that event
@example(b'base_topic = "turnout/#"\n')  # paho refuses to publish there
def test_load_settings_raises_only_config_error_and_gives_usable_settings(content):
    settings = load(content)
    if settings is not None:
        assert_usable(settings)
