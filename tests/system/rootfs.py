"""Minimal Debian Trixie root filesystems built once with mmdebstrap from the Debian mirror apt
already uses, and kept under build/ keyed by what goes into them (so a change to a package
list builds a new one).

`CONTAINER` boots with systemd-nspawn and runs Turnout's units (tests/system): a venv at
/opt/turnout/.venv (where the units run the kiosk and hub) gets Turnout's dependencies from
PyPI at build time, and sees Debian's python3-evdev. The turnout wheel itself is installed into
each boot, not into the cache. tests/hil builds its virtual machine's trees with the same `Tree`.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
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


def requirements(*extras: str) -> list[str]:
    """The kiosk's requirements and those of the named extras, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return sorted(project["dependencies"] + [r for e in extras for r in project["optional-dependencies"][e]])


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


@dataclass(frozen=True)
class Tree:
    """What goes into one cached root filesystem: Debian packages, a venv with PyPI
    requirements (none: no venv), and mmdebstrap customize hooks run after them ("$1" is the tree)."""

    name: str
    packages: tuple[str, ...]
    pip: tuple[str, ...] = ()
    hooks: tuple[str, ...] = ()
    variant: str = "minbase"

    def key(self, *inputs: str) -> str:
        """Changes whenever the tree would: its spec, and `inputs` (what the hooks copy in)."""
        spec = [BUILDER_VERSION, SUITE, list(self.packages), list(self.pip)]
        if self.hooks or inputs:  # the container's key stays as it was before hooks existed
            spec += [list(self.hooks), list(inputs)]
        return hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:12]

    def venv_hooks(self) -> list[str]:
        if not self.pip:
            return []
        pip = " ".join(shlex.quote(r) for r in self.pip)
        return [f"chroot \"$1\" python3 -m venv --system-site-packages {VENV}",
                # PyPI through this machine's CA bundle (it may hold a proxy's CA the rootfs lacks)
                f"cp {HOST_CA} \"$1/tmp/host-ca.crt\"",
                f"chroot \"$1\" env -u PIP_FIND_LINKS PIP_CERT=/tmp/host-ca.crt SSL_CERT_FILE=/tmp/host-ca.crt "
                f"{VENV}/bin/pip install --quiet --no-cache-dir --no-compile {pip}",
                "rm \"$1/tmp/host-ca.crt\""]


CONTAINER = Tree("rootfs", tuple(PACKAGES), tuple(requirements("hub")))


def cache_key() -> str:
    return CONTAINER.key()


def build_rootfs(build_dir: Path = ROOT / "build", log=None, tree: Tree = CONTAINER,
                 inputs: tuple[str, ...] = ()) -> Path:
    """The tree's directory, built if this spec has none yet (a few minutes, once)."""
    key = tree.key(*inputs)
    target = build_dir / f"{tree.name}-{SUITE}-{key}"
    if (target / ".turnout-complete").exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    build_dir.mkdir(parents=True, exist_ok=True)
    # what the units need that a Pi image has: a machine id, so journald keeps a journal
    hooks = tree.venv_hooks() + ["chroot \"$1\" systemd-machine-id-setup"] * ("systemd" in tree.packages)
    subprocess.run(
        ["mmdebstrap", f"--variant={tree.variant}", "--include=" + ",".join(tree.packages),
         *(f"--customize-hook={hook}" for hook in hooks + list(tree.hooks)),
         SUITE, str(partial), mirror()],
        check=True, stdout=log, stderr=subprocess.STDOUT if log else None, timeout=1800)
    (partial / ".turnout-complete").write_text(key + "\n")
    for old in build_dir.glob(f"{tree.name}-{SUITE}-*"):  # an older spec's tree
        if old != partial and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    partial.rename(target)
    return target


if __name__ == "__main__":
    print(build_rootfs())
