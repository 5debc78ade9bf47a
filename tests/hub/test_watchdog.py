"""The hub tells systemd it is ready once it serves, and that it is alive only while ingest and
the web server do their work: a real hub process, a real broker, a notify socket bound here."""

import os
import signal
import subprocess
import sys
import uuid

import httpx

from hub.ingest import Ingest
from hub.store import Store
from hub.watchdog import HubWatch, hub_status, web_problem
from tests.broker import free_port
from tests.hub.hubproc import ROOT
from tests.hub.kiosks import FakeKiosk, make_scan
from turnout.systemd import ServiceManager


def test_the_hub_says_ready_once_it_serves_then_pings_while_it_works(hub_db, tmp_path, broker, notify):
    port = free_port()
    log = open(tmp_path / "hub.log", "wb")
    hub = subprocess.Popen([sys.executable, "-m", "hub.cli", "--db", str(hub_db), "serve",
                            "--broker", broker.url, "--http", f"127.0.0.1:{port}",
                            "--client-id", f"hub-{uuid.uuid4().hex[:8]}"], cwd=ROOT, stdout=log, stderr=log,
                           env={**os.environ, "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000",
                                "WATCHDOG_PID": ""})
    try:
        ready = notify.messages(lambda m: "READY=1" in m, "READY=1")
        assert not any("WATCHDOG=1" in m for m in ready)  # nothing before it is ready
        assert f"serving http://127.0.0.1:{port}/" in ready[-1]
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200  # ready means serving
        notify.messages(lambda m: m == "WATCHDOG=1", "WATCHDOG=1")
        if "; broker connected; 0 messages waiting" not in ready[-1]:  # it may connect after it serves
            notify.messages(lambda m: "; broker connected; 0 messages waiting" in m, "a status with the broker")
        hub.terminate()
        assert hub.wait(20) == 0
        notify.messages(lambda m: "STOPPING=1" in m, "STOPPING=1")
    finally:
        if hub.poll() is None:
            hub.kill()
            hub.wait()
        log.close()


def test_a_hung_intake_stops_the_pings_until_it_works_again(hub_db, tmp_path, broker, notify):
    store = Store(hub_db)
    event = store.add_event("Camp", "2025-03-14")
    ada = store.add_person("Ada Lovelace")
    ingest = Ingest(store, broker.url, client_id=f"hub-{uuid.uuid4().hex[:8]}").start()
    assert ingest.connected.wait(10)
    service = ServiceManager(notify.path, watchdog_usec=400_000)
    watch = HubWatch(service, ingest, started=lambda: True, web_check=lambda: None,
                     status=hub_status(ingest, "http://test/"), stuck_after=1.0).start()
    kiosk = FakeKiosk(broker.port, f"k{uuid.uuid4().hex[:8]}")
    worker = ingest._worker._proc.pid
    try:
        notify.messages(lambda m: m == "WATCHDOG=1", "WATCHDOG=1")
        os.kill(worker, signal.SIGSTOP)  # the intake hangs: a batch sent to it is never answered
        scan = make_scan(kiosk.kiosk, event.id, ada.badge)
        kiosk.send(scan)
        stuck = notify.messages(lambda m: m.startswith("STATUS=stuck"), "a stuck status")
        assert "the intake process has held a batch of 1 messages" in stuck[-1]
        os.kill(worker, signal.SIGCONT)
        after = notify.messages(lambda m: m == "WATCHDOG=1", "WATCHDOG=1 once the intake answers")
        assert all(m.startswith("STATUS=stuck") for m in after[:-2])  # no ping while stuck
        assert kiosk.wait_for([scan.id])[scan.id]["status"] == "accepted"
    finally:
        os.kill(worker, signal.SIGCONT)
        watch.stop()
        kiosk.close()
        ingest.stop()
        store.close()
    assert ingest.stuck() == "the ingest thread is not running"


def test_a_web_server_that_does_not_answer_is_a_problem_in_words():
    port = free_port()
    assert web_problem("127.0.0.1", port).startswith(f"the web server on port {port} does not answer")
    assert web_problem("0.0.0.0", port).startswith(f"the web server on port {port} does not answer")
