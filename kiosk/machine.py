"""The kiosk state machine: an event in, a list of actions out. Pure: no I/O, no clock reads.

The daemon feeds it what happened (a code read, a button pressed, an ack, a tick of the
clock) together with the time, and carries out the actions it returns, in order. A scan is
always ``Store`` first: the daemon commits it before it plays the tone that follows.
"""

from __future__ import annotations

import gettext
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable, NamedTuple

from kiosk import screens
from kiosk.buzzer.tunes import Tone
from kiosk.setup_mode import SetupMode
from kiosk.wifi import WifiCardError, WifiCredentials, WifiResult, parse_wifi
from turnout import codes
from turnout.i18n import N_, milestone_name
from turnout.protocol import Ack, AckStatus, KioskConfig, Scan, StorageState

ARM_SECONDS = 15.0  # a pressed role button waits this long for a badge
DEBOUNCE_SECONDS = 3.0  # scanners double-read: the same code within this is one scan
UNDO_SECONDS = 60.0
ACK_WAIT_SECONDS = 1.0  # the hub's answer shows only if it comes this fast
RESULT_SECONDS = 4.0  # how long a result stays on screen before the idle screen
STORAGE_PROBLEM = screens.Problem(N_("Storage error"), N_("tell an organiser"))
# What the idle screen says about the store until it is put right.
STORAGE_WARNINGS = {StorageState.ERROR: N_("Storage error"), StorageState.RESET: N_("Storage was reset")}


# --- What happened (events in) -------------------------------------------------------------

@dataclass(frozen=True)
class Now:
    mono: float  # monotonic seconds: timeouts
    wall: datetime  # kiosk wall clock (UTC): goes into scans
    clock_ok: bool  # whether the wall clock has been synchronised


@dataclass(frozen=True)
class CodeRead:
    text: str


@dataclass(frozen=True)
class ButtonPressed:
    role: str


@dataclass(frozen=True)
class Tick:
    pass


@dataclass(frozen=True)
class AckReceived:
    ack: Ack


@dataclass(frozen=True)
class LinkChanged:
    online: bool


@dataclass(frozen=True)
class QueueChanged:
    queued: int


@dataclass(frozen=True)
class ConfigReceived:
    config: KioskConfig


@dataclass(frozen=True)
class SetupChord:
    """Two role buttons held together: an organiser wants set-up mode."""


@dataclass(frozen=True)
class WifiJoined:
    result: WifiResult


@dataclass(frozen=True)
class StoreFailed:
    """The daemon could not commit this scan (disk full, card failing): it never happened."""

    scan: Scan


@dataclass(frozen=True)
class StorageFailed:
    """A store call other than a scan's commit failed (recording an ack, saving the config,
    reading the outbox): no scan is lost, they stay pending, but an organiser must know."""

    doing: str  # "record the hub's answer"


@dataclass(frozen=True)
class StorageWorks:
    """The store worked again after failing."""


Event = (CodeRead | ButtonPressed | Tick | AckReceived | LinkChanged | QueueChanged | ConfigReceived
         | SetupChord | WifiJoined | StoreFailed | StorageFailed | StorageWorks)


# --- What to do (actions out) --------------------------------------------------------------

@dataclass(frozen=True)
class Store:
    """Commit the scan to disk. Everything after it in the list assumes it succeeded."""

    scan: Scan


@dataclass(frozen=True)
class Send:
    """Try to send this stored scan now (the outbox re-sends it later if need be)."""

    scan_id: str


@dataclass(frozen=True)
class Play:
    tone: Tone


@dataclass(frozen=True)
class Show:
    screen: screens.Screen


@dataclass(frozen=True)
class Light:
    role: str | None  # light this role's LED only; None: all off


@dataclass(frozen=True)
class SaveConfig:
    config: KioskConfig


@dataclass(frozen=True)
class SaveSetup:
    """A set-up card was accepted: keep the event (and hub address) across restarts."""

    event: str
    hub: str | None


@dataclass(frozen=True)
class SaveLogin:
    """A login card was accepted: keep the kiosk's id and broker login, then start again as it."""

    card: codes.LoginCard


@dataclass(frozen=True)
class JoinWifi:
    """Join this network (slow: the daemon does it off the loop and posts WifiJoined)."""

    credentials: WifiCredentials


Action = Store | Send | Play | Show | Light | SaveConfig | SaveSetup | SaveLogin | JoinWifi


# --- The machine ---------------------------------------------------------------------------

@dataclass
class _Armed:
    role: str
    until: float


@dataclass
class _LastScan:
    scan: Scan
    at: float


class _BeforeScan(NamedTuple):  # a tuple: built on the way to every beep
    """What a scan changed, so a scan the store could not keep can be taken back."""

    scan_id: str  # its seq is the one to use again
    queued: int
    key: tuple[str | None, str, str]
    key_seen: bool
    last_scan: _LastScan | None
    armed: _Armed | None


@dataclass
class KioskMachine:
    kiosk_id: str
    event: str | None
    event_name: str | None
    roles: tuple[str, ...]
    labels: Callable[[str], str]
    next_seq: int = 1
    seen: set[tuple[str | None, str, str]] = field(default_factory=set)  # (event, badge, role)
    online: bool = False
    queued: int = 0
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())
    setup: SetupMode = field(default_factory=lambda: SetupMode(0.0))
    store_reset: bool = False  # kiosk.db was unreadable at start: moved aside, started afresh
    link_tls: bool = False  # the broker link is encrypted: no card may turn that off
    storage_failing: bool = False
    # The kiosk's language (settings' ``language``): every word the machine puts on a screen.
    words: gettext.NullTranslations = field(default_factory=gettext.NullTranslations)

    armed: _Armed | None = None
    last_code: tuple[str, float] | None = None
    last_scan: _LastScan | None = None
    awaiting: tuple[str, float, str | None] | None = None  # (scan id, deadline, role label)
    result_until: float | None = None  # showing a result until then; None: idle/armed
    before_scan: _BeforeScan | None = None  # the latest scan's undo point, until it is stored

    def handle(self, event: Event, now: Now) -> list[Action]:
        match event:
            case CodeRead(text):
                return self._code(text, now)
            case ButtonPressed(role):
                self.last_code = None  # a badge read again after a press is a new scan
                return self._arm_or_cancel(role, now)
            case Tick():
                return self._tick(now)
            case AckReceived(ack):
                return self._ack(ack, now)
            case LinkChanged(online):
                self.online = online
                return self._refresh_idle(now)
            case QueueChanged(queued):
                self.queued = queued
                return self._refresh_idle(now)
            case ConfigReceived(config):
                return self._config(config, now)
            case SetupChord():
                return self._enter_setup(now)
            case WifiJoined(result):
                if not result.joined:  # a problem screen: its smaller detail has room for nmcli's reason
                    return self._problem(self._("Wi-fi"), self._("Could not join {ssid}: {reason}").format(
                        ssid=result.ssid, reason=self._(result.reason)), now)
                joined = self._("Joined {ssid}").format(ssid=result.ssid)
                return [Play(Tone.OK), self._result(screens.Notice(self._("Wi-fi"), joined), now)]
            case StoreFailed(scan):
                return self._store_failed(scan, now)
            case StorageFailed():
                if self.storage_failing:
                    return []  # said once (tone and screen); the idle screen keeps saying it
                self.storage_failing = True
                return self._problem(self._(STORAGE_PROBLEM.title), self._(STORAGE_PROBLEM.detail), now)
            case StorageWorks():
                self.storage_failing = False
                return self._refresh_idle(now)
        return []

    @property
    def storage(self) -> StorageState | None:
        """What the status and the idle screen say about the store (None: all well)."""
        if self.storage_failing:
            return StorageState.ERROR
        return StorageState.RESET if self.store_reset else None

    # -- scanning --

    def _code(self, text: str, now: Now) -> list[Action]:
        text = text.strip()
        if self.last_code and self.last_code[0] == text and now.mono - self.last_code[1] < DEBOUNCE_SECONDS:
            return []  # the scanner read the same code twice
        self.last_code = (text, now.mono)
        match codes.classify(text):
            case codes.Badge(code):
                return self._badge(code, now)
            case codes.RoleCard(role):
                if role not in self.roles:
                    return self._problem(self._("Unknown role"), self._("{role} is not set up here").format(role=role), now)
                return self._arm_or_cancel(role, now)
            case codes.UndoCard():
                return self._undo(now)
            case codes.SetupCard() | codes.WifiCard() | codes.LoginCard() as card:
                verdict = self.setup.accepts(card, now.mono)
                if not verdict.accepted:
                    return self._problem(self._("Set-up card"), self._(verdict.message or N_("not now")), now)
                self.setup.touch(now.mono)
                return self._setup_card(card, now)
            case codes.Misread():
                return self._problem(self._("Try again"), self._("badge misread"), now)
            case codes.Foreign(_, reason):
                return self._problem(self._("Not a Turnout badge"), self._(reason), now)
        return []

    def _badge(self, badge: str, now: Now) -> list[Action]:
        role = self.armed.role if self.armed else "attend"
        label = None if role == "attend" else self.labels(role)
        key = (self.event, badge, role)
        scan = self._new_scan(badge, role, now)
        self._remember_before(scan, key)
        repeat = key in self.seen
        self.seen.add(key)
        self.last_scan = _LastScan(scan, now.mono)
        self.awaiting = (scan.id, now.mono + ACK_WAIT_SECONDS, label)
        self.queued += 1
        actions: list[Action] = [Store(scan), Play(Tone.REPEAT if repeat else Tone.OK)]
        if self.armed:
            self.armed = None
            actions.append(Light(None))
        screen = (screens.AlreadyCheckedIn(None, label) if repeat
                  else screens.CheckedIn(label, will_sync=not self.online))
        actions += [self._result(screen, now), Send(scan.id)]
        return actions

    def _undo(self, now: Now) -> list[Action]:
        last = self.last_scan
        if last is None or now.mono - last.at > UNDO_SECONDS:
            return self._problem(self._("Nothing to undo"), self._("undo works for 60 s"), now)
        key = (last.scan.event, last.scan.badge, last.scan.role)
        annulment = self._new_scan(last.scan.badge, last.scan.role, now, annuls=last.scan.id)
        self._remember_before(annulment, key)
        self.last_scan = None
        self.seen.discard(key)
        self.awaiting = None
        self.queued += 1
        return [Store(annulment), Play(Tone.OK),
                self._result(screens.Notice(self._("Undone"), f"{last.scan.badge} {self.labels(last.scan.role)}"), now),
                Send(annulment.id)]

    def _remember_before(self, scan: Scan, key: tuple[str | None, str, str]) -> None:
        """Called once ``scan`` has its seq and before anything else changes."""
        self.before_scan = _BeforeScan(scan.id, self.queued, key, key in self.seen, self.last_scan,
                                       self.armed)

    def _store_failed(self, scan: Scan, now: Now) -> list[Action]:
        before = self.before_scan
        if before is not None and before.scan_id == scan.id:
            self.before_scan = None
            self.next_seq, self.queued = scan.seq, before.queued
            if before.key_seen:
                self.seen.add(before.key)
            else:
                self.seen.discard(before.key)
            self.last_scan, self.armed = before.last_scan, before.armed
            self.awaiting = None  # nor an earlier person's welcome over the error screen
            self.last_code = None  # the same badge again at once is the retry, not a double read
        self.storage_failing = True
        # Still armed: its LED back on (the daemon stopped before putting it out).
        light: list[Action] = [Light(self.armed.role)] if self.armed else []
        return light + self._problem(self._(STORAGE_PROBLEM.title), self._(STORAGE_PROBLEM.detail), now)

    def _new_scan(self, badge: str, role: str, now: Now, annuls: str | None = None) -> Scan:
        seq, self.next_seq = self.next_seq, self.next_seq + 1
        ts = now.wall.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return Scan(id=self.new_id(), kiosk=self.kiosk_id, event=self.event, badge=badge,
                    role=role, ts=ts, seq=seq, clock_ok=now.clock_ok, annuls=annuls)

    # -- role buttons and cards --

    def _arm_or_cancel(self, role: str, now: Now) -> list[Action]:
        if role == "attend":
            return self._attend(now)
        if role not in self.roles:
            return []
        if self.armed and self.armed.role == role:
            self.armed = None
            self.result_until = None
            return [Light(None), Show(self._idle(now))]
        self.armed = _Armed(role, now.mono + ARM_SECONDS)
        self.result_until = None
        self.awaiting = None  # the person has moved on: a late welcome must not hide the countdown
        return [Light(role), Play(Tone.ARMED), Show(screens.Armed(self.labels(role), int(ARM_SECONDS)))]

    def _attend(self, now: Now) -> list[Action]:
        """Attending needs no role: the attend card cancels an armed one, or says so."""
        if self.armed is None:
            return [Play(Tone.ARMED), self._result(screens.Notice(self.labels("attend"), self._("Just scan your badge")), now)]
        label, self.armed = self.labels(self.armed.role), None
        return [Light(None), Play(Tone.ARMED), self._result(screens.Notice(self.labels("attend"), self._("{role} cancelled").format(role=label)), now)]

    # -- set-up mode --

    def _enter_setup(self, now: Now) -> list[Action]:
        self.setup.enter(now.mono)
        self.armed = None  # set-up mode starts with no role armed
        return [Light(None), Play(Tone.ARMED),
                self._result(screens.Notice(self._("Set-up mode"), self._("Show a set-up or wi-fi card")), now)]

    def _setup_card(self, card: codes.SetupCard | codes.WifiCard | codes.LoginCard, now: Now) -> list[Action]:
        if isinstance(card, codes.LoginCard):
            return self._login_card(card, now)
        if isinstance(card, codes.SetupCard):
            self.event, self.event_name = card.event, None
            self.setup.configured()
            detail = self._("{event} via {hub}").format(event=card.event, hub=card.hub) if card.hub else card.event
            return [SaveSetup(card.event, card.hub), Play(Tone.OK),
                    self._result(screens.Notice(self._("Event set"), detail), now)]
        try:
            credentials = parse_wifi(card.text)
        except WifiCardError as exc:
            return self._problem(self._("Wi-fi card"), self._(exc.template).format(**exc.fields), now)
        joining = self._("Joining {ssid}…").format(ssid=credentials.ssid)
        return [JoinWifi(credentials), Play(Tone.OK),
                self._result(screens.Notice(joining, self._("This can take a minute")), now)]

    def _login_card(self, card: codes.LoginCard, now: Now) -> list[Action]:
        """Rules: a login card never weakens the link (a kiosk on TLS stays on TLS), and never
        strands scans: those waiting were made under this kiosk's id, which the hub checks
        against the login they arrive under."""
        if self.link_tls and not card.broker.startswith("mqtts://"):
            return self._problem(self._("Login card"), self._("would turn encryption off"), now)
        if self.queued and card.kiosk_id != self.kiosk_id:
            return self._problem(self._("Login card"), self._("sync first: {queued} waiting").format(queued=self.queued), now)
        host = card.broker.split("://", 1)[1]
        return [SaveLogin(card), Play(Tone.OK),
                self._result(screens.Notice(self._("Kiosk {kiosk}").format(kiosk=card.kiosk_id), self._("Joining {ssid}").format(ssid=host)), now)]

    # -- the hub's answers and the link --

    def _ack(self, ack: Ack, now: Now) -> list[Action]:
        if not self.awaiting or self.awaiting[0] != ack.id or now.mono > self.awaiting[1]:
            return []  # too late to show: the person has moved on; the outbox still counts it
        label = self.awaiting[2]
        self.awaiting = None
        person = ack.person
        if ack.status is AckStatus.REJECTED:
            return [Play(Tone.ERROR), self._result(screens.Problem(self._("Not counted"), self._(ack.reason or N_("hub refused it"))), now)]
        if ack.status is AckStatus.DUPLICATE:
            return [self._result(screens.AlreadyCheckedIn(person.name if person else None, label), now)]
        if person is None:
            return []
        progress = self._progress(person.next_milestone) if person.next_milestone else None
        actions: list[Action] = [Play(Tone.MILESTONE)] if ack.milestone else []
        milestone = milestone_name(ack.milestone, self._) if ack.milestone else None
        actions.append(self._result(screens.Welcome(person.name, person.points, person.events,
                                                    progress, milestone, label), now))
        return actions

    def _config(self, config: KioskConfig, now: Now) -> list[Action]:
        # A role that is not a role name could never be carded or sent: leave it out.
        config = replace(config, roles=tuple(r for r in config.roles if codes.is_role_name(r)))
        if config.event:
            self.setup.configured()
        self.event = config.event
        self.event_name = config.event_name
        if config.roles:
            self.roles = tuple(dict.fromkeys(("attend", *config.roles)))
        actions: list[Action] = [SaveConfig(config)]
        if self.armed and self.armed.role not in self.roles:
            self.armed = None
            actions.append(Light(None))
        return actions + self._refresh_idle(now)

    # -- time passing --

    def _tick(self, now: Now) -> list[Action]:
        if self.awaiting and now.mono > self.awaiting[1]:
            self.awaiting = None
        showing_result = self.result_until is not None and now.mono < self.result_until
        if not showing_result:
            self.result_until = None
        if self.armed:
            left = self.armed.until - now.mono
            if left <= 0:
                self.armed = None
                return [Light(None), *self._refresh_idle(now)]
            if showing_result:
                return []  # a problem or notice shown while armed stays its time; the countdown follows
            return [Show(screens.Armed(self.labels(self.armed.role), int(left + 0.999)))]
        return self._refresh_idle(now)

    # -- screens --

    def _refresh_idle(self, now: Now) -> list[Action]:
        if self.armed or self.result_until is not None:
            return []
        return [Show(self._idle(now))]

    def _idle(self, now: Now) -> screens.Idle:
        clock = now.wall.astimezone().strftime("%H:%M") if now.clock_ok else "--:--"
        return screens.Idle(self.event_name or self.event or "", clock, self.online, self.queued,
                            setup=self.setup.active(now.mono), warning=self._(STORAGE_WARNINGS.get(self.storage, "")))

    def _(self, message: str) -> str:
        """``message`` in the kiosk's language ("" stays "": gettext would give the header)."""
        return self.words.gettext(message) if message else ""

    def _progress(self, milestone) -> str:
        """What the welcome screen says about the next milestone; short, to fit 128 px."""
        if milestone.kind == "volunteer":
            return self._("Helped {done} of {target}").format(done=milestone.target - milestone.to_go,
                                                             target=milestone.target)
        return self._("{to_go} more to your {target}").format(to_go=milestone.to_go, target=milestone.target)

    def _result(self, screen: screens.Screen, now: Now) -> Show:
        self.result_until = now.mono + RESULT_SECONDS
        return Show(screen)

    def _problem(self, title: str, detail: str, now: Now) -> list[Action]:
        if self.armed:  # the role stays armed (its LED lit), with a fresh go at scanning the badge
            self.armed = _Armed(self.armed.role, now.mono + ARM_SECONDS)
        return [Play(Tone.ERROR), self._result(screens.Problem(title, detail), now)]
