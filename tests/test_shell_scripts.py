"""Every shell script in the repository passes shellcheck (the first-boot script runs as root on
a Pi nobody is watching: a quoting slip there costs a kiosk)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
NOT_OURS = {".git", ".venv", "build", "var", "node_modules", "__pycache__", ".pytest_cache", ".hypothesis"}


def shell_scripts() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = sorted(d for d in dirs if d not in NOT_OURS and not d.endswith(".egg-info"))
        for name in sorted(files):
            path = Path(folder) / name
            with open(path, "rb") as fh:
                first = fh.readline(200)
            if name.endswith(".sh") or _interpreter(first) in (b"sh", b"bash", b"dash"):
                found.append(path)
    return found


def _interpreter(first_line: bytes) -> bytes | None:
    """`sh` for `#!/bin/sh -e`, `bash` for `#!/usr/bin/env bash`."""
    words = first_line[2:].split() if first_line.startswith(b"#!") else []
    if not words:
        return None
    program = words[0].rsplit(b"/", 1)[-1]
    return words[1] if program == b"env" and len(words) > 1 else program


def test_the_scripts_are_found():
    names = {p.relative_to(REPO).as_posix() for p in shell_scripts()}
    assert {"imaging/firstboot.sh", "scripts/ensure-system-packages", ".ci/run",
            "image-build/pi-gen/stage-turnout/00-turnout/01-run-chroot.sh"} <= names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_shellcheck(script):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (Debian package shellcheck; `make test` installs it)")
    done = subprocess.run(["shellcheck", "--severity=style", str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout
