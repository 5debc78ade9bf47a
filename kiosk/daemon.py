"""The kiosk daemon: wires scanner, state machine, store, link and feedback, and runs the loop.

Everything arrives as an event on one queue (buttons and MQTT post from their own threads,
with a byte on a wake-up pipe); a scanner with a file descriptor is read by the loop itself, so
a code's way to its store and tone crosses no thread. The loop hands each event to the machine
and carries out the actions in order. Only this thread touches the store. No business rules
here: those live in kiosk.machine and kiosk.outbox.
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
from typing import Any, Callable, Protocol

from kiosk.buzzer.tunes import Tone
from kiosk.machine import (AckReceived, JoinWifi, KioskMachine, LinkChanged, Light, Now, Play,
                           QueueChanged, SaveConfig, SaveSetup, Send, Show, Store, StoreFailed, Tick,
                           WifiJoined)
from kiosk.outbox import MAX_IN_FLIGHT, SendTimes, StatusThrottle
from kiosk.screens import Screen
from kiosk.store import ScanStore
from kiosk.wifi import WifiCredentials, WifiResult
from turnout.protocol import KioskConfig

log = logging.getLogger("turnout.kiosk")

TICK_SECONDS = 0.25
PENDING_WINDOW = 2 * MAX_IN_FLIGHT  # the scans in flight and as many again to send


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

    def start(self) -> None: ...
    def send_scan(self, scan) -> bool: ...
    def send_status(self, queued: int, event: str | None) -> None: ...
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
                 relink: Callable[[str], Link] | None = None):
        self.join_wifi = join_wifi
        self.relink = relink  # builds a link to another broker (a set-up card named a hub)
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

    def run(self) -> None:
        # Hand the GIL over within 1 ms (default 5): the tone thread must not wait for a
        # screen being drawn on another thread.
        sys.setswitchinterval(0.001)
        self.machine.queued = self.store.queued_count()
        self._handle(Tick(), self.clock())
        self.link.send_status(self.machine.queued, self.machine.event)  # offline: sets the last will
        self.link.start()
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
                    self._handle(Tick(), now)
                    self._pump(now)
        finally:
            self._selector.close()
            os.close(self._wake_r)
            os.close(self._wake_w)

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
        """An answer from the hub takes the scan out of the outbox, whatever the answer."""
        self.send_times.answered(ack.id)
        if self.store.mark_acked(ack.id, str(ack.status), ack.reason):
            queued = self.store.queued_count()
            log.info("hub answered %s for scan %s; %d waiting to sync", ack.status, ack.id[:8], queued)
            self._carry_out(self.machine.handle(QueueChanged(queued), now))

    def _carry_out(self, actions: list) -> None:
        stored = None
        for action in actions:
            match action:
                case Store(scan):
                    try:
                        self.store.add(scan)
                    except Exception as exc:  # disk full, card failing: never beep OK
                        log.error("could not store scan of %s: %s", scan.badge, exc)
                        self._carry_out(self.machine.handle(StoreFailed(scan), self.clock()))
                        return
                    stored = scan
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
                case JoinWifi(credentials):
                    self._join_wifi(credentials)
                case SaveConfig(config):
                    self.store.save_config(config)
                    log.info("config from hub: event %s (%s), roles %s", config.event,
                             config.event_name, ", ".join(config.roles))
        if stored is not None:  # logged once the tone and screen are on their way, not before
            log.info("scan %s: badge %s, role %s, event %s (seq %d)%s", stored.id[:8], stored.badge,
                     stored.role, stored.event, stored.seq,
                     f", annuls {stored.annuls[:8]}" if stored.annuls else "")

    # -- set-up cards --

    def _save_setup(self, event: str, hub: str | None) -> None:
        self.store.save_config(KioskConfig(event, None, self.machine.roles))
        log.info("set-up card: this kiosk now counts for event %s", event)
        if hub and self.relink:
            broker = f"mqtt://{hub}"
            self.store.save_broker(broker)
            log.info("set-up card: switching to the hub at %s", broker)
            self.link.stop()
            self.link = self.relink(broker)
            self.machine.online = False
            self.send_times.reconnected()
            self.link.send_status(self.machine.queued, self.machine.event)
            self.link.start()

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
        scan = self.store.get(scan_id)
        if scan and self.link.send_scan(scan):
            self.send_times.sent(scan_id, self.clock().mono)

    def _pump(self, now: Now) -> None:
        """Send what is due, and republish the status when the queue changed."""
        if not (self.machine.online and self.link.connected):
            return
        if self.send_times.worth_looking(now.mono):
            # The oldest PENDING_WINDOW are enough: at most MAX_IN_FLIGHT go out at once.
            by_id = {scan.id: scan for scan in self.store.pending(limit=PENDING_WINDOW)}
            for scan_id in self.send_times.due(list(by_id), now.mono):
                if not self.link.send_scan(by_id[scan_id]):
                    break
                self.send_times.sent(scan_id, now.mono)
        state = (self.machine.queued, self.machine.event)
        if self.status.should_publish(state, now.mono, force=self.status.published is None):
            self.link.send_status(*state)
