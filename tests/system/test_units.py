"""The shipped units, checked by systemd's own tools on this machine: `systemd-analyze verify`
(no warnings at all) and `systemd-analyze security --offline=true --threshold=N` (both in
systemd 252, Debian 12's)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "systemd"
# Exposure, in tenths as --threshold counts: 20 is 2.0, inside "OK" (1.0-4.9). The kiosk scores
# 1.5 and the hub 1.1 today; a change that loosens either past 2.0 fails here.
THRESHOLD = 20

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed (Debian package systemd)")


@pytest.fixture
def units(tmp_path):
    """The units as shipped, with ExecStart pointing at this checkout's venv instead of
    /opt/turnout/.venv (verify checks the program exists); everything else unchanged."""
    for unit in [*UNITS.glob("*.service"), *UNITS.glob("*.path")]:
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/turnout/.venv", sys.prefix))
    return tmp_path


def test_systemd_analyze_verify_finds_nothing_to_say(units):
    names = sorted(str(p) for p in units.iterdir())
    done = subprocess.run(["systemd-analyze", "verify", *names], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_mosquitto_drop_in_is_read_without_complaint(tmp_path):
    debian = Path("/lib/systemd/system/mosquitto.service")
    if not debian.exists():
        pytest.skip("Mosquitto's own unit is not installed here (Debian package mosquitto)")
    shutil.copy(debian, tmp_path / "mosquitto.service")
    shutil.copytree(UNITS / "mosquitto.service.d", tmp_path / "mosquitto.service.d")
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "mosquitto.service")],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.parametrize("unit", ["turnout-kiosk.service", "turnout-hub.service"])
def test_the_sandbox_scores_ok_or_better(units, unit, capsys):
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", f"--threshold={THRESHOLD}",
                           "--no-pager", str(units / unit)], capture_output=True, text=True, timeout=60)
    overall = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", done.stdout)
    with capsys.disabled():
        print(f"\n    systemd-analyze security {unit}: {overall.group(1)} {overall.group(2)}"
              f" (threshold {THRESHOLD / 10})")
    assert done.returncode == 0, done.stdout
    assert overall.group(2) in ("OK", "SAFE", "PERFECT")
