"""The wi-fi QR format, and joining through nmcli (a fake nmcli on PATH, never the network)."""

import logging
import os
import stat
import sys

import pytest

from kiosk.wifi import (WifiCardError, WifiCredentials, join_wifi, joining_message,
                        nmcli_arguments, parse_wifi)


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
])
def test_unusable_cards_are_rejected_with_a_reason(text, message):
    with pytest.raises(WifiCardError, match=message):
        parse_wifi(text)


def test_the_password_never_appears_in_repr():
    assert "s3cret" not in repr(parse_wifi("WIFI:T:WPA;S:venue;P:s3cret;;"))


def test_nmcli_arguments_add_a_connection_and_delete_none():
    assert nmcli_arguments(WifiCredentials("venue", "pw", "WPA", True)) == [
        "nmcli", "device", "wifi", "connect", "venue", "password", "pw", "hidden", "yes"]
    assert nmcli_arguments(WifiCredentials("Guests", None, "nopass")) == [
        "nmcli", "device", "wifi", "connect", "Guests"]


@pytest.fixture
def fake_nmcli(tmp_path, monkeypatch):
    """An ``nmcli`` first on PATH that records its arguments, one per line, and exits $FAKE_EXIT."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv.txt"
    script = bin_dir / "nmcli"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        f"open({str(record)!r}, 'a').write('\\n'.join(sys.argv[1:]) + '\\n---\\n')\n"
        "code = int(os.environ.get('FAKE_EXIT', '0'))\n"
        "if code: sys.stderr.write('Error: Connection activation failed: (7) Secrets were required.\\n')\n"
        "sys.exit(code)\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def recorded(record):
    return [call.splitlines() for call in record.read_text().split("---\n") if call.strip()]


def test_join_wifi_runs_nmcli_connect_with_the_card_s_arguments(fake_nmcli, caplog):
    creds = parse_wifi(r"WIFI:T:WPA;S:venue\;wifi;P:cake\:1234;H:true;;")
    assert joining_message(creds) == "Joining venue;wifi…"
    with caplog.at_level(logging.DEBUG):
        result = join_wifi(creds)
    assert result.joined and result.message == "Joined venue;wifi"
    assert recorded(fake_nmcli) == [
        ["device", "wifi", "connect", "venue;wifi", "password", "cake:1234", "hidden", "yes"]]
    assert "cake:1234" not in caplog.text and "venue;wifi" in caplog.text


def test_a_failed_join_says_why_without_the_password(fake_nmcli, monkeypatch, caplog):
    monkeypatch.setenv("FAKE_EXIT", "4")
    with caplog.at_level(logging.DEBUG):
        result = join_wifi(WifiCredentials("venue", "cake1234"))
    assert not result.joined
    assert result.message == "Could not join venue: wrong password or weak signal"
    assert "cake1234" not in caplog.text + result.message
    assert len(recorded(fake_nmcli)) == 1  # one connect, no delete of anything


def test_no_nmcli_installed_is_a_result_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = join_wifi(WifiCredentials("venue", "pw"))
    assert not result.joined and "nmcli is not installed" in result.message
