"""Venue wi-fi from a QR code: parse the standard ``WIFI:`` format and join with nmcli.

Phones and routers print ``WIFI:T:WPA;S:<ssid>;P:<password>;H:true;;``. In S and P a
backslash escapes ``\\ ; , : "``; a value in double quotes is taken literally (the format
quotes an SSID that would otherwise look like hex). The parser is pure; ``join_wifi`` is a thin
adapter around NetworkManager's ``nmcli``. Joining adds a connection and deletes none, so the
network the kiosk had before stays as a fallback. The password is never logged or shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

NMCLI_TIMEOUT_SECONDS = 60
# Security types this kiosk can join with an SSID and a password alone.
PERSONAL = {"WPA", "WPA2", "WPA3", "SAE", "WEP"}
OPEN = {"", "nopass"}

# nmcli's documented exit statuses, in words a volunteer can act on.
NMCLI_EXIT_REASONS = {
    2: "nmcli rejected the settings",
    3: "timed out",
    4: "wrong password or weak signal",
    8: "NetworkManager is not running",
    10: "network not found",
}


class WifiCardError(ValueError):
    """The text is not a wi-fi QR code this kiosk can use."""


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


def parse_wifi(text: str) -> WifiCredentials:
    """The credentials in a ``WIFI:`` QR code (raises WifiCardError when it is not one)."""
    if not text.startswith("WIFI:"):
        raise WifiCardError("Not a wi-fi card")
    fields: dict[str, str] = {}
    for part in _split_unescaped(text[len("WIFI:"):]):
        if not part:
            continue
        key, sep, value = part.partition(":")
        if not sep:
            raise WifiCardError("Wi-fi card field without a value")
        fields.setdefault(key.strip().upper(), _unescape(_unquote(value)))
    ssid = fields.get("S", "")
    if not ssid:
        raise WifiCardError("Wi-fi card has no network name")
    security = fields.get("T", "")
    password = fields.get("P") or None
    if security in OPEN:
        password = None
    elif security.upper() in PERSONAL:
        security = security.upper()
        if not password:
            raise WifiCardError(f"Wi-fi card for {ssid} has no password")
    else:
        raise WifiCardError(f"{ssid} uses {security} wi-fi, which needs more than a password")
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


def joining_message(creds: WifiCredentials) -> str:
    return f"Joining {creds.ssid}…"


def nmcli_arguments(creds: WifiCredentials) -> list[str]:
    """``nmcli device wifi connect SSID [password PW] [hidden yes]``: adds, never deletes."""
    args = ["nmcli", "device", "wifi", "connect", creds.ssid]
    if creds.password is not None:
        args += ["password", creds.password]
    if creds.hidden:
        args += ["hidden", "yes"]
    return args


def join_wifi(creds: WifiCredentials, run: Callable | None = None) -> WifiResult:
    """Join the venue's network through NetworkManager; the previous network stays saved.
    ``run`` defaults to subprocess.run, imported here so the parser above stays pure."""
    import subprocess
    run = run or subprocess.run
    log.info("joining wi-fi %s (%s%s)", creds.ssid, creds.security,
             ", hidden" if creds.hidden else "")
    try:
        done = run(nmcli_arguments(creds), capture_output=True, text=True,
                   timeout=NMCLI_TIMEOUT_SECONDS, check=False)
    except FileNotFoundError:
        return _failed(creds, "nmcli is not installed")
    except subprocess.TimeoutExpired:
        return _failed(creds, "timed out")
    if done.returncode == 0:
        log.info("joined wi-fi %s", creds.ssid)
        return WifiResult(True, creds.ssid, f"Joined {creds.ssid}")
    detail = _without_password((done.stderr or done.stdout or "").strip(), creds)
    reason = NMCLI_EXIT_REASONS.get(done.returncode, "nmcli failed")
    log.warning("could not join wi-fi %s: %s (nmcli exit %s: %s)", creds.ssid, reason,
                done.returncode, detail.splitlines()[-1] if detail else "no message")
    return WifiResult(False, creds.ssid, f"Could not join {creds.ssid}: {reason}")


def _failed(creds: WifiCredentials, reason: str) -> WifiResult:
    log.warning("could not join wi-fi %s: %s", creds.ssid, reason)
    return WifiResult(False, creds.ssid, f"Could not join {creds.ssid}: {reason}")


def _without_password(text: str, creds: WifiCredentials) -> str:
    return text.replace(creds.password, "***") if creds.password else text
