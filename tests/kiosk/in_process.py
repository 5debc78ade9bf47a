"""The real kiosk daemon in the test's own process: real store, machine, link and broker, for
what a subprocess cannot show (its paho thread dying, its own SQLite connection filling up).

The loop runs on the test's main thread, as in ``turnout-kiosk``; the test's steps run on
another thread and talk to it the way the scanner does (``post``). Feedback is recorded.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Callable

from kiosk.buzzer.tunes import Tone
from kiosk.clock import KioskClock
from kiosk.config import Settings
from kiosk.daemon import Feedback, KioskDaemon
from kiosk.link import KioskLink
from kiosk.machine import CodeRead, KioskMachine
from kiosk.screens import Idle, Problem
from kiosk.store import ScanStore
from tests.kiosk.sim import wait_for
from turnout.broker_url import BrokerURL
from turnout.codes import badge_code
from turnout.protocol import Topics


def fill_up(store: ScanStore) -> None:
    """The store's own SQLite connection may grow by one page more: a full disk, really
    (give it as ``run(..., before=fill_up)``)."""
    pages = store.db.execute("pragma page_count").fetchone()[0]
    store.db.execute(f"pragma max_page_count = {pages + 1}")


class InProcessKiosk:
    def __init__(self, data_dir: Path, broker_url: str, kiosk_id: str | None = None,
                 event: str = "barcamp"):
        self.kiosk_id = kiosk_id or f"ip-{uuid.uuid4().hex[:8]}"
        self.db_path = Path(data_dir) / "kiosk.db"
        self.broker = BrokerURL.parse(broker_url)
        self.event = event
        self.screens: list = []
        self.tones: list = []
        self.links: list[KioskLink] = []
        self.daemon: KioskDaemon | None = None

    def make_link(self, url: BrokerURL) -> KioskLink:
        link = KioskLink(self.kiosk_id, url, self.daemon.post)
        self.links.append(link)
        return link

    def run(self, steps: Callable[["InProcessKiosk"], None],
            before: Callable[[ScanStore], None] | None = None) -> None:
        """Build the kiosk, run ``steps`` on a thread of their own while the loop runs here,
        then stop; whatever the steps raised is raised here."""
        store = ScanStore.open(self.db_path)
        if before:
            before(store)  # on the loop's thread: SQLite connections stay on theirs
        settings = Settings()
        machine = KioskMachine(kiosk_id=self.kiosk_id, event=self.event, event_name=None,
                               roles=settings.roles, labels=settings.label, next_seq=store.next_seq(),
                               seen=store.seen_keys())
        feedback = Feedback(show=self.screens.append, play=self.tones.append, light=lambda role: None)
        self.daemon = KioskDaemon(machine, store, None, feedback, KioskClock(True), relink=self.make_link)
        self.daemon.link = self.make_link(self.broker)
        failure: list[BaseException] = []

        def script() -> None:
            try:
                steps(self)
            except BaseException as exc:  # handed to the test's thread below
                failure.append(exc)
            finally:
                self.daemon.stop()

        thread = threading.Thread(target=script, name="test-steps")
        thread.start()
        try:
            self.daemon.run()
        finally:
            self.daemon.stop()
            thread.join(60)
            self.daemon.link.stop()
            store.close()
        if failure:
            raise failure[0]

    # -- what the steps look at --

    def idle(self) -> Idle | None:
        shown = [s for s in list(self.screens) if isinstance(s, Idle)]
        return shown[-1] if shown else None

    def wait_online(self, online: bool = True, after: int = 0) -> None:
        wait_for(lambda: any(isinstance(s, Idle) and s.online == online for s in self.screens[after:]),
                 f"the idle screen {'online' if online else 'offline'}")

    def problems(self) -> list[Problem]:
        return [s for s in list(self.screens) if isinstance(s, Problem)]

    # -- what the steps do --

    def scan_until_refused(self, first: int, last: int) -> int:
        """Scan badges ``first``, ``first + 1``… until one gets another tone than OK; how many
        beeped OK. Raises if all up to ``last`` did."""
        beeped = 0
        for n in range(first, last):
            tones = len(self.tones)
            self.daemon.post(CodeRead(badge_code(n)))
            wait_for(lambda: len(self.tones) > tones, "a tone")
            if self.tones[tones] is not Tone.OK:
                return beeped
            beeped += 1
        raise AssertionError("every scan beeped OK: the store never filled up")

    def kill_network_thread(self, publisher) -> KioskLink:
        """End paho's network thread as a raising callback would, past the link's guard (a
        message on the kiosk's ack topic from ``publisher`` sets it off); wait until the kiosk
        has shown offline, then online again. The dead link."""
        first = self.daemon.link

        def boom(client, userdata, msg):
            raise RuntimeError("a callback that raises: paho re-raises it and its thread ends")

        first.client.on_message = boom  # through paho's own setter, bypassing the link's guard
        shown = len(self.screens)
        publisher.publish(Topics().ack(self.kiosk_id), b"anything", qos=1).wait_for_publish(5)
        self.wait_online(False, after=shown)  # never "online" while nothing syncs
        self.wait_online(True, after=shown + 1)
        return first
