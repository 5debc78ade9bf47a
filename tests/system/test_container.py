"""The units really run: a Debian Trixie container booted with systemd, the turnout wheel and the
shipped units installed as on a Pi, the kiosk (simulated hardware) under its full sandbox
against a broker on this machine, its watchdog, and the hub.

Slow the first time (the rootfs is built, a few minutes, then cached under build/); a boot
takes about a second. Needs root, systemd-nspawn (Debian package systemd-container) and
mmdebstrap: `make test` installs both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.broker import free_port
from tests.system.container import PI_INSTALL
from tests.kiosk.sim import StandInHub, wait_for

ROOT = Path(__file__).resolve().parents[2]
MISSING = [tool for tool in ("systemd-nspawn", "mmdebstrap", "nsenter") if shutil.which(tool) is None]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="booting a container needs root"),
    pytest.mark.skipif(bool(MISSING), reason=f"{', '.join(MISSING)} not installed (Debian packages "
                       "systemd-container, mmdebstrap, util-linux; `make test` installs them)"),
]

# The test's own drop-in: the kiosk in simulation, reading codes from a FIFO (under systemd its
# stdin would be /dev/null: end of input, so the kiosk would stop), opened read-write so it never
# sees the end; and a short watchdog so a stall is caught in seconds. The shipped unit is untouched.
KIOSK_TEST_DROP_IN = """\
[Service]
ExecStart=
ExecStart=/bin/sh -c 'rm -f /run/turnout/scans && mkfifo -m 0600 /run/turnout/scans && exec /opt/turnout/.venv/bin/turnout-kiosk --config /etc/turnout/kiosk.toml --sim 0<>/run/turnout/scans'
WatchdogSec=3
# the simulated screen is drawn on stdout: keep the journal to the log lines
StandardOutput=null
StandardError=journal
"""
TIMES: dict[str, float] = {}


def say(text: str) -> None:
    print(f"    {text}", file=sys.__stdout__, flush=True)


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    from tests.system.container import Container
    from tests.system.rootfs import build_rootfs

    work = tmp_path_factory.mktemp("container")
    started = time.monotonic()
    with open(work / "rootfs.log", "wb") as log:
        try:
            rootfs = build_rootfs(log=log)
        except subprocess.CalledProcessError:
            pytest.fail("building the rootfs failed:\n" + (work / "rootfs.log").read_text()[-3000:])
    TIMES["rootfs (built or cached)"] = time.monotonic() - started
    wheels = work / "wheel"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    TIMES["wheel"] = time.monotonic() - started
    c = Container(rootfs, work / "console.log", {wheels: "/mnt/wheel", ROOT / "systemd": "/mnt/units"})
    try:
        c.boot()
        TIMES["boot to running"] = c.booted_in
        started = time.monotonic()
        install(c)
        TIMES["install wheel and units"] = time.monotonic() - started
        yield c
    finally:
        c.stop()
        say("container test times: " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMES.items()))


def install(c) -> None:
    """What a Pi's first boot does: the user and its groups, the package, the units."""
    c.run("sh", "-euc", PI_INSTALL, "-", "/mnt/wheel", "/mnt/units")


def test_the_units_verify_and_score_inside_trixie(container):
    verify = container.run("systemd-analyze", "verify", "/etc/systemd/system/turnout-kiosk.service",
                           "/etc/systemd/system/turnout-hub.service", check=False)
    assert (verify.returncode, verify.stdout + verify.stderr) == (0, "")
    version = container.run("systemctl", "--version").stdout.split("\n")[0]
    for unit in ("turnout-kiosk.service", "turnout-hub.service"):
        done = container.run("systemd-analyze", "security", "--offline=true", "--threshold=20", "--no-pager",
                             f"/etc/systemd/system/{unit}", check=False)
        overall = [line for line in done.stdout.splitlines() if "Overall exposure" in line][0]
        say(f"{version}: {overall.split('→ ')[-1]}")
        assert done.returncode == 0, done.stdout


def test_the_kiosk_runs_under_its_sandbox_syncs_a_scan_and_a_hung_loop_is_restarted(container, broker):
    kiosk_id = f"box-{uuid.uuid4().hex[:6]}"
    container.write("/etc/turnout/kiosk.toml", f'kiosk_id = "{kiosk_id}"\nevent = "barcamp"\n'
                    f'broker = "{broker.url}"\n')
    container.write("/etc/systemd/system/turnout-kiosk.service.d/test.conf", KIOSK_TEST_DROP_IN)
    container.run("systemctl", "daemon-reload")
    hub = StandInHub(broker.port)
    try:
        started = time.monotonic()
        container.run("systemctl", "start", "turnout-kiosk")  # returns once the kiosk said READY=1
        TIMES["kiosk start to READY"] = time.monotonic() - started
        status = container.run("systemctl", "status", "--no-pager", "turnout-kiosk", check=False).stdout
        assert "active (running)" in status, status + container.journal("turnout-kiosk")
        first_pid = container.show("turnout-kiosk", "MainPID")
        wait_for(lambda: container.show("turnout-kiosk", "StatusText").startswith("online"), "kiosk online")

        container.sh("echo T5724 > /run/turnout/scans")
        wait_for(lambda: "T5724" in hub.badges(), "the scan at the stand-in hub")
        wait_for(lambda: container.show("turnout-kiosk", "StatusText") == "online, 0 scans waiting; event barcamp",
                 "the hub's answer to settle the outbox")
        journal = container.journal("turnout-kiosk")
        assert "hub answered accepted" in journal, journal[-3000:]

        started = time.monotonic()
        container.sh("echo ':stall 60' > /run/turnout/scans")
        wait_for(lambda: "Failed with result 'watchdog'" in container.journal("turnout-kiosk"),
                 "the watchdog to catch the stalled loop", timeout=30)
        wait_for(lambda: container.show("turnout-kiosk", "ActiveState") == "active"
                 and container.show("turnout-kiosk", "MainPID") not in ("0", first_pid), "the restart", timeout=30)
        TIMES["stall to restarted"] = time.monotonic() - started
        assert int(container.show("turnout-kiosk", "NRestarts")) >= 1
        journal = container.journal("turnout-kiosk")
        for line in journal.splitlines():
            if "watchdog" in line.lower() or "Scheduled restart" in line:
                say(f"journal: {line}")
        container.sh("echo T13 > /run/turnout/scans")  # the restarted kiosk scans and syncs too
        wait_for(lambda: "T13" in hub.badges(), "a scan after the restart at the stand-in hub")
    finally:
        hub.close()
        container.run("systemctl", "stop", "turnout-kiosk", check=False)


def test_the_hub_starts_under_its_sandbox_and_serves_a_page(container, broker):
    port = free_port()
    container.write("/etc/turnout/hub.toml", f'db = "/var/lib/turnout/hub.db"\nbroker = "{broker.url}"\n'
                    f'http = "127.0.0.1:{port}"\nclient_id = "hub-{uuid.uuid4().hex[:8]}"\n')
    started = time.monotonic()
    container.run("systemctl", "start", "turnout-hub")  # returns once the hub said READY=1
    TIMES["hub start to READY"] = time.monotonic() - started
    try:
        status = container.run("systemctl", "status", "--no-pager", "turnout-hub", check=False).stdout
        assert "active (running)" in status, status + container.journal("turnout-hub")
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "Turnout" in page.text
        wait_for(lambda: "broker connected" in container.show("turnout-hub", "StatusText"), "hub on the broker")
        say(f"hub status: {container.show('turnout-hub', 'StatusText')}")
    finally:
        container.run("systemctl", "stop", "turnout-hub", check=False)


def test_mosquitto_runs_the_hubs_broker_config_and_new_kiosk_logins_take_effect(container):
    """The Mosquitto drop-in and the reload path unit, with the ownership docs/hub.md gives."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    port = free_port()
    container.run("cp", "-r", "/mnt/units/mosquitto.service.d", "/etc/systemd/system/")
    container.sh(f"""
        install -d -o turnout -g turnout -m 0700 /var/lib/turnout
        install -d -o turnout -g mosquitto -m 0750 /etc/turnout/broker
        runuser -u turnout -- /opt/turnout/.venv/bin/turnout-hub --db /var/lib/turnout/hub.db \
            broker-config --dir /etc/turnout/broker --port {port} --bind 127.0.0.1 --hostname 127.0.0.1
        chgrp -R mosquitto /etc/turnout/broker
        chmod 0640 /etc/turnout/broker/passwd /etc/turnout/broker/acl
        chown mosquitto:mosquitto /etc/turnout/broker/data
        systemctl daemon-reload
        systemctl enable --now turnout-broker-reload.path
    """)
    container.run("systemctl", "restart", "mosquitto", check=False)
    assert container.show("mosquitto", "ActiveState") == "active", container.journal("mosquitto")[-3000:]
    added = container.sh("runuser -u turnout -- /opt/turnout/.venv/bin/turnout-hub --db /var/lib/turnout/hub.db "
                         "--broker-dir /etc/turnout/broker kiosk add hall-9").stdout
    password = next(line.split('"')[1] for line in added.splitlines() if line.startswith("broker_password"))

    def logs_in() -> bool:
        answer: list = []
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hall-9")
        client.username_pw_set("hall-9", password)
        client.on_connect = lambda c, u, f, reason, p: answer.append(reason)
        client.connect("127.0.0.1", port)
        client.loop_start()
        wait_for(lambda: answer, "the broker's answer")
        client.disconnect()
        client.loop_stop()
        return not answer[0].is_failure

    try:
        try:
            wait_for(logs_in, "the new kiosk login to work (the path unit reloads Mosquitto)", timeout=30)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{container.sh('ls -la /etc/turnout/broker').stdout}"
                                 + "\n".join(line for line in container.journal().splitlines()[-400:]
                                             if "hall-9" not in line and "New connection" not in line)[-4000:]) from None
        journal = container.journal()
        assert "Sent signal SIGHUP to main process" in journal
        for line in journal.splitlines():
            if "turnout-broker-reload.service" in line or "SIGHUP" in line:
                say(f"journal: {line}")
    finally:
        container.run("systemctl", "stop", "turnout-broker-reload.path", "mosquitto", check=False)
