"""A venue's own Mosquitto bridged to the central one (docs/scaling.md): the kiosk talks to the
broker at the venue, unchanged; its scans reach the hub at the centre and the answers, its
config and the hub's status come back over the bridge. Two real Mosquittos, the real kiosk
daemon and the real hub."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import date

from hub.broker.files import bridge
from hub.ingest import Ingest
from hub.store import Store
from tests.broker import Broker
from tests.kiosk.sim import KioskProcess, wait_for
from turnout.broker_url import BrokerURL


def unacked(db) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COUNT(*) FROM scans WHERE acked_at IS NULL").fetchone()[0]


def test_a_kiosk_on_a_venue_broker_is_answered_by_the_hub_on_the_central_one(tmp_path, own_broker):
    venue = Broker(tmp_path / "venue")
    with open(venue.conf, "a") as conf:
        conf.write(bridge("leeds", BrokerURL.parse(own_broker.url)))
    venue.start()
    store = Store(tmp_path / "hub.sqlite")
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Barcamp Leeds", date.today().isoformat())
    kiosk_id = f"leeds-{uuid.uuid4().hex[:6]}"
    store.assign_kiosk(kiosk_id, event.id)
    ingest = Ingest(store, own_broker.url, client_id=f"hub-{uuid.uuid4().hex[:6]}").start()
    kiosk = None
    try:
        assert ingest.connected.wait(10)
        kiosk = KioskProcess(venue.url, tmp_path / "kiosk", kiosk_id=kiosk_id, event=None, extra=["-v"])
        # The hub's retained config crossed the bridge: the kiosk counts for the hub's event.
        wait_for(lambda: any("config from hub" in e for e in kiosk.errors), "the kiosk configured by the hub")
        kiosk.wait_online()
        kiosk.type(ada.badge)
        kiosk.expect_tone("ok")
        wait_for(lambda: any("screen: Welcome(name='Ada'" in e and "points=1" in e for e in kiosk.errors),
                 "the hub's answer on the kiosk's screen")
        assert [s["badge"] for s in store.scans()] == [ada.badge]
        # Its status went out too: the hub knows the kiosk is online at the venue.
        wait_for(lambda: (k := store.kiosk(kiosk_id)) is not None and k.state == "online", "the kiosk's status")
        # The venue's link to the centre drops and comes back (the central broker restarts):
        # scans wait at the venue and arrive.
        own_broker.restart()
        kiosk.type("TURNOUT:ROLE:cake")
        kiosk.expect_tone("armed")
        kiosk.type(ada.badge)
        kiosk.expect_tone("ok")
        # (late, so not on the screen: the kiosk shows an answer only if it comes within a second)
        wait_for(lambda: sorted(s["role"] for s in store.scans()) == ["attend", "cake"],
                 "the cake scan at the hub", timeout=60)
        wait_for(lambda: unacked(tmp_path / "kiosk" / "kiosk.db") == 0, "the ack back at the kiosk", timeout=60)
    finally:
        if kiosk is not None:
            kiosk.close()
        ingest.stop()
        store.close()
        venue.stop()
