"""Wi-fi QR codes, fed hostile text: `parse_wifi` raises nothing but WifiCardError, what it
returns can be handed to nmcli, and any network a phone would encode reads back exactly."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import example, given, strategies as st

from kiosk.wifi import (OPEN, PERSONAL, WifiCardError, WifiCredentials, nmcli_commands, parse_wifi,
                        passwd_file_line)
from tests.fuzz.hostile import fuzz, nasty_text, texts
from turnout.codes import WifiCard, classify

SPECIAL = '\\;,:"'
REAL = "WIFI:T:WPA;S:Venue;P:secret;H:true;;"


@st.composite
def wifi_texts(draw):
    """WIFI: then fields in any order, some duplicated or malformed, values of any text."""
    fields = draw(st.lists(st.tuples(
        st.sampled_from(["T", "S", "P", "H", "t", "s", " S ", "X", ""]),
        st.one_of(st.sampled_from(["WPA", "wpa2", "SAE", "WEP", "nopass", "", "WPA2-EAP", "true"]),
                  texts, nasty_text),
        st.sampled_from([":", "", "::"])), max_size=6))
    body = ";".join(k + sep + v for k, sep, v in fields)
    return "WIFI:" + body + draw(st.sampled_from([";;", ";", "", "\\"]))


def assert_usable(creds: WifiCredentials) -> None:
    assert isinstance(creds.ssid, str) and creds.ssid
    assert creds.security in PERSONAL | {"nopass"} and isinstance(creds.hidden, bool)
    if creds.security == "nopass":
        assert creds.password is None
    else:
        assert isinstance(creds.password, str) and creds.password
    commands = nmcli_commands(creds, "/run/turnout/wifi/passwd")
    assert all("\x00" not in arg for command in commands for arg in command)  # else subprocess raises
    if creds.password is not None:
        other = replace(creds, password="x" * len(creds.password))  # the same length: WEP's key type
        assert nmcli_commands(other, "/run/turnout/wifi/passwd") == commands, "the password on a command line"
        line = passwd_file_line(creds)
        assert line.endswith("\n") and line.count("\n") == 1, "a password that adds lines to nmcli's file"


@fuzz(200)
@given(st.one_of(wifi_texts(), texts, nasty_text, st.just(REAL)))
@example("WIFI:S:\\")
def test_parse_wifi_raises_only_wifi_card_error(text):
    try:
        creds = parse_wifi(text)
    except WifiCardError as refused:
        assert str(refused)  # the kiosk shows it
        return
    assert isinstance(creds, WifiCredentials)


@fuzz(150)
@given(st.one_of(wifi_texts(), st.just(REAL)))
def test_a_card_the_kiosk_would_act_on_can_be_handed_to_nmcli(text):
    """Only a scan classify calls a WifiCard reaches parse_wifi; what it returns must be safe
    to pass to nmcli as an argument."""
    if not isinstance(classify(text), WifiCard):
        return
    try:
        creds = parse_wifi(text)
    except WifiCardError:
        return
    assert_usable(creds)


def escaped(value: str) -> str:
    return "".join("\\" + ch if ch in SPECIAL else ch for ch in value)


network_text = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=32)


@fuzz(200)
@given(network_text, network_text, st.sampled_from(sorted(PERSONAL) + ["nopass", ""]),
       st.booleans(), st.permutations(["T", "S", "P", "H"]))
@example('"abc"', '"', "WPA", False, ["S", "P", "T", "H"])
@example("a\\", ";;", "WPA", True, ["T", "S", "P", "H"])
def test_any_network_a_phone_encodes_reads_back_exactly(ssid, password, security, hidden, order):
    values = {"T": security, "S": escaped(ssid), "P": escaped(password) if security not in OPEN else "",
              "H": "true" if hidden else "false"}
    text = "WIFI:" + "".join(f"{key}:{values[key]};" for key in order) + ";"
    creds = parse_wifi(text)
    assert (creds.ssid, creds.hidden) == (ssid, hidden)
    if security in OPEN:
        assert (creds.password, creds.security) == (None, "nopass")
    else:
        assert (creds.password, creds.security) == (password, security)
    assert_usable(creds)
