"""The kiosk daemon: wires scanner, state machine, store, link and feedback, and runs the loop.

Everything arrives as an event on one queue (buttons and MQTT post from their own threads,
with a byte on a wake-up pipe); a scanner with a file descriptor is read by the loop itself, so
a code's way to its store and tone crosses no thread. The loop hands each event to the machine
and carries out the actions in order. Only this thread touches the store. No business rules
here: those live in kiosk.machine and kiosk.outbox.

Two rules keep the loop alive whatever happens around it: a store call other than a scan's own
commit never raises out of the loop (``_stored``), and the MQTT link is watched on every tick
and rebuilt when its network thread has died (``_watch_link``).
"""

from __future__ import annotations

import logging
import os
import queue
import selectors
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol, TypeVar

from kiosk.buzzer.tunes import Tone
from kiosk.machine import (AckReceived, JoinWifi, KioskMachine, LinkChanged, Light, Now, Play,
                           QueueChanged, SaveConfig, SaveLogin, SaveSetup, Send, Show, StorageFailed, StorageWorks,
                           Store, StoreFailed, Tick, WifiJoined)
from kiosk.machine import STORAGE_WARNINGS
from kiosk.outbox import MAX_IN_FLIGHT, SendTimes, StatusThrottle
from kiosk.screens import Screen
from kiosk.store import ScanStore
from kiosk.wifi import WifiCredentials, WifiResult
from turnout.protocol import KioskConfig
from turnout.systemd import ServiceManager

log = logging.getLogger("turnout.kiosk")

TICK_SECONDS = 0.25
PENDING_WINDOW = 2 * MAX_IN_FLIGHT  # the scans in flight and as many again to send
RELINK_SECONDS = 5.0  # a link whose thread keeps dying is rebuilt at most this often
RESTART_AFTER_SECONDS = 2.0  # a login card's notice stays this long before the kiosk starts again
T = TypeVar("T")
STORE_A_SCAN = "store a scan"


class Shutdown:
    """Posted to stop the loop (end of simulated input, SIGTERM)."""


class HubOnline:
    """Posted when the hub announces itself online: whatever was in flight is re-sent."""


class LoopSource(Protocol):
    """A scanner the loop reads itself when its descriptor is readable (see ``watch``)."""

    def fileno(self) -> int: ...
    def on_readable(self) -> None: ...


class Link(Protocol):
    connected: bool
    broker: Any

    @property
    def running(self) -> bool: ...  # False once its network thread has died
    def start(self) -> None: ...
    def send_scan(self, scan) -> bool: ...
    def send_status(self, queued: int, event: str | None, storage: str | None = None) -> None: ...
    def stop(self) -> None: ...


@dataclass
class Feedback:
    """The kiosk's outputs, each a small adapter (a no-op where the part is not fitted)."""

    show: Callable[[Screen], None]
    play: Callable[[Tone], None]
    light: Callable[[str | None], None]


class KioskDaemon:
    def __init__(self, machine: KioskMachine, store: ScanStore, link: Link, feedback: Feedback,
                 clock: Callable[[], Now], join_wifi: Callable[[WifiCredentials], WifiResult] | None = None,
                 relink: Callable[[Any], Link] | None = None,
                 card_broker: Callable[[str], Any] | None = None):
        self.join_wifi = join_wifi
        self.relink = relink  # builds a link to a broker (a new one, or the same after a failure)
        self.card_broker = card_broker  # the broker a set-up card's hub means for this kiosk
        self.machine = machine
        self.store = store
        self.link = link
        self.feedback = feedback
        self.clock = clock
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()  # C-implemented: quicker wake-ups
        self.send_times = SendTimes()
        self.status = StatusThrottle()
        self._screen = None
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._reading = False
        self._storage_failing: set[str] = set()  # what could not be done, until it has been since
        self._relinked_at = float("-inf")
        self.restart_requested = False  # run() returned to start again (a login card was saved)

    def post(self, event: Any) -> None:
        """Thread-safe: scanner, buttons and the MQTT link call this."""
        self.events.put(event)
        if not self._reading:  # a post from the loop's own read needs no wake-up
            try:
                os.write(self._wake_w, b"\0")
            except BlockingIOError:
                pass  # the pipe is full of wake-ups already: the loop will look
            except OSError:
                pass  # the loop has ended and closed it

    def watch(self, source: LoopSource) -> None:
        """Read ``source`` on the loop thread whenever it is readable; it posts what it reads."""
        self._selector.register(source.fileno(), selectors.EVENT_READ, source)

    def stop(self) -> None:
        self.post(Shutdown())

    def run(self, service: ServiceManager | None = None) -> None:
        """The loop, until stopped. ``service``: systemd, told READY=1 as the loop starts, then
        WATCHDOG=1 from the loop's own tick (so a loop that hangs is restarted) and a status line."""
        service = service or ServiceManager(None)
        # Hand the GIL over within 1 ms (default 5): the tone thread must not wait for a
        # screen being drawn on another thread.
        sys.setswitchinterval(0.001)
        self.machine.queued = self._stored("count the outbox", self.store.queued_count, default=0)
        self._handle(Tick(), self.clock())
        self.link.send_status(*self._status())  # offline: sets the last will
        self.link.start()
        service.ready(self.service_status())
        service.watchdog()
        next_tick = time.monotonic() + TICK_SECONDS
        try:
            while True:
                for key, _ in self._selector.select(max(0.0, next_tick - time.monotonic())):
                    if key.data is None:
                        self._drain_wakeups()
                    else:
                        self._reading = True
                        try:
                            key.data.on_readable()  # a scanner: what it read is on the queue now
                        finally:
                            self._reading = False
                if not self._handle_queued():
                    return
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + TICK_SECONDS
                    now = self.clock()
                    self._watch_link(now)
                    self._handle(Tick(), now)
                    self._pump(now)
                    service.watchdog()
                    service.status(self.service_status())
        finally:
            service.stopping()
            self._selector.close()
            os.close(self._wake_r)
            os.close(self._wake_w)

    def service_status(self) -> str:
        """One line for `systemctl status`: online or not, and what waits to be synced."""
        waiting = f"{self.machine.queued} scan{'' if self.machine.queued == 1 else 's'} waiting"
        state = f"online, {waiting}" if self.machine.online else f"offline: {waiting}"
        if self.machine.storage:
            state += "; " + STORAGE_WARNINGS[self.machine.storage].lower()
        return state + (f"; event {self.machine.event}" if self.machine.event else "; no event set")

    def _handle_queued(self) -> bool:
        """Everything posted so far, in order; False once asked to stop."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return True
            if isinstance(event, Shutdown):
                return False
            now = self.clock()
            self._handle(event, now)
            self._pump(now)

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    # -- one event --

    def _handle(self, event: Any, now: Now) -> None:
        if isinstance(event, HubOnline) or (isinstance(event, LinkChanged) and event.online):
            self.send_times.reconnected()
            self.status.published = None  # a new session: say we are here
            if isinstance(event, HubOnline):
                return
        if isinstance(event, AckReceived):
            self._settle(event.ack, now)
        self._carry_out(self.machine.handle(event, now))

    def _settle(self, ack, now: Now) -> None:
        """An answer from the hub takes the scan out of the outbox, whatever the answer. One that
        cannot be recorded leaves the scan pending and in flight: it is re-sent in due course
        and the hub answers again (a duplicate, never counted twice)."""
        settled = self._stored("record the hub's answer", self.store.mark_acked, ack.id,
                               str(ack.status), ack.reason)
        if settled is None:
            return
        self.send_times.answered(ack.id)
        if settled:
            queued = self._stored("count the outbox", self.store.queued_count)
            if queued is None:
                return
            log.info("hub answered %s for scan %s; %d waiting to sync", ack.status, ack.id[:8], queued)
            self._carry_out(self.machine.handle(QueueChanged(queued), now))

    # -- the store, for everything but a scan's commit --

    def _stored(self, doing: str, call: Callable[..., T], *args, default: T | None = None) -> T | None:
        """Rule: a store call other than a scan's own commit never raises out of the loop. A
        failure is logged and shown ("Storage error"), and ``default`` returned: the scans stay
        as they were (pending until an answer is recorded), so nothing is lost by carrying on."""
        try:
            result = call(*args)
        except Exception as exc:  # disk full, card read-only or failing, database locked
            self._storage_failed(doing, exc)
            return default
        self._storage_worked(doing)
        return result

    def _storage_failed(self, doing: str, exc: Exception) -> None:
        if doing not in self._storage_failing:
            log.error("storage error: could not %s (%s: %s); scans stay pending, tell an organiser",
                      doing, type(exc).__name__, exc)
        else:
            log.debug("storage still failing: could not %s: %s", doing, exc)
        self._storage_failing.add(doing)
        self._carry_out(self.machine.handle(StorageFailed(doing), self.clock()))

    def _storage_worked(self, doing: str) -> None:
        """Works again once everything that failed has been done since (a read that works says
        nothing about writes: the database may be locked or full only for writing)."""
        if doing in self._storage_failing:
            self._storage_failing.discard(doing)
            if not self._storage_failing:
                log.info("storage works again")
                self._carry_out(self.machine.handle(StorageWorks(), self.clock()))

    def _carry_out(self, actions: list) -> None:
        stored = None
        for action in actions:
            match action:
                case Store(scan):
                    try:
                        self.store.add(scan)
                    except Exception as exc:  # disk full, card failing: never beep OK
                        log.error("could not store scan of %s: %s", scan.badge, exc)
                        self._storage_failing.add(STORE_A_SCAN)
                        self._carry_out(self.machine.handle(StoreFailed(scan), self.clock()))
                        return
                    stored = scan
                    self._storage_worked(STORE_A_SCAN)
                case Play(tone):
                    self.feedback.play(tone)
                case Show(screen):
                    if screen != self._screen:
                        log.debug("screen: %s", screen)
                        self._screen = screen
                    self.feedback.show(screen)
                case Light(role):
                    self.feedback.light(role)
                case Send(scan_id):
                    self._send(scan_id)
                case SaveSetup(event, hub):
                    self._save_setup(event, hub)
                case SaveLogin(card):
                    self._save_login(card)
                case JoinWifi(credentials):
                    self._join_wifi(credentials)
                case SaveConfig(config):
                    self._stored("save the hub's config", self.store.save_config, config)
                    log.info("config from hub: event %s (%s), roles %s", config.event,
                             config.event_name, ", ".join(config.roles))
        if stored is not None:  # logged once the tone and screen are on their way, not before
            log.info("scan %s: badge %s, role %s, event %s (seq %d)%s", stored.id[:8], stored.badge,
                     stored.role, stored.event, stored.seq,
                     f", annuls {stored.annuls[:8]}" if stored.annuls else "")

    # -- set-up cards --

    def _save_setup(self, event: str, hub: str | None) -> None:
        self._stored("save the set-up card's event", self.store.save_config,
                     KioskConfig(event, None, self.machine.roles))
        log.info("set-up card: this kiosk now counts for event %s", event)
        if hub and self.relink and self.card_broker:
            try:
                broker = self.card_broker(hub)  # never weaker than the link configured (see broker_for_card)
            except ValueError as exc:  # codes.classify lets no such card through; belt and braces
                log.warning("set-up card: %s; staying with %s", exc, self.link.broker)
                return
            self._stored("save the set-up card's hub", self.store.save_broker, hub)
            log.info("set-up card: switching to the hub at %s", broker)
            self._replace_link(broker)

    def _save_login(self, card) -> None:
        """Keep a login card's kiosk id and broker login, then start again as that kiosk (its id
        names its topics and its client, so the whole kiosk is rebuilt, not just the link)."""
        if self._stored("save the login card", self.store.save_login, card, default=False) is False:
            return
        log.info("login card: this kiosk is now %s at %s; starting again", card.kiosk_id, card.broker)
        self.restart_requested = True
        threading.Timer(RESTART_AFTER_SECONDS, self.stop).start()  # the notice shows meanwhile

    def _replace_link(self, broker) -> None:
        if self.machine.online:  # offline until the new link says otherwise
            self._carry_out(self.machine.handle(LinkChanged(False), self.clock()))
        self.link.stop()
        self.link = self.relink(broker)
        self.send_times.reconnected()
        self.link.send_status(*self._status())
        self.link.start()

    def _watch_link(self, now: Now) -> None:
        """Rule: a link whose network thread has died is offline, and is rebuilt: paho's thread
        can die on an exception, and then nothing is sent or received while ``connected`` stays
        True."""
        if self.link.running or self.relink is None:
            return
        if self.machine.online:
            log.error("the MQTT link stopped working (its network thread ended); reconnecting")
            self._carry_out(self.machine.handle(LinkChanged(False), now))
        if now.mono - self._relinked_at < RELINK_SECONDS:
            return
        self._relinked_at = now.mono
        self._replace_link(self.link.broker)

    def _join_wifi(self, credentials: WifiCredentials) -> None:
        if self.join_wifi is None:
            return
        join = self.join_wifi  # nmcli can take a minute: never on the scan loop
        threading.Thread(target=lambda: self.post(WifiJoined(join(credentials))),
                         name="wifi", daemon=True).start()

    # -- the outbox --

    def _send(self, scan_id: str) -> None:
        if not self.machine.online:
            return  # the link came up on paho's thread but we have not seen it yet: _pump will
        scan = self._stored("read a scan", self.store.get, scan_id)
        if scan and self.link.send_scan(scan):
            self.send_times.sent(scan_id, self.clock().mono)

    def _pump(self, now: Now) -> None:
        """Send what is due, and republish the status when the queue changed."""
        if not (self.machine.online and self.link.connected):
            return
        if self.send_times.worth_looking(now.mono):
            # The oldest PENDING_WINDOW are enough: at most MAX_IN_FLIGHT go out at once.
            pending = self._stored("read the outbox", self.store.pending, PENDING_WINDOW, default=[])
            by_id = {scan.id: scan for scan in pending}
            for scan_id in self.send_times.due(list(by_id), now.mono):
                if not self.link.send_scan(by_id[scan_id]):
                    break
                self.send_times.sent(scan_id, now.mono)
        state = self._status()
        if self.status.should_publish(state, now.mono, force=self.status.published is None):
            self.link.send_status(*state)

    def _status(self) -> tuple:
        return self.machine.queued, self.machine.event, self.machine.storage
