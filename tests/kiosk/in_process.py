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

from kiosk.clock import KioskClock
from kiosk.config import Settings
from kiosk.daemon import Feedback, KioskDaemon
from kiosk.link import KioskLink
from kiosk.machine import KioskMachine
from kiosk.screens import Idle, Problem
from kiosk.store import ScanStore
from tests.kiosk.sim import wait_for
from turnout.broker_url import BrokerURL


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
