"""The card's ``turnout/`` folder, the same for every kiosk: Turnout's wheel, the wheels it needs
on a Pi (so first boot installs it without the internet), the kiosk's systemd units and the
first-boot script.

    turnout/firstboot.sh     run by turnout-firstboot.service on the Pi
    turnout/card.env         what it installs with apt and pip (scanner, or camera too)
    turnout/wheels/          turnout-*.whl, its dependencies for Raspberry Pi OS Trixie (arm64,
                             Python 3.13), and pip itself
    turnout/systemd/         every turnout-kiosk* unit in the repository's systemd/
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from imaging.boot_files import CAMERA_WHEELS, FROM_APT, card_env

# Raspberry Pi OS Trixie, 64-bit: Python 3.13, glibc 2.41. A wheel for any older glibc runs.
PI_PYTHON = "3.13"
PI_ABI = "cp313"
PI_PLATFORMS = tuple(f"manylinux_2_{minor}_aarch64" for minor in range(17, 42)) + ("manylinux2014_aarch64",)
KIOSK_UNITS = "turnout-kiosk*"
NOT_SOURCE = (".git", ".venv", "build", "var", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
              "node_modules", "tests", "bench", "docs")


@dataclass
class Bundle:
    folder: Path
    wheels: list[Path] = field(default_factory=list)
    units: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a person should know (e.g. offline)


def firstboot_script() -> bytes:
    return resources.files("imaging").joinpath("firstboot.sh").read_bytes()


def kiosk_requirements(pyproject: Path) -> list[str]:
    """The kiosk's dependencies from pyproject.toml, less those the Pi takes from apt."""
    project = tomllib.loads(pyproject.read_text())["project"]
    wanted = []
    for requirement in project["dependencies"]:
        name = re.split(r"[ <>=!~;\[]", requirement, maxsplit=1)[0].strip().lower()
        if name not in FROM_APT:
            wanted.append(requirement.split(";")[0].strip())
    return wanted


def build_bundle(repo: Path, out: Path, download: bool = True, camera: bool = False,
                 python: str = sys.executable) -> Bundle:
    """Build the turnout/ folder in `out` from the repository at `repo`. Its card.env says what
    first boot installs (a written card replaces it with the card's own)."""
    repo, out = Path(repo), Path(out)
    bundle = Bundle(out)
    wheels = out / "wheels"
    if out.exists():
        shutil.rmtree(out)
    wheels.mkdir(parents=True)
    (out / "firstboot.sh").write_bytes(firstboot_script())
    (out / "firstboot.sh").chmod(0o755)
    (out / "card.env").write_text(card_env(camera))

    # With a recent setuptools at hand the wheel builds without the internet (as in the tests).
    isolation = ["--no-build-isolation"] if _has_setuptools(python) else []
    with tempfile.TemporaryDirectory() as tmp:
        # from a clean copy: setuptools' build/ in the repository can hold deleted modules
        source = Path(tmp) / "turnout"
        shutil.copytree(repo, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
        _run([python, "-m", "pip", "wheel", "--quiet", "--no-deps", *isolation, "-w", str(wheels.resolve()),
              str(source)], "could not build Turnout's wheel")
    if download:
        wanted = kiosk_requirements(repo / "pyproject.toml") + list(CAMERA_WHEELS) + ["pip"]
        platforms = [arg for platform in PI_PLATFORMS for arg in ("--platform", platform)]
        done = subprocess.run(
            [python, "-m", "pip", "download", "--quiet", "--only-binary=:all:", *platforms,
             "--python-version", PI_PYTHON, "--implementation", "cp", "--abi", PI_ABI, "--abi", "abi3",
             "--abi", "none", "-d", str(wheels), *wanted],
            capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
            bundle.notes.append("Could not download the kiosk's dependency wheels for the Pi "
                                f"({reason}): first boot will fetch them from the internet.")
    else:
        bundle.notes.append("Dependency wheels not downloaded (--offline): first boot will fetch them "
                            "from the internet.")
    bundle.wheels = sorted(wheels.glob("*.whl"))

    units = sorted((repo / "systemd").glob(KIOSK_UNITS))
    if not units:
        raise FileNotFoundError(f"no {KIOSK_UNITS} units in {repo / 'systemd'}")
    (out / "systemd").mkdir()
    for unit in units:
        shutil.copy2(unit, out / "systemd" / unit.name)
    bundle.units = [out / "systemd" / unit.name for unit in units]
    return bundle


def _has_setuptools(python: str, at_least: int = 77) -> bool:
    done = subprocess.run([python, "-c", "import setuptools; print(setuptools.__version__)"],
                          capture_output=True, text=True, timeout=60)
    major = done.stdout.strip().split(".")[0]
    return done.returncode == 0 and major.isdigit() and int(major) >= at_least


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise OSError(f"{what}: {(done.stderr or done.stdout).strip()[-2000:]}")
