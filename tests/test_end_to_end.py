"""Kiosk and hub together, as a newcomer meets them in `make demo`: a real Mosquitto, the real
hub (`turnout-hub serve`) and the real kiosk (`turnout-kiosk --sim`), all as processes."""

import json
import subprocess
import sys
import urllib.request
import uuid
from datetime import date

import pytest

from tests.broker import free_port
from tests.kiosk.sim import ROOT, KioskProcess, wait_for


def hub_cli(db, *args):
    out = subprocess.run([sys.executable, "-m", "hub.cli", "--db", str(db), *args], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return out.split()[-1] if out.split() else ""


@pytest.fixture
def running_hub(hub_db, broker, tmp_path):
    db = hub_db
    today = date.today().isoformat()  # a kiosk's scans count only from the day before its event
    event = hub_cli(db, "event", "add", "Barcamp Leeds", "--date", today, "--venue", "Leeds")
    http = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "--db", str(db), "serve", "--broker", broker.url,
                             "--http", f"127.0.0.1:{http}", "--client-id", f"hub-{uuid.uuid4().hex[:8]}"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def up():
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{http}/api/v1/kiosks", timeout=1).status == 200
        except OSError:
            return False
    wait_for(up, "hub HTTP up", timeout=30)
    yield db, event, http
    proc.terminate()
    proc.wait(timeout=10)


def test_a_typed_badge_comes_back_as_name_and_progress(broker, tmp_path, running_hub):
    db, event, http = running_hub
    badge = hub_cli(db, "person", "add", "Ada Lovelace", "--org", "Leeds City Council")
    kiosk_id = f"e2e-{uuid.uuid4().hex[:8]}"
    hub_cli(db, "assign", kiosk_id, event)  # the running hub sends the kiosk its config
    kiosk = KioskProcess(broker.url, tmp_path / "kiosk", kiosk_id=kiosk_id, event=None, extra=["-v"])
    try:
        wait_for(lambda: any("config from hub" in e for e in kiosk.errors), "kiosk configured by the hub")
        kiosk.wait_online()
        kiosk.type(badge)
        kiosk.expect_tone("ok")
        wait_for(lambda: any("screen: Welcome(name='Ada'" in e and "points=1" in e for e in kiosk.errors),
                 "the hub's answer on the kiosk screen")
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/api/v1/people/{badge}") as resp:
            person = json.load(resp)
        assert (person["points"], person["attended"]) == (1, 1)
        # the same badge again, later: sent, counted once
        kiosk.type("TURNOUT:ROLE:cake")
        kiosk.expect_tone("armed")
        kiosk.type(badge)
        kiosk.expect_tone("ok")
        wait_for(lambda: any("points=3" in e for e in kiosk.errors), "cake points on screen")
        # What an operator's Prometheus sees (from this machine: no token needed)
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics") as resp:
            metrics = resp.read().decode()
        assert 'turnout_scans_total{status="accepted"} 2.0' in metrics
        assert "turnout_ack_latency_seconds_count 2.0" in metrics
        assert f'turnout_kiosk_online{{kiosk="{kiosk_id}"}} 1.0' in metrics
    finally:
        kiosk.close()
