"""The kiosk daemon as a black box: `turnout-kiosk --sim` against a real Mosquitto."""

import json
import sqlite3
import subprocess
import sys
import uuid

import pytest
from PIL import Image

from kiosk.store import ScanStore
from tests.kiosk.sim import ROOT, KioskProcess, StandInHub, wait_for
from turnout.codes import badge_code
from turnout.protocol import Ack, AckStatus, KioskConfig, Scan, Topics


@pytest.fixture
def kiosks():
    started = []
    yield started
    for k in started:
        k.close() if k.proc.poll() is None else None


def start(kiosks, broker, data_dir, extra_args=(), **kw):
    # A fresh kiosk id per test: retained status/config on the shared broker must not leak.
    kw.setdefault("kiosk_id", f"k-{data_dir.name[-20:].replace('_', '-')}-{uuid.uuid4().hex[:6]}")
    k = KioskProcess(broker.url, data_dir, extra=["-v", *extra_args], **kw)
    kiosks.append(k)
    return k


def pending(data_dir):
    db = sqlite3.connect(data_dir / "kiosk.db")
    return db.execute("select count(*) from scans where acked_at is null").fetchone()[0]


def screens_shown(kiosk):
    return [e for e in kiosk.errors if "screen:" in e]


def test_scan_is_delivered_acked_and_greets_by_name(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port)
    k = start(kiosks, broker, tmp_path)
    k.wait_online()
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: "T5724" in hub.badges(), "scan at the hub")
    [scan] = hub.scans
    assert (scan["event"], scan["role"], scan["seq"], scan["v"]) == ("barcamp", "attend", 1, 1)
    assert scan["kiosk"] == k.kiosk_id
    assert scan["clock_ok"] is True and scan["ts"].endswith("Z")
    wait_for(lambda: pending(tmp_path) == 0, "ack settles the outbox")
    wait_for(lambda: any("Welcome(name='Ada L.'" in s and "3 more to your 10" in s for s in screens_shown(k)),
             "the name and progress on screen")
    assert Image.open(tmp_path / "screen.png").size == (128, 64)
    hub.close()


def test_scans_made_while_the_broker_is_down_all_arrive(own_broker, tmp_path, kiosks):
    hub = StandInHub(own_broker.port)
    k = start(kiosks, own_broker, tmp_path)
    k.wait_online()
    own_broker.stop()
    badges = [badge_code(n) for n in range(100, 106)]
    for b in badges:
        k.type(b)
        k.expect_tone("ok")  # stored, beeped, offline
    assert pending(tmp_path) == len(badges)
    own_broker.start()
    wait_for(lambda: hub.badges() >= set(badges), "every offline scan at the hub", timeout=60)
    wait_for(lambda: pending(tmp_path) == 0, "outbox empty")
    assert len(hub.ids()) == len(badges)
    hub.close()


def test_a_scan_survives_sigkill_right_after_the_beep(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port, answering=False)
    k = start(kiosks, broker, tmp_path)
    k.type("T10019")
    k.expect_tone("ok")
    k.kill()
    hub.answering = True
    k2 = start(kiosks, broker, tmp_path)
    wait_for(lambda: "T10019" in hub.badges(), "scan from before the kill at the hub", timeout=45)
    wait_for(lambda: pending(tmp_path) == 0, "outbox empty after restart", timeout=45)
    ids = {s["id"] for s in hub.scans if s["badge"] == "T10019"}
    assert len(ids) == 1, "a re-send carries the same id, so the hub counts it once"
    # the sequence number carried on across the restart
    k2.type("T5724")
    k2.expect_tone("ok")
    wait_for(lambda: "T5724" in hub.badges(), "new scan")
    assert max(s["seq"] for s in hub.scans if s["badge"] == "T5724") == 2
    hub.close()


def test_acked_scans_are_never_resent(own_broker, tmp_path, kiosks):
    hub = StandInHub(own_broker.port)
    k = start(kiosks, own_broker, tmp_path)
    k.wait_online()
    first = [badge_code(n) for n in (7, 8, 9)]
    for b in first:
        k.type(b)
        k.expect_tone("ok")
    wait_for(lambda: pending(tmp_path) == 0, "all acked")
    seen_before = len(hub.scans)
    own_broker.restart()  # the kiosk reconnects and re-sends whatever it still holds
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: "T5724" in hub.badges(), "the scan after the reconnect", timeout=60)
    after = [s["badge"] for s in hub.scans[seen_before:]]
    assert after == ["T5724"], f"acked scans were sent again: {after}"
    hub.close()


def test_status_is_retained_and_the_last_will_says_offline(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port, answering=False)
    kid = f"will-{uuid.uuid4().hex[:8]}"
    k = start(kiosks, broker, tmp_path, kiosk_id=kid)
    wait_for(lambda: hub.statuses.get(kid, {}).get("state") == "online", "online status")
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: hub.statuses[kid].get("queued") == 1, "queued count in the status")
    assert hub.statuses[kid]["event"] == "barcamp"
    k.kill()
    wait_for(lambda: hub.statuses[kid]["state"] == "offline", "last will")
    late = StandInHub(broker.port)  # a newcomer still sees it: retained
    wait_for(lambda: late.statuses.get(kid, {}).get("state") == "offline", "retained status")
    # The will is fixed when a connection starts: one made with a scan waiting says so.
    again = start(kiosks, broker, tmp_path, kiosk_id=kid)
    wait_for(lambda: hub.statuses[kid]["state"] == "online", "online again")
    again.kill()
    wait_for(lambda: hub.statuses[kid]["state"] == "offline", "last will again")
    assert (hub.statuses[kid]["queued"], hub.statuses[kid]["event"]) == (1, "barcamp")
    hub.close()
    late.close()


def test_a_hub_that_says_it_is_offline_makes_the_kiosk_offline_until_it_is_back(own_broker, tmp_path, kiosks):
    hub = StandInHub(own_broker.port)
    k = start(kiosks, own_broker, tmp_path)
    k.wait_online()
    hub.say("offline")  # the hub stopped: its retained status (or last will) says so
    wait_for(lambda: any("online=False" in s for s in screens_shown(k)[-1:]), "idle screen offline")
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: any("CheckedIn(" in s and "will_sync=True" in s for s in screens_shown(k)),
             "'will sync' on screen")
    assert hub.badges() == set()  # nothing sent to a hub that is not there
    hub.say("online")
    wait_for(lambda: "T5724" in hub.badges(), "the waiting scan sent once the hub is back")
    wait_for(lambda: pending(tmp_path) == 0, "and acked")
    hub.close()


def test_bad_codes_get_an_error_and_the_kiosk_keeps_going(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port)
    k = start(kiosks, broker, tmp_path)
    for junk in ["T5742", "5012345678900", "https://example.org", "\x1b[2J", "9" * 500,
                 "TURNOUT:ROLE:juggling", "TURNOUT:UNDO"]:
        k.type(junk)
        k.expect_tone("error")
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: hub.badges() == {"T5724"}, "only the good scan reaches the hub")
    assert k.proc.poll() is None
    hub.close()


def test_a_scan_the_store_cannot_keep_is_an_error_and_can_be_made_again(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port)
    k = start(kiosks, broker, tmp_path)
    k.wait_online()
    k.type(":press cake")
    k.expect_tone("armed")
    db = sqlite3.connect(tmp_path / "kiosk.db")  # the card fills up: every insert fails from now
    db.execute("create trigger card_full before insert on scans "
               "begin select raise(abort, 'database or disk is full'); end")
    db.commit()
    k.type("T13")
    k.expect_tone("error")
    wait_for(lambda: any("screen: Problem(title='Storage error'" in e for e in screens_shown(k)),
             "the storage error on screen")
    db.execute("drop trigger card_full")
    db.commit()
    db.close()
    k.type("T13")  # at once: the retry, not a double read; cake is still armed
    k.expect_tone("ok")
    wait_for(lambda: hub.scans, "the retried scan")
    [scan] = hub.scans
    assert (scan["badge"], scan["role"], scan["seq"]) == ("T13", "cake", 1)
    hub.close()


def test_role_button_then_badge_and_undo(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port)
    k = start(kiosks, broker, tmp_path)
    k.type(":press cake")  # drives the cake button's mock GPIO pin low, then high
    k.expect_tone("armed")
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: len(hub.scans) == 1, "the cake scan")
    assert hub.scans[0]["role"] == "cake"
    k.type("TURNOUT:UNDO")
    k.expect_tone("ok")
    wait_for(lambda: len(hub.scans) == 2, "the annulment")
    undo = hub.scans[1]
    assert undo["annuls"] == hub.scans[0]["id"] and undo["badge"] == "T5724" and undo["role"] == "cake"
    hub.close()


def test_milestone_ack_plays_the_fanfare(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port, milestone_for="T5724")
    k = start(kiosks, broker, tmp_path)
    k.wait_online()
    k.type("T5724")
    k.expect_tone("ok")
    k.expect_tone("milestone")
    hub.close()


def test_config_from_the_hub_sets_the_event(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port)
    cfg = KioskConfig("autumn-camp", "Autumn Camp", ("attend", "cake"))
    kid = f"cfg-{uuid.uuid4().hex[:8]}"
    hub.client.publish(Topics().config(kid), cfg.to_json(), qos=1, retain=True).wait_for_publish(5)
    k = start(kiosks, broker, tmp_path, kiosk_id=kid, event=None)
    wait_for(lambda: any("config from hub" in e for e in k.errors), "config applied")
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: hub.scans, "scan")
    assert hub.scans[0]["event"] == "autumn-camp"
    k.close()
    # kept across restarts even before the broker answers
    db = sqlite3.connect(tmp_path / "kiosk.db")
    assert json.loads(db.execute("select value from settings where key='config'").fetchone()[0])["event"] == "autumn-camp"
    hub.client.publish(Topics().config(kid), b"", retain=True).wait_for_publish(5)
    hub.close()


def test_first_boot_kiosk_is_set_up_by_showing_it_a_card(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port)
    k = start(kiosks, broker, tmp_path, event=None)
    k.type("TURNOUT:SETUP:spring-camp")
    k.expect_tone("ok")
    k.type("WIFI:T:WPA;S:venue-guest;P:secret;;")
    k.expect_tone("ok")
    wait_for(lambda: any("would join wi-fi venue-guest" in e for e in k.errors), "simulated join")
    assert not any("secret" in e for e in k.errors), "the wi-fi password must never be logged"
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: hub.scans, "scan")
    assert hub.scans[0]["event"] == "spring-camp"
    hub.close()


def test_configured_kiosk_needs_the_two_button_chord_for_set_up_cards(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port)
    k = start(kiosks, broker, tmp_path)
    k.type("TURNOUT:SETUP:hijack")
    k.expect_tone("error")
    k.type(":hold pitch cake")  # both mock pins low for 3.5 s: gpiozero's own hold timer fires
    k.expect_tone("armed")
    wait_for(lambda: any("screen: Notice(title='Set-up mode'" in e for e in k.errors), "set-up mode screen")
    k.type("TURNOUT:SETUP:autumn-camp")
    k.expect_tone("ok")
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: hub.scans, "scan")
    assert hub.scans[-1]["event"] == "autumn-camp"
    assert k.log.count("♪ armed") == 1, "the chord's two buttons arm nothing: one click in all"
    assert not any("screen: Armed(" in e for e in k.errors)
    hub.close()


def test_camera_kiosk_reads_badges_from_image_frames(broker, tmp_path, kiosks):
    """The camera path end to end: frames from a folder, decoded by the chain, confirmed, sent."""
    import numpy as np
    from PIL import Image as PILImage

    from tests.kiosk.badge_images import badge_frame
    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(7)
    PILImage.fromarray(badge_frame("T10019", "qr", "clean", rng).image).save(frames / "01-badge.png")
    PILImage.fromarray(badge_frame("T5724", "code128", "perspective", rng).image).save(frames / "02-badge.png")
    hub = StandInHub(broker.port)
    start(kiosks, broker, tmp_path / "kiosk", extra_args=["--scanner", f"images:{frames}"])
    wait_for(lambda: hub.badges() == {"T10019", "T5724"}, "both badges read by the camera", timeout=30)
    assert len(hub.scans) == 2, "a badge held in view counts once"
    hub.close()


# --- Storage that fails: a problem on screen, scans kept pending, never a crash ---------------

def test_an_answer_that_cannot_be_recorded_leaves_the_scan_pending_and_the_kiosk_running(broker, tmp_path, kiosks):
    hub = StandInHub(broker.port, answering=False)
    k = start(kiosks, broker, tmp_path)
    k.wait_online()
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: hub.scans, "the scan at the hub")
    ack = Ack(hub.scans[0]["id"], AckStatus.ACCEPTED).to_json()
    # Another process holds the write lock (an organiser's sqlite3 shell mid-transaction): the
    # kiosk's write fails for real, with SQLite's "database is locked".
    holder = sqlite3.connect(tmp_path / "kiosk.db", isolation_level=None)
    holder.execute("begin immediate")
    hub.client.publish(Topics().ack(k.kiosk_id), ack, qos=1).wait_for_publish(5)
    k.expect_tone("error")
    wait_for(lambda: any("screen: Problem(title='Storage error'" in s for s in screens_shown(k)),
             "the storage error on screen")
    wait_for(lambda: any("warning='Storage error'" in s for s in screens_shown(k)),
             "and on the idle screen after it")
    holder.execute("rollback")
    holder.close()
    assert k.proc.poll() is None and pending(tmp_path) == 1, "still running, the scan still pending"
    hub.client.publish(Topics().ack(k.kiosk_id), ack, qos=1).wait_for_publish(5)  # as for a re-send
    wait_for(lambda: pending(tmp_path) == 0, "the answer recorded once the store works")
    wait_for(lambda: "warning=''" in screens_shown(k)[-1], "the warning gone")
    assert any("storage works again" in e for e in k.errors)
    hub.close()


def test_a_full_disk_never_loses_a_beeped_scan_nor_stops_the_kiosk(broker, tmp_path, caplog):
    """The kiosk's own SQLite connection limited to the pages it has, plus one: really full."""
    from kiosk.machine import CodeRead
    from kiosk.screens import Problem
    from tests.kiosk.in_process import InProcessKiosk, fill_up

    hub = StandInHub(broker.port, answering=False)
    kiosk = InProcessKiosk(tmp_path, broker.url)

    def steps(k):
        k.wait_online()
        beeped = k.scan_until_refused(100, 400)
        assert k.problems()[-1] == Problem("Storage error", "tell an organiser")
        wait_for(lambda: len(hub.scans) >= beeped, "every beeped scan sent")
        for scan in list(hub.scans):  # the hub answers them all: recording answers needs room too
            hub.client.publish(Topics().ack(k.kiosk_id), Ack(scan["id"], AckStatus.ACCEPTED).to_json(),
                               qos=1).wait_for_publish(5)
        db = sqlite3.connect(tmp_path / "kiosk.db")
        wait_for(lambda: db.execute("select count(*) from scans").fetchone()[0] == beeped,
                 "every scan that beeped OK in the store")
        ids = {s["id"] for s in hub.scans}
        assert {r[0] for r in db.execute("select id from scans")} == ids
        k.daemon.post(CodeRead(badge_code(999)))  # the loop still answers: the error, clearly
        wait_for(lambda: len(k.problems()) >= 2, "a second clear error")
        db.close()

    kiosk.run(steps, before=fill_up)
    assert kiosk.daemon.machine.storage is not None
    hub.close()


def test_a_corrupt_store_is_moved_aside_the_kiosk_says_so_and_recover_brings_back_its_scans(broker, tmp_path, kiosks):
    from tests.kiosk.test_store import damage_page_holding

    kid = f"reset-{uuid.uuid4().hex[:8]}"
    old = ScanStore(tmp_path / "kiosk.db")  # a day of scans, the last 100 never answered
    for n in range(1, 301):
        old.add(Scan(id=str(uuid.UUID(int=n, version=4)), kiosk=kid, event="barcamp", badge=badge_code(n),
                     role="attend", ts=f"2026-11-23T10:{n // 60:02d}:{n % 60:02d}.000Z", seq=n, clock_ok=True))
        if n <= 200:
            old.mark_acked(str(uuid.UUID(int=n, version=4)), "accepted")
    old.db.execute("pragma wal_checkpoint(TRUNCATE)")
    page_size = old.db.execute("pragma page_size").fetchone()[0]
    old.close()
    damage_page_holding(tmp_path / "kiosk.db", "2026-11-23T10:00:30.000Z", page_size)  # an answered one

    hub = StandInHub(broker.port, answering=False)
    k = start(kiosks, broker, tmp_path, kiosk_id=kid)
    wait_for(lambda: any("storage was reset" in e for e in k.errors), "the reset in the log")
    [moved] = tmp_path.glob("kiosk.db.corrupt-*[0-9]Z")
    wait_for(lambda: any("warning='Storage was reset'" in s for s in screens_shown(k)), "the reset on screen")
    wait_for(lambda: hub.statuses.get(kid, {}).get("storage") == "reset", "the status says so")
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: hub.scans, "a new scan")
    assert hub.scans[0]["seq"] == 301, "seq carries on past the old store's"
    assert k.close() == 0

    settings = tmp_path / "kiosk.toml"  # as on a Pi: the kiosk's settings file says who it is
    settings.write_text(f'kiosk_id = "{kid}"\ndata_dir = "{tmp_path}"\n')
    out = subprocess.run([sys.executable, "-m", "kiosk.cli", "recover", str(moved), "--config", str(settings)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "100 scans back in the outbox" in out.stdout, out.stdout
    hub.answering = True
    k2 = start(kiosks, broker, tmp_path, kiosk_id=kid)
    wait_for(lambda: len(hub.ids()) == 101, "the recovered scans at the hub", timeout=45)
    assert {s["seq"] for s in hub.scans} == {*range(201, 302)}
    wait_for(lambda: pending(tmp_path) == 0, "all answered")
    wait_for(lambda: "storage" not in hub.statuses[kid], "the status no longer says reset")
    assert not any("warning='Storage was reset'" in s for s in screens_shown(k2))
    again = subprocess.run([sys.executable, "-m", "kiosk.cli", "recover", str(moved), "--config", str(settings)],
                           capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 1 and "stop it first" in again.stderr, "never while the kiosk runs"
    hub.close()


def test_a_store_that_cannot_be_opened_is_shown_and_tried_again_not_a_crash_loop(broker, tmp_path, kiosks):
    (tmp_path / "kiosk.db").mkdir()  # SQLite cannot open it (as with a card mounted read-only)
    hub = StandInHub(broker.port)
    k = start(kiosks, broker, tmp_path)
    wait_for(lambda: any("storage error: cannot open" in e for e in k.errors), "the error in the log")
    k.expect_tone("error")
    assert k.proc.poll() is None
    (tmp_path / "kiosk.db").rmdir()  # an organiser puts it right
    wait_for(lambda: any("storage works again" in e for e in k.errors), "opened on a later try", timeout=30)
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: hub.scans, "the scan at the hub")
    hub.close()


# --- Set-up cards never weaken the link ------------------------------------------------------

def test_a_set_up_card_naming_another_host_never_gets_the_kiosks_credentials(broker, tmp_path, kiosks):
    from tests.broker import Broker

    other = Broker(tmp_path / "other")  # the host a card names; it logs who connects, as whom
    with open(other.conf, "a") as conf:
        conf.write("log_type notice\nconnection_messages true\n")
    other.start()
    try:
        settings = tmp_path / "kiosk.toml"
        settings.write_text('broker_username = "hall-user"\nbroker_password = "s3cret-pw"\n')
        k = start(kiosks, broker, tmp_path / "kiosk", event=None, extra_args=["--config", str(settings)])
        k.wait_online()
        k.type(f"TURNOUT:SETUP:spring-camp@localhost:{other.port}")  # first boot: set-up mode
        k.expect_tone("ok")
        log = other.workdir / "mosquitto.log"
        wait_for(lambda: f"as turnout-kiosk-{k.kiosk_id}" in log.read_text(), "the kiosk at the card's broker")
        [line] = [l for l in log.read_text().splitlines() if f"as turnout-kiosk-{k.kiosk_id}" in l]
        assert "u'" not in line, f"credentials sent to a host a card named: {line}"
        assert any(f"switching to the hub at mqtt://localhost:{other.port}" in e for e in k.errors)
        assert not any("s3cret-pw" in e for e in k.errors)
    finally:
        other.stop()


def test_a_set_up_card_never_takes_a_tls_kiosk_off_tls(tmp_path, kiosks):
    from tests.broker import free_port

    k = KioskProcess(f"mqtts://hall-user:pw@127.0.0.1:{free_port()}", tmp_path, event=None, extra=["-v"])
    kiosks.append(k)
    k.type("TURNOUT:SETUP:spring-camp@localhost")
    k.expect_tone("ok")
    wait_for(lambda: any("switching to the hub at" in e for e in k.errors), "the switch logged")
    assert any("switching to the hub at mqtts://localhost:8883" in e for e in k.errors), k.errors[-5:]
    assert sqlite3.connect(tmp_path / "kiosk.db").execute(
        "select value from settings where key = 'broker'").fetchone() == ("localhost",)
