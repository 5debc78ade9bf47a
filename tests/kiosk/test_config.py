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


@pytest.mark.parametrize("text, word", [
    ("kiosk_id = 5", "kiosk_id"), ("event = 2026", "event"), ("event_name = true", "event_name"),
    ("data_dir = 5", "data_dir"), ("broker = 1883", "broker"), ("broker_password = 1234", "broker_password"),
    ("base_topic = []", "base_topic"), ("scanner = 0", "scanner"), ("display = 1", "display"),
    ('i2c_port = "1"', "i2c_port"), ('i2c_address = "0x3C"', "i2c_address"), ("i2c_address = 60.0", "i2c_address"),
    ("buzzer = false", "buzzer"), ("buzzer_pin = true", "buzzer_pin"), ("buzzer_pin = -1", "buzzer_pin"),
    ('roles = "cake"', "roles"), ('roles = ["attend", 5]', "roles"), ('roles = { cake = 1 }', "roles"),
    ('role_labels = "Cake"', "role_labels"), ("role_labels = { cake = 5 }", "role_labels"),
    ('button_pins = { cake = "x" }', "button_pins"), ("button_pins = [5, 6]", "button_pins"),
    ("button_pins = { cake = true }", "button_pins"), ('led_pins = { cake = "GPIO16" }', "led_pins"),
    ("led_pins = 16", "led_pins"),
])
def test_a_setting_of_the_wrong_type_says_which(tmp_path, text, word):
    path = tmp_path / "kiosk.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match=rf"\b{word}\b") as raised:
        load_settings(path)
    assert str(path) in str(raised.value)


def test_the_example_file_passes_the_checks_and_gives_the_defaults():
    example = load_settings(Path(__file__).parents[2] / "kiosk" / "kiosk.example.toml")
    assert (example.button_pins, example.led_pins, example.i2c_address) == (
        Settings().button_pins, Settings().led_pins, Settings().i2c_address)


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError):
        load_settings(tmp_path / "nope.toml")


def test_a_login_card_gives_the_kiosk_its_id_login_and_ca_but_flags_still_win(tmp_path):
    import base64
    import ssl

    from hub.broker.tls import self_signed
    from kiosk.config import load_settings
    from turnout.codes import LoginCard

    ca_pem = self_signed(tmp_path / "tls", ["hub.local"]).ca.read_text()
    ca = base64.urlsafe_b64encode(ssl.PEM_cert_to_DER_cert(ca_pem)).decode().rstrip("=")
    card = LoginCard("door-2", "mqtts://hub.local:8883", "door-2", "s3cret-password-123", ca)
    settings = load_settings(None, {"kiosk_id": "kiosk-1"}).with_login(card)
    assert settings.kiosk_id == "kiosk-1"  # given on the command line
    settings = load_settings(None, {}).with_login(card)
    assert (settings.kiosk_id, settings.broker) == ("door-2", "mqtts://hub.local:8883")
    url = settings.configured_broker()
    assert (url.username, url.password, url.tls) == ("door-2", "s3cret-password-123", True)
    assert ssl.PEM_cert_to_DER_cert(settings.broker_ca) == ssl.PEM_cert_to_DER_cert(ca_pem)


def test_language_is_english_or_welsh(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('language = "cy"\n')
    settings = load_settings(path)
    assert settings.language == "cy" and settings.label("cake") == "Cacen"
    assert settings.words().gettext("Try again") == "Ceisiwch eto"
    assert Settings().label("cake") == "Cake"
    path.write_text('language = "fr"\n')
    with pytest.raises(ConfigError, match="language 'fr'"):
        load_settings(path)


def test_a_welsh_kiosk_needs_no_babel():
    """The kiosk reads its compiled catalogue with the standard library alone (Babel is the hub's)."""
    import subprocess
    import sys
    code = ("import sys; sys.modules['babel'] = None\n"
            "from kiosk.config import Settings\n"
            "from kiosk.display.device import SimDisplay\n"
            "from kiosk.screens import Idle\n"
            "words = Settings(language='cy').words()\n"
            "SimDisplay(None, words=words).show(Idle('', '--:--', True, 0))\n"
            "print(words.gettext('Try again'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Ceisiwch eto"
