from pathlib import Path

import pytest

from kiosk.config import ConfigError, DEFAULT_BUTTON_PINS, Settings, load_settings


def test_defaults_match_hardware_md():
    s = Settings()
    text = (Path(__file__).parents[2] / "hardware.md").read_text()
    for role, pin in DEFAULT_BUTTON_PINS.items():
        assert f"GPIO{pin}" in text, f"{role} button pin missing from hardware.md"
    assert f"GPIO{s.buzzer_pin}" in text
    assert s.roles == ("attend", "pitch", "cake", "tidy", "organise")


def test_toml_then_flags(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('kiosk_id = "hall-2"\nevent = "e1"\nroles = ["attend", "cake"]\n'
                    'button_pins = { cake = 26 }\ni2c_address = 0x3D\ndisplay = "sh1106"\n')
    s = load_settings(path, {"event": "e9", "kiosk_id": None})
    assert (s.kiosk_id, s.event, s.roles, s.button_pins, s.i2c_address, s.display) == (
        "hall-2", "e9", ("attend", "cake"), {"cake": 26}, 0x3D, "sh1106")


@pytest.mark.parametrize("text, word", [
    ('kiosk_id = "a/b"', "kiosk_id"), ('roles = ["cake"]', "attend"), ('colour = "red"', "colour"),
    ('display = "crt"', "display"), ("kiosk_id = ", "kiosk.toml"),
])
def test_bad_settings_say_which(tmp_path, text, word):
    path = tmp_path / "kiosk.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match=word):
        load_settings(path)


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError):
        load_settings(tmp_path / "nope.toml")
