"""A minimal Debian Trixie root filesystem that can boot with systemd-nspawn and run Turnout's
units: built once with mmdebstrap from the Debian mirror apt already uses, and kept under
build/ keyed by what goes into it (so a change to the package list builds a new one).

A venv at /opt/turnout/.venv (where the units run the kiosk and hub) gets Turnout's
dependencies from PyPI at build time, and sees Debian's python3-evdev. The turnout wheel itself is installed into each boot, not into the cache.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITE = "trixie"
BUILDER_VERSION = 2  # bump when the way the rootfs is built changes
VENV = "/opt/turnout/.venv"
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
# systemd to boot; Python; Mosquitto for the hub host's drop-in; python-evdev, which PyPI has
# only as source. The rest comes from PyPI as wheels: much quicker than Debian's python3-*
# packages, which byte-compile each module as they are unpacked.
PACKAGES = ["systemd", "systemd-sysv", "dbus", "python3", "python3-venv", "python3-evdev", "mosquitto"]


def requirements() -> list[str]:
    """The kiosk's and the hub's requirements, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return sorted(project["dependencies"] + project["optional-dependencies"]["hub"])


def mirror() -> str:
    """The Debian mirror this machine's apt uses (deb822 .sources or sources.list)."""
    texts = [p.read_text() for p in sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))]
    for text in texts:
        for uri in re.findall(r"^URIs:\s*(\S+)", text, re.M):
            if uri.rstrip("/").endswith("/debian"):
                return uri
    sources = Path("/etc/apt/sources.list")
    if sources.exists():
        for uri in re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)/?\s", sources.read_text(), re.M):
            return uri
    return "http://deb.debian.org/debian"


def cache_key() -> str:
    spec = json.dumps([BUILDER_VERSION, SUITE, PACKAGES, requirements()])
    return hashlib.sha256(spec.encode()).hexdigest()[:12]


def build_rootfs(build_dir: Path = ROOT / "build", log=None) -> Path:
    """The rootfs directory, built if this package list has none yet (a few minutes, once)."""
    target = build_dir / f"rootfs-{SUITE}-{cache_key()}"
    if (target / ".turnout-complete").exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    build_dir.mkdir(parents=True, exist_ok=True)
    pip = " ".join(shlex.quote(r) for r in requirements())
    subprocess.run(
        ["mmdebstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES),
         f"--customize-hook=chroot \"$1\" python3 -m venv --system-site-packages {VENV}",
         # PyPI through this machine's CA bundle (it may hold a proxy's CA the rootfs lacks)
         f"--customize-hook=cp {HOST_CA} \"$1/tmp/host-ca.crt\"",
         f"--customize-hook=chroot \"$1\" env -u PIP_FIND_LINKS PIP_CERT=/tmp/host-ca.crt SSL_CERT_FILE=/tmp/host-ca.crt {VENV}/bin/pip install --quiet "
         f"--no-cache-dir --no-compile {pip}",
         "--customize-hook=rm \"$1/tmp/host-ca.crt\"",
         # what the units need that a Pi image has: a machine id, so journald keeps a journal
         "--customize-hook=chroot \"$1\" systemd-machine-id-setup",
         SUITE, str(partial), mirror()],
        check=True, stdout=log, stderr=subprocess.STDOUT if log else None, timeout=1800)
    (partial / ".turnout-complete").write_text(cache_key() + "\n")
    for old in build_dir.glob(f"rootfs-{SUITE}-*"):  # an older package list's rootfs
        if old != partial:
            shutil.rmtree(old, ignore_errors=True)
    partial.rename(target)
    return target


if __name__ == "__main__":
    print(build_rootfs())
