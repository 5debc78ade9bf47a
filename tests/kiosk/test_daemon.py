"""The kiosk daemon as a black box: `turnout-kiosk --sim` against a real Mosquitto."""

import json
import sqlite3
import uuid

import pytest
from PIL import Image

from tests.kiosk.sim import KioskProcess, StandInHub, wait_for
from turnout.codes import badge_code
from turnout.protocol import KioskConfig, Topics


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
