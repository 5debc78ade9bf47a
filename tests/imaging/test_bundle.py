"""The card's turnout/ folder, built from this repository (without the internet)."""

import os
import zipfile
from pathlib import Path

from imaging.bundle import build_bundle, kiosk_requirements

REPO = Path(__file__).parents[2]


def test_bundle_from_the_repository(tmp_path):
    bundle = build_bundle(REPO, tmp_path / "turnout", download=False)
    script = tmp_path / "turnout/firstboot.sh"
    assert script.read_bytes() == (REPO / "imaging/firstboot.sh").read_bytes()
    assert os.access(script, os.X_OK)
    assert 'TURNOUT_PACKAGES="python3-evdev python3-lgpio i2c-tools"' in (tmp_path / "turnout/card.env").read_text()
    units = sorted((REPO / "systemd").glob("turnout-kiosk*"))
    assert [u.name for u in bundle.units] == [u.name for u in units]
    for built, source in zip(bundle.units, units):
        assert built.read_bytes() == source.read_bytes()  # copied, whatever systemd/ holds now
    assert not (tmp_path / "turnout/systemd/turnout-hub.service").exists()  # the hub's unit is not a kiosk's
    [wheel] = bundle.wheels
    assert wheel.name.startswith("turnout-") and wheel.suffix == ".whl"
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("imaging/firstboot.sh", "imaging/oled.py", "kiosk/daemon.py", "turnout/protocol.py"):
        assert needed in names
    assert not any(name.startswith("tests/") for name in names)
    assert any("first boot will fetch them" in note for note in bundle.notes)


def test_the_pi_takes_evdev_from_apt():
    wanted = kiosk_requirements(REPO / "pyproject.toml")
    names = [w.split(">")[0].split("=")[0].split("<")[0].lower() for w in wanted]
    assert "evdev" not in names
    assert {"paho-mqtt", "sqlite-utils", "gpiozero", "luma.oled", "pillow"} <= set(names)
