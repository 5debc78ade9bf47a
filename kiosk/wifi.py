"""Venue wi-fi from a QR code: parse the standard ``WIFI:`` format and join with nmcli.

Phones and routers print ``WIFI:T:WPA;S:<ssid>;P:<password>;H:true;;``. In S and P a
backslash escapes ``\\ ; , : "``; a value in double quotes is taken literally (the format
quotes an SSID that would otherwise look like hex). The parser is pure; ``join_wifi`` is a thin
adapter around NetworkManager's ``nmcli``. Joining adds a connection and deletes none but the
one it just added when that could not join, so the network the kiosk had before stays as a
fallback. The password is never logged or shown, and never on a command line: ``ps`` shows
every process's arguments to every user, so it goes to nmcli in a file only this user can read.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from turnout.i18n import N_

log = logging.getLogger(__name__)

NMCLI_TIMEOUT_SECONDS = 60
# Security types this kiosk can join with an SSID and a password alone.
PERSONAL = {"WPA", "WPA2", "WPA3", "SAE", "WEP"}
OPEN = {"", "nopass"}

# nmcli's documented exit statuses, in words a volunteer can act on.
NMCLI_EXIT_REASONS = {
    2: N_("nmcli rejected the settings"),
    3: N_("timed out"),
    4: N_("wrong password or weak signal"),
    8: N_("NetworkManager is not running"),
    10: N_("network not found"),
}


# How each security type is set up in NetworkManager, and which secret its passwd-file line holds.
KEY_MANAGEMENT = {"WPA": "wpa-psk", "WPA2": "wpa-psk", "WPA3": "sae", "SAE": "sae", "WEP": "none"}
SECRET_PROPERTY = {"wpa-psk": "802-11-wireless-security.psk", "sae": "802-11-wireless-security.psk",
                   "none": "802-11-wireless-security.wep-key0"}
_ADDED_UUID = re.compile(r"\(([0-9a-fA-F-]{36})\)")  # "Connection 'x' (<uuid>) successfully added."


class WifiCardError(ValueError):
    """The text is not a wi-fi QR code this kiosk can use: ``template`` (a message id in the
    kiosk catalogue, so the screen can say it in the kiosk's language) filled in with ``fields``."""

    def __init__(self, template: str, **fields: str) -> None:
        super().__init__(template.format(**fields))
        self.template, self.fields = template, fields


@dataclass(frozen=True)
class WifiCredentials:
    ssid: str
    password: str | None = field(default=None, repr=False)  # repr=False: never in logs
    security: str = "WPA"
    hidden: bool = False


@dataclass(frozen=True)
class WifiResult:
    """What happened when the kiosk tried to join: ``message`` is ready for the screen."""

    joined: bool
    ssid: str
    message: str
    reason: str = ""  # why it could not join, a message id the screen translates


def parse_wifi(text: str) -> WifiCredentials:
    """The credentials in a ``WIFI:`` QR code (raises WifiCardError when it is not one)."""
    if not text.startswith("WIFI:"):
        raise WifiCardError(N_("Not a wi-fi card"))
    fields: dict[str, str] = {}
    for part in _split_unescaped(text[len("WIFI:"):]):
        if not part:
            continue
        key, sep, value = part.partition(":")
        if not sep:
            raise WifiCardError(N_("Wi-fi card field without a value"))
        fields.setdefault(key.strip().upper(), _unescape(_unquote(value)))
    ssid = fields.get("S", "")
    if not ssid:
        raise WifiCardError(N_("Wi-fi card has no network name"))
    security = fields.get("T", "")
    password = fields.get("P") or None
    if security in OPEN:
        password = None
    elif security.upper() in PERSONAL:
        security = security.upper()
        if not password:
            raise WifiCardError(N_("Wi-fi card for {ssid} has no password"), ssid=ssid)
        if any(ch in password for ch in "\r\n\0"):  # a passwd-file line could not hold it
            raise WifiCardError(N_("Wi-fi card for {ssid} has a password no network uses"), ssid=ssid)
    else:
        raise WifiCardError(N_("{ssid} uses {security} wi-fi, which needs more than a password"), ssid=ssid, security=security)
    hidden = fields.get("H", "").lower() == "true"
    return WifiCredentials(ssid=ssid, password=password, security=security or "nopass",
                           hidden=hidden)


def _split_unescaped(body: str) -> list[str]:
    """Split on ``;`` not preceded by a backslash, keeping the escapes for later."""
    parts, current, escaped = [], [], False
    for ch in body:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value.startswith('"') and value.endswith('"') and not value.endswith('\\"'):
        return value[1:-1]
    return value


def _unescape(value: str) -> str:
    out, escaped = [], False
    for ch in value:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append(ch)
    if escaped:
        out.append("\\")
    return "".join(out)


def nmcli_commands(creds: WifiCredentials, passwd_file: str) -> list[list[str]]:
    """The nmcli runs that join ``creds``'s network, none carrying the password: an open network
    is ``device wifi connect``; one with a password is a connection added without it, then
    brought up with the password read from ``passwd_file`` (nmcli's documented way)."""
    if creds.password is None:
        return [["nmcli", "device", "wifi", "connect", creds.ssid] + (["hidden", "yes"] if creds.hidden else [])]
    key_mgmt = KEY_MANAGEMENT[creds.security]
    add = ["nmcli", "connection", "add", "type", "wifi", "con-name", creds.ssid, "ssid", creds.ssid,
           "wifi-sec.key-mgmt", key_mgmt]
    if key_mgmt == "none":  # WEP: 5 or 13 characters (or 10 or 26 hex digits) is a key, else a passphrase
        add += ["wifi-sec.wep-key-type", "1" if len(creds.password) in (5, 10, 13, 26) else "2"]
    if creds.hidden:
        add += ["wifi.hidden", "yes"]
    return [add, ["nmcli", "connection", "up", "id", creds.ssid, "passwd-file", passwd_file]]


def passwd_file_line(creds: WifiCredentials) -> str:
    return f"{SECRET_PROPERTY[KEY_MANAGEMENT[creds.security]]}:{creds.password}\n"


def join_wifi(creds: WifiCredentials, run: Callable | None = None) -> WifiResult:
    """Join the venue's network through NetworkManager; the previous network stays saved.
    ``run`` defaults to subprocess.run, imported here so the parser above stays pure."""
    import subprocess
    import tempfile
    run = run or subprocess.run
    log.info("joining wi-fi %s (%s%s)", creds.ssid, creds.security,
             ", hidden" if creds.hidden else "")
    # A directory only this user can open (systemd's RuntimeDirectory: memory, not the SD card).
    with tempfile.TemporaryDirectory(prefix="turnout-wifi-", dir=os.environ.get("RUNTIME_DIRECTORY")) as private:
        passwd_file = os.path.join(private, "passwd")
        if creds.password is not None:
            fd = os.open(passwd_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(passwd_file_line(creds))
        commands = nmcli_commands(creds, passwd_file)
        added = None
        for i, args in enumerate(commands):
            if added and args[3:5] == ["id", creds.ssid]:
                args = args[:3] + ["uuid", added] + args[5:]  # exactly the connection just added
            try:
                done = run(args, capture_output=True, text=True, timeout=NMCLI_TIMEOUT_SECONDS, check=False,
                           env={**os.environ, "LC_ALL": "C"})  # C: messages in the words parsed here
            except FileNotFoundError:
                return _failed(creds, N_("nmcli is not installed"))
            except subprocess.TimeoutExpired:
                _forget(added, run)
                return _failed(creds, "timed out")
            if done.returncode != 0:
                _forget(added, run)
                return _nmcli_failed(creds, done)
            if args[1:3] == ["connection", "add"]:
                found = _ADDED_UUID.search(done.stdout or "")
                added = found.group(1) if found else None
    log.info("joined wi-fi %s", creds.ssid)
    return WifiResult(True, creds.ssid, f"Joined {creds.ssid}")


def _forget(added: str | None, run: Callable) -> None:
    """Delete the connection this join added (it could not join: no use as a fallback)."""
    if added:
        try:
            run(["nmcli", "connection", "delete", "uuid", added], capture_output=True, text=True,
                timeout=NMCLI_TIMEOUT_SECONDS, check=False)
        except Exception as exc:  # best effort: an unused profile is harmless
            log.debug("could not delete the wi-fi connection just added: %s", exc)


def _nmcli_failed(creds: WifiCredentials, done) -> WifiResult:
    detail = _without_password((done.stderr or done.stdout or "").strip(), creds)
    reason = NMCLI_EXIT_REASONS.get(done.returncode, N_("nmcli failed"))
    log.warning("could not join wi-fi %s: %s (nmcli exit %s: %s)", creds.ssid, reason,
                done.returncode, detail.splitlines()[-1] if detail else "no message")
    return WifiResult(False, creds.ssid, f"Could not join {creds.ssid}: {reason}", reason)


def _failed(creds: WifiCredentials, reason: str) -> WifiResult:
    log.warning("could not join wi-fi %s: %s", creds.ssid, reason)
    return WifiResult(False, creds.ssid, f"Could not join {creds.ssid}: {reason}", reason)


def _without_password(text: str, creds: WifiCredentials) -> str:
    return text.replace(creds.password, "***") if creds.password else text
