"""``turnout-kiosk doctor``: real files for the places it looks, a real broker, real stores."""

import fcntl
from dataclasses import replace
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone


from kiosk.config import load_settings
from kiosk.doctor import (Places, check_broker, check_clock, check_gpio, check_outbox, check_scanner,
                          check_screen, examine, kiosk_running, report)
from kiosk.store import ScanStore
from tests.broker import free_port
from tests.hub.kiosks import make_scan
from tests.hub.test_broker_security import secured  # noqa: F401  (a fixture: a broker with logins and TLS)
from tests.kiosk.sim import ROOT


def settings_for(tmp_path, **values):
    lines = [f'{k} = {v!r}' if isinstance(v, str) else f"{k} = {v}" for k, v in
             {"kiosk_id": "hall-1", "data_dir": str(tmp_path / "data"), **values}.items()]
    path = tmp_path / "kiosk.toml"
    path.write_text("\n".join(lines).replace("'", '"') + "\n")
    return path, load_settings(path)


def places(tmp_path, synchronised=False, scanner=True):
    dev = tmp_path / "dev"
    by_id = dev / "input" / "by-id"
    by_id.mkdir(parents=True, exist_ok=True)
    if scanner and not (by_id / "usb-Netum_Barcode_Scanner-event-kbd").is_symlink():
        (dev / "input" / "event3").write_bytes(b"")
        (by_id / "usb-Netum_Barcode_Scanner-event-kbd").symlink_to("../event3")
    flag = tmp_path / "run" / "synchronized"
    if synchronised:
        flag.parent.mkdir(parents=True, exist_ok=True)
        flag.write_text("")
    return Places(dev=dev, input_by_id=by_id, timesync_flag=flag)


def test_doctor_here_says_what_to_fix_in_plain_words_and_exits_non_zero(tmp_path):
    config, _ = settings_for(tmp_path, broker=f"mqtt://127.0.0.1:{free_port()}")
    done = subprocess.run([sys.executable, "-m", "kiosk.cli", "doctor", "--config", str(config)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("FIX  broker") and "cannot reach mqtt://127.0.0.1" in line
               and "check that the kiosk is on the venue's network" in line for line in lines)
    assert any(line.startswith("FIX  disk") and "does not exist" in line for line in lines)
    assert lines[-1].endswith("to fix (above, marked FIX).")
    assert "Traceback" not in done.stderr


def test_a_kiosk_in_good_shape_is_all_well(tmp_path, broker, monkeypatch, capsys):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")  # gpiozero's own simulated pins
    _, settings = settings_for(tmp_path, broker=broker.url, display="none")
    settings.data_dir.mkdir()
    store = ScanStore.open(settings.db_path)
    store.add(replace(make_scan("hall-1", "barcamp", "T5724"), ts=_iso(datetime.now(timezone.utc))))
    store.close()
    findings = examine(settings, places(tmp_path, synchronised=True))
    assert report(findings, sys.stdout) == 0, capsys.readouterr().out
    said = {f.what: f.detail for f in findings}
    assert said["broker"].startswith("logged in to mqtt://")
    assert said["scanner"] == "usb-Netum_Barcode_Scanner-event-kbd"
    assert said["GPIO"] == "gpiozero drives the pins with MockFactory"
    assert said["outbox"].startswith("1 scan waiting to sync, the oldest from")
    assert capsys.readouterr().out.rstrip().endswith("All well.")


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_scans_waiting_for_long_are_a_problem(tmp_path):
    _, settings = settings_for(tmp_path)
    store = ScanStore.open(settings.db_path)
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    for seq in (1, 2):
        store.add(replace(make_scan("hall-1", "barcamp", "T5724", seq=seq), ts=_iso(an_hour_ago)))
    store.close()
    finding = check_outbox(settings)
    assert not finding.ok
    assert "2 scans waiting to sync" in finding.detail and "has not synced for 60 minutes" in finding.detail


def test_a_damaged_outbox_is_reported_and_left_where_it_is(tmp_path):
    _, settings = settings_for(tmp_path)
    settings.data_dir.mkdir()
    settings.db_path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    finding = check_outbox(settings)
    assert not finding.ok and "turnout-kiosk recover" in finding.detail
    assert settings.db_path.exists() and not list(settings.data_dir.glob("kiosk.db.corrupt-*"))


def test_the_screen_check_probes_the_i2c_bus_and_says_what_to_do(tmp_path):
    _, settings = settings_for(tmp_path)
    p = places(tmp_path)
    assert "I2C is off" in check_screen(settings, p).detail
    (p.dev / "i2c-1").write_bytes(b"")  # a file, not an I2C adapter: nothing can answer
    finding = check_screen(settings, p)
    assert not finding.ok and "nothing answers at 0x3C" in finding.detail and "SDA to GPIO2" in finding.detail


def test_no_scanner_plugged_in(tmp_path):
    _, settings = settings_for(tmp_path)
    finding = check_scanner(settings, places(tmp_path, scanner=False))
    assert not finding.ok and finding.detail.startswith("no USB scanner under")
    _, named = settings_for(tmp_path, scanner=f"hid:{tmp_path}/no-such-device")
    assert "does not exist: plug the scanner in" in check_scanner(named, places(tmp_path, scanner=False)).detail


def test_gpio_without_a_pin_library(tmp_path, monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-library")
    _, settings = settings_for(tmp_path)
    finding = check_gpio(settings)
    assert not finding.ok and "gpiozero has no pin library it can use" in finding.detail


def test_the_clock_without_a_time_server(tmp_path):
    finding = check_clock(places(tmp_path), timedatectl=lambda: "no")
    assert not finding.ok and "not synchronised" in finding.detail
    assert check_clock(places(tmp_path), timedatectl=lambda: "yes").ok


def test_a_wrong_password_and_a_broker_without_the_right_ca(tmp_path, secured):  # noqa: F811
    _, wrong = settings_for(tmp_path, broker=f"mqtt://kiosk-a:not-the-password@127.0.0.1:{secured['port']}")
    finding = check_broker(wrong, kiosk_running=False)
    assert not finding.ok and "refused the login" in finding.detail and "turnout-hub kiosk rotate" in finding.detail
    password = secured["passwords"]["kiosk-a"]
    _, right = settings_for(tmp_path, broker=f"mqtt://kiosk-a:{password}@127.0.0.1:{secured['port']}")
    assert check_broker(right, kiosk_running=False).ok
    _, tls = settings_for(tmp_path, broker=f"mqtts://kiosk-a:{password}@localhost:{secured['tls_port']}")
    finding = check_broker(tls, kiosk_running=False)  # the hub's own CA is not one the system trusts
    assert not finding.ok and "does not prove who it is" in finding.detail


def test_while_the_kiosk_runs_its_login_is_not_used_again(tmp_path, broker):
    _, settings = settings_for(tmp_path, broker=broker.url)
    settings.data_dir.mkdir()
    fd = os.open(settings.data_dir / "kiosk.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as the running kiosk holds it
    try:
        assert kiosk_running(settings)
        finding = check_broker(settings, kiosk_running(settings))
        assert finding.ok and "its login was not tried again" in finding.detail
    finally:
        os.close(fd)
    assert not kiosk_running(settings)


def test_the_ca_as_kiosk_add_writes_it_pem_text_in_the_settings(tmp_path, secured):  # noqa: F811
    password = secured["passwords"]["kiosk-a"]
    pem = open(secured["ca"]).read()
    config, pinned = settings_for(tmp_path, broker=f"mqtts://kiosk-a:{password}@localhost:{secured['tls_port']}",
                                  broker_ca=pem)
    finding = check_broker(pinned, kiosk_running=False)
    assert finding.ok and "over TLS" in finding.detail, finding.detail
    assert check_broker(pinned, kiosk_running=True).ok  # the reachability check pins the same CA
    _, by_path = settings_for(tmp_path, broker=pinned.broker, broker_ca=secured["ca"])
    assert check_broker(by_path, kiosk_running=False).ok


def test_a_broker_ca_that_is_not_a_certificate_is_a_plain_finding(tmp_path):
    broker = f"mqtts://kiosk-a:pw@localhost:{free_port()}"
    for ca in ("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
               str(tmp_path / "no-such-ca.pem"), "x" * 5000):
        config, settings = settings_for(tmp_path, broker=broker, broker_ca=ca)
        for running in (False, True):
            finding = check_broker(settings, kiosk_running=running)
            assert not finding.ok and "is not a CA certificate the kiosk can read" in finding.detail, finding.detail
        done = subprocess.run([sys.executable, "-m", "kiosk.cli", "doctor", "--config", str(config)],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        assert any(line.startswith("FIX  broker") for line in done.stdout.splitlines())


def test_a_check_that_trips_over_a_setting_says_so_in_a_line(tmp_path, monkeypatch):
    import kiosk.doctor as doctor

    def trips(*args):
        raise ValueError("an unforeseen setting")

    monkeypatch.setattr(doctor, "check_clock", trips)
    _, settings = settings_for(tmp_path, display="none", scanner="stdin", buzzer="none")
    findings = examine(settings, places(tmp_path))
    clock = next(f for f in findings if f.what == "clock")
    assert not clock.ok and "could not be checked (ValueError: an unforeseen setting)" in clock.detail
