"""What goes on a kiosk's boot partition: cloud-init's ``user-data``, ``network-config`` and
``meta-data``, the first boot's ``card.env``, and the I2C line in ``config.txt``. Pure: text out.

Raspberry Pi OS (Trixie) reads the three cloud-init files from its FAT boot partition (NoCloud),
as Raspberry Pi Imager writes them. YAML scalars are written as JSON strings, which YAML reads
as the same strings, so no SSID or name can break the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# The boot partition's mount point on Raspberry Pi OS Bookworm and Trixie.
BOOT_MOUNT = "/boot/firmware"
CARD_DIR = "turnout"  # our folder on the boot partition
DONE_MARKER = "/var/lib/turnout-firstboot.done"
KIOSK_USER = "turnout"
KIOSK_GROUPS = ("gpio", "i2c", "input", "video")

# From Raspberry Pi OS's apt: what has no wheel for the Pi (evdev), or is Raspberry Pi's own
# build (lgpio, picamera2). "a|b": the first name apt knows (Trixie renamed libzbar0).
SCANNER_PACKAGES = ("python3-evdev", "python3-lgpio", "i2c-tools")
CAMERA_PACKAGES = ("python3-picamera2", "python3-opencv", "python3-numpy", "libzbar0t64|libzbar0")
# Python distributions the kiosk's venv takes from apt (it sees them: --system-site-packages).
FROM_APT = frozenset({"evdev"})
# The camera's decoders, from wheels (numpy and OpenCV come from apt with picamera2).
CAMERA_WHEELS = ("pyzbar", "zxing-cpp")


@dataclass(frozen=True)
class Wifi:
    ssid: str
    password: str | None = None  # None: an open network
    country: str = "GB"  # the regulatory domain: Raspberry Pi OS keeps wi-fi off until it is set
    hidden: bool = False


@dataclass(frozen=True)
class Admin:
    """An organiser's login on the kiosk, for maintenance. SSH only with a key."""

    name: str
    password_hash: str | None = None  # crypt(3), e.g. from `openssl passwd -6`
    ssh_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Card:
    """Everything one kiosk's card says."""

    hostname: str
    instance_id: str  # new for every card written, so cloud-init runs again on a re-used card
    kiosk_toml: str | None = None  # the kiosk's settings (secret: the broker password)
    kiosk_id: str | None = None
    wifi: Wifi | None = None
    admin: Admin | None = None
    timezone: str = "Europe/London"
    camera: bool = False


def firstboot_unit() -> str:
    """The systemd unit that runs the card's first-boot script until it succeeds."""
    script = f"{BOOT_MOUNT}/{CARD_DIR}/firstboot.sh"
    return "\n".join([
        "[Unit]",
        "Description=Turnout first boot: install the kiosk from the boot partition",
        "After=network-online.target cloud-final.service",
        "Wants=network-online.target",
        f"ConditionPathExists=!{DONE_MARKER}",
        "# apt needs the internet: keep trying until it is there",
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=oneshot",
        f"ExecStart=/bin/sh {script}",
        "Restart=on-failure",
        "RestartSec=30",
        "TimeoutStartSec=2h",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])


def user_data(card: Card) -> str:
    """cloud-config: hostname, users, and a unit that runs the first-boot script."""
    lines = [
        "#cloud-config",
        f"# Turnout kiosk {card.kiosk_id or '(set up by card)'}, written by turnout-image.",
        f"# First boot runs {CARD_DIR}/firstboot.sh from this partition (image-build/README.md).",
        "# Nothing secret is in this file.",
        f"hostname: {_q(card.hostname)}",
        "manage_etc_hosts: true",
        f"timezone: {_q(card.timezone)}",
        "users:",
        f"  - name: {_q(KIOSK_USER)}",
        "    gecos: \"Turnout kiosk\"",
        "    system: true",
        "    lock_passwd: true",
        "    shell: \"/usr/sbin/nologin\"",
        f"    groups: {_list(KIOSK_GROUPS)}",
    ]
    if card.admin:
        admin = card.admin
        lines += [
            f"  - name: {_q(admin.name)}",
            "    gecos: \"Turnout organiser\"",
            "    shell: \"/bin/bash\"",
            f"    groups: {_list(('sudo', 'adm', 'systemd-journal', *KIOSK_GROUPS))}",
            # sudo asks for the password when there is one; a key-only login has none to give
            f"    sudo: {_q('ALL=(ALL) ALL' if admin.password_hash else 'ALL=(ALL) NOPASSWD:ALL')}",
            f"    lock_passwd: {'false' if admin.password_hash else 'true'}",
        ]
        if admin.password_hash:
            lines.append(f"    passwd: {_q(admin.password_hash)}")
        if admin.ssh_keys:
            lines.append("    ssh_authorized_keys:")
            lines += [f"      - {_q(key)}" for key in admin.ssh_keys]
    lines += [
        "ssh_pwauth: false",
        "# Raspberry Pi OS: no first-boot user wizard waiting on the screen (a kiosk has no keyboard)",
        "disable_piwiz: true",
        "write_files:",
        "  - path: \"/etc/systemd/system/turnout-firstboot.service\"",
        "    permissions: \"0644\"",
        "    content: |",
        *[f"      {line}" if line else "" for line in firstboot_unit().splitlines()],
        "runcmd:",
        "  - [\"systemctl\", \"daemon-reload\"]",
        # --no-block: runcmd runs inside cloud-final, which the unit waits for
        "  - [\"systemctl\", \"enable\", \"--now\", \"--no-block\", \"turnout-firstboot.service\"]",
    ]
    if card.admin and card.admin.ssh_keys:
        lines.append("  - [\"systemctl\", \"enable\", \"--now\", \"--no-block\", \"ssh\"]")
    return "\n".join(lines) + "\n"


def network_config(card: Card) -> str:
    """netplan v2: ethernet by DHCP when plugged in, and the wi-fi if there is one."""
    lines = [
        "# Written by turnout-image: netplan version 2, applied by cloud-init at first boot.",
        "network:",
        "  version: 2",
        "  ethernets:",
        "    eth0:",
        "      dhcp4: true",
        "      optional: true",
    ]
    if card.wifi:
        wifi = card.wifi
        lines += [
            "  wifis:",
            "    wlan0:",
            "      dhcp4: true",
            "      optional: true",
            f"      regulatory-domain: {_q(wifi.country)}",
            "      access-points:",
        ]
        settings = []
        if wifi.password is not None:
            settings.append(f"          password: {_q(wifi.password)}")
        if wifi.hidden:
            settings.append("          hidden: true")
        lines.append(f"        {_q(wifi.ssid)}:" + ("" if settings else " {}"))
        lines += settings
    return "\n".join(lines) + "\n"


def meta_data(card: Card) -> str:
    return "\n".join([
        "# Written by turnout-image. A new instance-id makes cloud-init set the kiosk up again.",
        "dsmode: local",
        f"instance-id: {_q(card.instance_id)}",
        f"local-hostname: {_q(card.hostname)}",
    ]) + "\n"


def card_env(camera: bool, extra_packages: tuple[str, ...] = ()) -> str:
    """What the first-boot script installs (sourced by /bin/sh: plain words only)."""
    packages = list(SCANNER_PACKAGES) + (list(CAMERA_PACKAGES) if camera else []) + list(extra_packages)
    wheels = list(CAMERA_WHEELS) if camera else []
    for word in packages + wheels:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.+|-]*", word):
            raise ValueError(f"not a package name: {word!r}")
    return "\n".join([
        "# Written by turnout-image: what first boot installs.",
        f"TURNOUT_PACKAGES=\"{' '.join(packages)}\"",
        f"TURNOUT_EXTRA_WHEELS=\"{' '.join(wheels)}\"",
    ]) + "\n"


_DTPARAM = re.compile(r"^\s*dtparam\s*=\s*(.*?)\s*$")
_COMMENTED_I2C = re.compile(r"^\s*#\s*dtparam\s*=\s*i2c_arm\s*=\s*on\s*$")


def enable_i2c(config_txt: str) -> str:
    """config.txt with the ARM I2C bus on for every model (the OLED's bus), else unchanged.

    Only lines outside model filters count ([pi4] ... applies to a Pi 4 alone); a commented
    ``#dtparam=i2c_arm=on`` there (as Raspberry Pi OS ships it) is uncommented, an ``off``
    turned on, and otherwise the line is added under ``[all]`` at the end.
    """
    lines = config_txt.splitlines()
    section = "all"
    commented = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip().lower()
            continue
        if section != "all":
            continue
        match = _DTPARAM.match(line)
        if match:
            params = [p.strip() for p in match.group(1).split(",")]
            for j, param in enumerate(params):
                name, _, value = param.partition("=")
                if name.strip() in ("i2c_arm", "i2c"):
                    if value.strip().lower() in ("", "on", "true", "yes", "1"):
                        return config_txt
                    params[j] = f"{name.strip()}=on"
                    lines[i] = "dtparam=" + ",".join(params)
                    return _joined(lines, config_txt)
        elif commented is None and _COMMENTED_I2C.match(line):
            commented = i
    if commented is not None:
        lines[commented] = "dtparam=i2c_arm=on"
        return _joined(lines, config_txt)
    tail = "" if not config_txt or config_txt.endswith("\n") else "\n"
    return config_txt + tail + "\n# Turnout: the OLED display's I2C bus\n[all]\ndtparam=i2c_arm=on\n"


def hostname_for(kiosk_id: str | None) -> str:
    """A host name from a kiosk id (host names have no '_' and are case-blind)."""
    if not kiosk_id:
        return "turnout-kiosk"
    name = re.sub(r"[^a-z0-9-]", "-", kiosk_id.lower()).strip("-")[:63].strip("-")
    return name or "turnout-kiosk"


def _joined(lines: list[str], original: str) -> str:
    return "\n".join(lines) + ("\n" if original.endswith("\n") else "")


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(value, ensure_ascii=False)


def _list(values) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"
