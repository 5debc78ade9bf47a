"""The organiser's settings for a card: `turnout-hub kiosk add` output, a [card] table, flags."""

import subprocess
import sys
import tomllib

import pytest

from imaging.card import WIFI_PASSWORD_ENV, CardError, load_card, toml_text
from kiosk.config import load_settings

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHc5c2V0dXA me@laptop"
HUB = [sys.executable, "-m", "hub.cli"]


def settings_file(tmp_path, text):
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return path


def test_what_kiosk_add_prints_makes_a_card(tmp_path):
    """The hub's real `broker-config` and `kiosk add`, their output saved as the settings file."""
    broker = tmp_path / "broker"
    subprocess.run(HUB + ["--db", str(tmp_path / "hub.db"), "broker-config", "--dir", str(broker),
                          "--hostname", "hub.example.org"], check=True, capture_output=True, timeout=120)
    added = subprocess.run(HUB + ["--db", str(tmp_path / "hub.db"), "--broker-dir", str(broker), "kiosk", "add",
                                  "door-1"], check=True, capture_output=True, text=True, timeout=120)
    path = settings_file(tmp_path, added.stdout + '\n[card]\nwifi_ssid = "Venue Guest"\nwifi_password = "correct horse"\n')
    card = load_card(path)
    printed = tomllib.loads(added.stdout)
    assert tomllib.loads(card.kiosk_toml) == printed
    assert printed["broker_password"] and printed["broker"] == "mqtt://hub.example.org:1883"
    assert (card.kiosk_id, card.hostname, card.wifi.ssid, card.wifi.password, card.wifi.country) == (
        "door-1", "door-1", "Venue Guest", "correct horse", "GB")
    assert card.admin is None and not card.camera


def test_a_kiosk_add_for_a_hub_with_its_own_ca_makes_a_card_that_pins_it(tmp_path):
    broker = tmp_path / "broker"
    subprocess.run(HUB + ["--db", str(tmp_path / "hub.db"), "broker-config", "--dir", str(broker), "--port", "0",
                          "--self-signed", "--hostname", "hub.local"], check=True, capture_output=True, timeout=120)
    added = subprocess.run(HUB + ["--db", str(tmp_path / "hub.db"), "--broker-dir", str(broker), "kiosk", "add",
                                  "door-1"], check=True, capture_output=True, text=True, timeout=120)
    card = load_card(settings_file(tmp_path, added.stdout))
    kiosk = tomllib.loads(card.kiosk_toml)
    assert kiosk["broker"] == "mqtts://hub.local:8883"
    assert kiosk["broker_ca"].strip() == (broker / "tls" / "ca.crt").read_text().strip()


def test_the_kiosk_reads_the_settings_as_written(tmp_path):
    path = settings_file(tmp_path, 'kiosk_id = "hall_2"\nbroker_password = "a\\"b\\\\c"\n'
                                   'button_pins = { cake = 26, tidy = 13 }\nroles = ["attend", "cake", "tidy"]\n'
                                   'i2c_address = 0x3D\nscanner = "picamera2"\n[card]\nhostname = "hall"\n')
    card = load_card(path)
    written = tmp_path / "written.toml"
    written.write_text(card.kiosk_toml)
    kiosk = load_settings(written)
    assert (kiosk.kiosk_id, kiosk.broker_password, kiosk.button_pins, kiosk.roles, kiosk.i2c_address) == (
        "hall_2", 'a"b\\c', {"cake": 26, "tidy": 13}, ("attend", "cake", "tidy"), 0x3D)
    assert "card" not in tomllib.loads(card.kiosk_toml)
    assert card.camera  # a camera scanner brings the camera's packages
    assert card.hostname == "hall"


def test_each_card_gets_a_new_instance_id(tmp_path):
    path = settings_file(tmp_path, 'kiosk_id = "door-1"\n')
    assert load_card(path).instance_id != load_card(path).instance_id


def test_no_settings_file_makes_a_card_for_set_up_mode():
    card = load_card(None, {"wifi_ssid": "Home", "wifi_country": "IE"})
    assert card.kiosk_toml is None and card.hostname == "turnout-kiosk"
    assert (card.wifi.ssid, card.wifi.password, card.wifi.country) == ("Home", None, "IE")


def test_flags_win_and_the_password_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(WIFI_PASSWORD_ENV, "from the environment")
    path = settings_file(tmp_path, 'kiosk_id = "door-1"\n[card]\nwifi_ssid = "File"\nhostname = "file"\n')
    card = load_card(path, {"wifi_ssid": "Flag", "hostname": None, "admin_user": "ops", "admin_ssh_keys": [KEY]})
    assert (card.wifi.ssid, card.wifi.password, card.hostname) == ("Flag", "from the environment", "file")
    assert card.admin.ssh_keys == (KEY,)


@pytest.mark.parametrize("text, words", [
    ('kiosk_id = "door-1"\ndisplay = "crt"\n', "display 'crt'"),
    ('kiosk_id = "door 1"\n', "kiosk_id"),
    ('kiosk_id = "door-1"\ncolour = "red"\n', "colour"),
    ('kiosk_id = "door-1"\n[card]\nwifi = "x"\n', "unknown [card] setting"),
    ('kiosk_id = "door-1"\n[card]\nwifi_password = "correct horse"\n', "needs the network's name"),
    ('[card]\nwifi_ssid = "x"\nwifi_password = "short"\n', "8-63"),
    ('[card]\nwifi_ssid = "' + "x" * 33 + '"\n', "1-32 bytes"),
    ('[card]\nwifi_ssid = "x\\ty"\n', "printable"),
    ('[card]\nwifi_ssid = "x"\nwifi_country = "uk"\n', "two capital letters"),
    ('[card]\nhostname = "Door_1"\n', "hostname"),
    ('[card]\nadmin_user = "ops"\n', "admin_password_hash, admin_ssh_keys"),
    ('[card]\nadmin_user = "root"\nadmin_ssh_keys = ["' + KEY + '"]\n', "not root"),
    ('[card]\nadmin_user = "ops"\nadmin_password_hash = "hunter2"\n', "crypt hash"),
    ('[card]\nadmin_user = "ops"\nadmin_ssh_keys = ["ssh-ed25519 AAAA\\nrm -rf /"]\n', "SSH public key"),
    ('[card]\nadmin_ssh_keys = ["' + KEY + '"]\n', "need admin_user"),
    ('[card]\ncamera = "yes"\n', "should be bool"),
    ('[card]\ntimezone = "../../etc/passwd"\n', "timezone"),
    ("kiosk_id = \n", "not valid TOML"),
    ("card = 5\n", "[card] should be a table"),
])
def test_bad_settings_say_which(tmp_path, text, words):
    with pytest.raises(CardError) as caught:
        load_card(settings_file(tmp_path, text))
    assert words in str(caught.value)


def test_a_huge_file_is_refused(tmp_path):
    with pytest.raises(CardError, match="fit in"):
        load_card(settings_file(tmp_path, "# " + "x" * 70_000 + "\n"))


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(CardError, match="cannot read"):
        load_card(tmp_path / "nope.toml")


@pytest.mark.parametrize("values", [
    {"kiosk_id": "k", "broker_ca": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
    {"text": 'quote " backslash \\ tab \t bell \x07 del \x7f café ☕'},
    {"n": 0, "big": 2**40, "yes": True, "no": False, "roles": ["attend", "cake"], "empty": []},
    {"button_pins": {"cake": 26, "tidy": 13}, "role_labels": {"cake": "Cake & tea"}, "odd key": "x"},
])
def test_toml_text_reads_back_the_same(values):
    assert tomllib.loads(toml_text(values)) == values


def test_toml_text_refuses_what_a_kiosk_never_has():
    with pytest.raises(CardError, match="only text"):
        toml_text({"ratio": 1.5})
