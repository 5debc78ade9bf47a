"""The real tools the card's files are checked with, each skipped with a clear message when the
machine lacks it (`make test` installs them: Makefile TEST_SYSTEM_PACKAGES)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"  # the Python cloud-init runs on, with its YAML parser


def need(tool: str, package: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
    if not path:
        pytest.skip(f"{tool} is not installed (Debian package {package}; `make test` installs it)")
    return path


def cloud_init_schema(text: str, tmp_path: Path) -> subprocess.CompletedProcess:
    tool = need("cloud-init", "cloud-init")
    path = tmp_path / "user-data"
    path.write_text(text)
    return subprocess.run([tool, "schema", "--config-file", str(path)], capture_output=True, text=True, timeout=120)


def yaml_load(text: str):
    """The YAML as cloud-init's own parser (PyYAML, with the cloud-init package) reads it."""
    need("cloud-init", "cloud-init")
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
                          input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def netplan_render(network_config: str, root: Path) -> subprocess.CompletedProcess:
    """`netplan generate` on the file as cloud-init installs it, with Raspberry Pi OS's own
    default (NetworkManager renders everything)."""
    tool = need("netplan", "netplan.io")
    (root / "etc/netplan").mkdir(parents=True)
    (root / "lib/netplan").mkdir(parents=True)
    ours = root / "etc/netplan/50-cloud-init.yaml"
    ours.write_text(network_config)
    pi_default = root / "lib/netplan/00-network-manager-all.yaml"
    pi_default.write_text("network:\n  version: 2\n  renderer: NetworkManager\n")
    for path in (ours, pi_default):
        path.chmod(0o600)
    return subprocess.run([tool, "generate", "--root-dir", str(root)], capture_output=True, text=True, timeout=120)


def mtools_read(image: Path, offset: int, name: str) -> bytes:
    """A file from a FAT image, read by mtools directly (not through imaging.partition)."""
    need("mtype", "mtools")
    drive = f"{image}@@{offset}" if offset else str(image)
    done = subprocess.run(["mtype", "-i", drive, f"::/{name}"], capture_output=True, timeout=60,
                          env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def mtools_names(image: Path, offset: int, folder: str = "") -> list[str]:
    need("mdir", "mtools")
    drive = f"{image}@@{offset}" if offset else str(image)
    done = subprocess.run(["mdir", "-b", "-i", drive, f"::/{folder}"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    return sorted(line.rstrip("/").rsplit("/", 1)[-1] + ("/" if line.endswith("/") else "") for line in lines)
