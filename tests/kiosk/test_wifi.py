"""The wi-fi QR format, and joining through nmcli (a fake nmcli on PATH, never the network)."""

import logging
import os
from pathlib import Path

import pytest

from kiosk.wifi import (WifiCardError, WifiCredentials, join_wifi, nmcli_commands,
                        parse_wifi, passwd_file_line)
from tests.kiosk.fake_nmcli import ADDED_UUID, install_fake_nmcli, recorded


def test_the_usual_wpa_card():
    creds = parse_wifi("WIFI:T:WPA;S:venue-wifi;P:cake1234;;")
    assert creds == WifiCredentials("venue-wifi", "cake1234", "WPA", False)


def test_fields_in_any_order_with_hidden_network():
    assert parse_wifi("WIFI:S:Back room;H:true;P:pw;T:WPA;;") == WifiCredentials(
        "Back room", "pw", "WPA", True)


@pytest.mark.parametrize("raw,expected", [
    (r"a\;b", "a;b"), (r"a\,b", "a,b"), (r"a\:b", "a:b"), (r"a\\b", "a\\b"),
    (r"a\\\;b", "a\\;b"), (r'say \"hi\"', 'say "hi"'), (r"end\\", "end\\"),
])
def test_escaped_characters_in_ssid_and_password(raw, expected):
    creds = parse_wifi(f"WIFI:T:WPA;S:{raw};P:{raw};;")
    assert creds.ssid == expected and creds.password == expected


def test_a_quoted_ssid_is_literal():
    assert parse_wifi('WIFI:T:WPA;S:"ABCDEF12";P:pw;;').ssid == "ABCDEF12"


def test_an_open_network_has_no_password():
    assert parse_wifi("WIFI:T:nopass;S:Guests;;") == WifiCredentials("Guests", None, "nopass")
    assert parse_wifi("WIFI:S:Guests;;").password is None


@pytest.mark.parametrize("text,message", [
    ("T5724", "Not a wi-fi card"),
    ("WIFI:T:WPA;P:pw;;", "no network name"),
    ("WIFI:T:WPA;S:venue;;", "no password"),
    ("WIFI:T:WPA2-EAP;S:eduroam;P:x;;", "needs more than a password"),
    ("WIFI:T:WPA;S:venue;P:two\nlines;;", "password no network uses"),
])
def test_unusable_cards_are_rejected_with_a_reason(text, message):
    with pytest.raises(WifiCardError, match=message):
        parse_wifi(text)


def test_the_password_never_appears_in_repr():
    assert "s3cret" not in repr(parse_wifi("WIFI:T:WPA;S:venue;P:s3cret;;"))


def test_no_nmcli_command_carries_the_password():
    """Rule: ps shows every process's arguments to every user, so a password never goes there."""
    for creds in (WifiCredentials("venue", "cake1234", "WPA", True), WifiCredentials("venue", "cake1234", "SAE"),
                  WifiCredentials("old", "abcde", "WEP")):
        commands = nmcli_commands(creds, "/run/turnout/x/passwd")
        assert commands[-1] == ["nmcli", "connection", "up", "id", creds.ssid, "passwd-file", "/run/turnout/x/passwd"]
        assert not any(creds.password in arg for args in commands for arg in args)
    assert nmcli_commands(WifiCredentials("Guests", None, "nopass"), "unused") == [
        ["nmcli", "device", "wifi", "connect", "Guests"]]
    assert passwd_file_line(WifiCredentials("venue", "cake:1234")) == "802-11-wireless-security.psk:cake:1234\n"
    assert passwd_file_line(WifiCredentials("old", "abcde", "WEP")) == "802-11-wireless-security.wep-key0:abcde\n"


@pytest.fixture
def fake_nmcli(tmp_path, monkeypatch):
    """An ``nmcli`` first on PATH (tests/kiosk/fake_nmcli.py); ``connection up`` exits $FAKE_EXIT."""
    record = tmp_path / "argv.txt"
    bin_dir = install_fake_nmcli(tmp_path / "bin", record)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path))
    return record


def test_join_wifi_gives_nmcli_the_password_in_a_private_file_never_as_an_argument(fake_nmcli, tmp_path, caplog):
    creds = parse_wifi(r"WIFI:T:WPA;S:venue\;wifi;P:cake\:1234;H:true;;")
    with caplog.at_level(logging.DEBUG):
        result = join_wifi(creds)
    assert result.joined and result.message == "Joined venue;wifi"
    add, up = recorded(fake_nmcli)
    assert add == ["connection", "add", "type", "wifi", "con-name", "venue;wifi", "ssid", "venue;wifi",
                   "wifi-sec.key-mgmt", "wpa-psk", "wifi.hidden", "yes"]
    assert up[:4] == ["connection", "up", "uuid", ADDED_UUID] and up[4] == "passwd-file"
    assert up[6:] == ["mode 0o600", "dir mode 0o700", "file 802-11-wireless-security.psk:cake:1234"]
    assert not any("cake:1234" in arg for arg in add + up[:6]), "never on a command line"
    assert not Path(up[5]).exists() and not Path(up[5]).parent.exists(), "the file is gone afterwards"
    assert Path(up[5]).parent.parent == tmp_path, "in the service's runtime directory"
    assert "cake:1234" not in caplog.text and "venue;wifi" in caplog.text


def test_a_failed_join_says_why_without_the_password_and_removes_only_what_it_added(fake_nmcli, monkeypatch, caplog):
    monkeypatch.setenv("FAKE_EXIT", "4")
    with caplog.at_level(logging.DEBUG):
        result = join_wifi(WifiCredentials("venue", "cake1234"))
    assert not result.joined
    assert result.message == "Could not join venue: wrong password or weak signal"
    assert "cake1234" not in caplog.text + result.message
    calls = recorded(fake_nmcli)
    assert [c[:3] for c in calls] == [["connection", "add", "type"], ["connection", "up", "uuid"],
                                      ["connection", "delete", "uuid"]]
    assert calls[2] == ["connection", "delete", "uuid", ADDED_UUID], "the network it had before stays"


def test_an_open_network_joins_with_no_password_file(fake_nmcli):
    assert join_wifi(WifiCredentials("Guests", None, "nopass")).joined
    assert recorded(fake_nmcli) == [["device", "wifi", "connect", "Guests"]]


def test_no_nmcli_installed_is_a_result_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = join_wifi(WifiCredentials("venue", "pw"))
    assert not result.joined and "nmcli is not installed" in result.message
