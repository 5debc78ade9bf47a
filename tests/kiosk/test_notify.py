"""The kiosk tells systemd how it is doing ($NOTIFY_SOCKET): the real daemon (--sim) against a
real broker, with the notify socket bound here as systemd binds it."""

import uuid

import pytest

from tests.kiosk.sim import KioskProcess, StandInHub, wait_for

WATCHDOG_USEC = 400_000  # pings every 0.2 s at most: the loop ticks every 0.25 s, so one a tick


@pytest.fixture
def kiosk(broker, tmp_path, notify):
    started = []

    def start():
        k = KioskProcess(broker.url, tmp_path / "data", kiosk_id=f"notify-{uuid.uuid4().hex[:8]}",
                         extra=["-v"], env={"NOTIFY_SOCKET": notify.path,
                                            "WATCHDOG_USEC": str(WATCHDOG_USEC)})
        started.append(k)
        return k

    yield start
    for k in started:
        k.close()


def test_ready_once_the_loop_runs_then_watchdog_from_the_loop_and_a_status_line(broker, kiosk, notify):
    hub = StandInHub(broker.port)
    k = kiosk()
    first = notify.messages(lambda m: "READY=1" in m, "READY=1")
    assert not any("WATCHDOG=1" in m for m in first[:-1])  # nothing before it is ready
    assert "STATUS=offline: 0 scans waiting; event barcamp" in first[-1]
    notify.messages(lambda m: m == "WATCHDOG=1", "WATCHDOG=1")
    notify.messages(lambda m: m == "STATUS=online, 0 scans waiting; event barcamp", "online status")
    k.type("T5724")
    k.expect_tone("ok")
    wait_for(lambda: "T5724" in hub.badges(), "scan at the hub")
    notify.messages(lambda m: m == "WATCHDOG=1", "WATCHDOG=1 after the scan")
    assert k.close() == 0
    rest = notify.messages(lambda m: "STOPPING=1" in m, "STOPPING=1")
    assert rest.count("STOPPING=1") == 1
    hub.close()


def test_a_stalled_loop_sends_no_watchdog_until_it_goes_on(kiosk, notify):
    k = kiosk()
    notify.messages(lambda m: m == "WATCHDOG=1", "WATCHDOG=1")
    k.type(":stall 2")
    stalled = notify.messages(lambda m: m.startswith("STATUS=resumed"), "the end of the stall")
    during = stalled[next(i for i, m in enumerate(stalled) if m.startswith("STATUS=stalled")):]
    assert during[0] == "STATUS=stalled on purpose for 2 s (:stall, a test aid)"
    assert "WATCHDOG=1" not in during  # 2 s at a ping every 0.2 s: a side thread would have sent ~10
    notify.messages(lambda m: m == "WATCHDOG=1", "WATCHDOG=1 once the loop goes on")


def test_stall_is_for_simulation_and_says_how_to_use_it(kiosk, notify):
    k = kiosk()
    notify.messages(lambda m: "READY=1" in m, "READY=1")
    k.type(":stall forever")
    wait_for(lambda: any(":stall SECONDS" in e for e in k.errors), "the usage line")
    notify.messages(lambda m: m == "WATCHDOG=1", "WATCHDOG=1: the loop never stalled")
