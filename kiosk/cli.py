"""``turnout-kiosk``: run the kiosk daemon (on a Pi, or simulated with --sim), decode images,
list scanners, recover scans from a damaged database."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import sys
import time
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH, ConfigError, Settings, load_settings

log = logging.getLogger("turnout.kiosk")

STORE_RETRY_SECONDS = 5.0  # a store that cannot be opened is tried again this often

SIM_HELP = """\
Simulated kiosk: type a code and press Enter, as a USB scanner would.
  T13                   a badge: T + person number + check digit (person 1 of the demo's sample)
  TURNOUT:ROLE:cake     a role card (or ':press cake' to press the cake button)
  TURNOUT:UNDO          undo the last scan (within 60 s)
  :hold pitch cake      hold two role buttons for 3 s: set-up mode (then TURNOUT:SETUP:<event>, WIFI:…)
  :stall 60             a test aid: hang the kiosk's loop for 60 s (systemd's watchdog restarts it)
The screen is drawn below and saved to {png}. Ctrl-D or Ctrl-C to stop.
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["decode"]:
        return _decode(argv[1:])
    if argv[:1] == ["devices"]:
        return _devices()
    if argv[:1] == ["recover"]:
        return _recover(argv[1:])
    if argv[:1] == ["doctor"]:
        return _doctor(argv[1:])
    if argv[:1] == ["run"]:
        argv = argv[1:]
    args = _parser().parse_args(argv)
    from turnout import logs
    logs.setup(logging.DEBUG if args.verbose else logging.INFO, terminal_format="%(levelname)s %(message)s")
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"turnout-kiosk: {exc}", file=sys.stderr)
        return 2
    return run(settings)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="turnout-kiosk", description="Turnout kiosk daemon. "
                                "Flags override the config file. "
                                "Subcommands: 'decode IMAGE…' (print codes found in images), "
                                "'devices' (list input devices that may be scanners), "
                                "'recover FILE' (unsent scans from a damaged kiosk.db back in the outbox), "
                                "'doctor' (check this kiosk in place and say what to fix).")
    p.add_argument("--config", type=Path, help=f"TOML settings (default {DEFAULT_CONFIG_PATH})")
    p.add_argument("--sim", action="store_true", help="simulated hardware: stdin scanner, mock pins, screen.png")
    p.add_argument("--kiosk-id")
    p.add_argument("--broker", help="mqtt://[user:password@]HOST:PORT or mqtts://… (wins over the "
                   "config file and over a hub address saved from a set-up card)")
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--event", help="event id to count scans for until the hub assigns one (an event "
                   "from the hub or a set-up card, once received, wins over this flag)")
    p.add_argument("--scanner", help="hid | hid:/dev/input/… | stdin | images:DIR | picamera2 | v4l2:/dev/videoN")
    p.add_argument("--display", choices=["ssd1306", "sh1106", "none"])
    p.add_argument("--buzzer", choices=["passive", "active", "none"])
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def _settings(args) -> Settings:
    path = args.config or (None if args.sim else DEFAULT_CONFIG_PATH)
    overrides = {"kiosk_id": args.kiosk_id, "broker": args.broker, "data_dir": args.data_dir,
                 "event": args.event, "scanner": args.scanner, "display": args.display,
                 "buzzer": args.buzzer, "sim": True if args.sim else None}
    if args.sim and args.data_dir is None and args.config is None:
        overrides["data_dir"] = Path("var") / f"kiosk-{args.kiosk_id or 'sim'}"
    return load_settings(path, overrides)


def run(settings: Settings, stdin=None, stdout=None) -> int:
    """Wire the parts and run until stdin ends (simulation) or SIGTERM/SIGINT. A login card
    makes the kiosk start again, in this process, as the kiosk the card names."""
    from turnout.systemd import ServiceManager

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    service = ServiceManager.from_environment()
    try:
        settings.configured_broker()
    except ValueError as exc:
        print(f"turnout-kiosk: {exc}", file=sys.stderr)
        return 2
    daemon_ref: list = []
    stopping = threading.Event()

    def stop(*_) -> None:
        stopping.set()
        if daemon_ref:
            daemon_ref[0].stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    try:
        if _lock_data_dir(Path(settings.data_dir)) is None:
            print(f"turnout-kiosk: another kiosk is running on {settings.data_dir}", file=sys.stderr)
            return 1
    except OSError as exc:  # no data directory to lock: opening the store says so, and waits
        log.warning("could not lock %s: %s", settings.data_dir, exc)
    while True:
        daemon_ref.clear()
        outcome = _run_once(settings, stdin, stdout, stopping, daemon_ref, service)
        if outcome != RESTART or stopping.is_set():
            return 0 if outcome == RESTART else outcome
        log.info("starting again with the login from the card")


RESTART = -1  # _run_once: the daemon stopped to start again (a login card was saved)


def _run_once(settings: Settings, stdin, stdout, stopping: threading.Event, daemon_ref: list,
              service) -> int:
    from kiosk.clock import KioskClock
    from kiosk.daemon import KioskDaemon
    from kiosk.hardware import build_parts, start_scanner
    from kiosk.link import KioskLink
    from kiosk.machine import ButtonPressed, CodeRead, KioskMachine, SetupChord
    from kiosk.setup_mode import SetupMode
    from kiosk.wifi import join_wifi
    from turnout.broker_url import BrokerURL, broker_for_card

    def post(event) -> None:  # parts exist before the daemon; nothing to tell until it does
        if daemon_ref:
            daemon_ref[0].post(event)

    parts = build_parts(settings, on_press=lambda role: post(ButtonPressed(role)),
                        on_setup_chord=lambda: post(SetupChord()), out=stdout)
    opened = _open_store(settings, parts.feedback, stopping, service)
    if opened is None:
        parts.close()
        return 0
    store, start = opened
    settings = settings.with_login(start.login)  # a login card's id and broker win over the file's
    try:
        configured = settings.configured_broker()
    except ValueError as exc:
        print(f"turnout-kiosk: {exc}", file=sys.stderr)
        parts.close()
        store.close()
        return 2
    try:
        broker = settings.broker_to_use(start.card_hub)
    except ValueError as exc:  # a hub saved by an older kiosk that is not an address
        log.warning("ignoring the saved hub address %r (%s); using %s", start.card_hub, exc, configured)
        broker = configured
    saved = start.config
    event = (saved.event if saved else None) or settings.event  # the hub's (or a card's) wins
    roles = tuple(saved.roles) if saved and saved.roles else settings.roles
    clock = KioskClock(True if settings.sim else None)
    machine = KioskMachine(kiosk_id=settings.kiosk_id, event=event,
                           event_name=(saved.event_name if saved else None) or settings.event_name,
                           roles=roles, labels=settings.label, next_seq=start.next_seq,
                           seen=start.seen, store_reset=store.reset_from is not None,
                           link_tls=configured.tls, words=settings.words(),
                           setup=SetupMode(clock().mono, event_configured=bool(event)))

    def make_link(url: BrokerURL) -> KioskLink:
        return KioskLink(settings.kiosk_id, url, post, settings.base_topic, ca=settings.broker_ca)

    link = make_link(broker)
    daemon = KioskDaemon(machine, store, link, parts.feedback, clock,
                         join_wifi=_simulated_join if settings.sim else join_wifi, relink=make_link,
                         card_broker=lambda hub: broker_for_card(configured, hub))
    daemon_ref.append(daemon)

    def on_code(text: str) -> None:
        if settings.sim and text.startswith(":press "):
            _press(parts, settings, text.split(None, 1)[1].strip())
        elif settings.sim and text.startswith(":hold "):
            _hold(parts, settings, text.split()[1:])
        elif settings.sim and text.startswith(":stall"):
            _stall(text, service)
        else:
            daemon.post(CodeRead(text))

    if settings.sim:
        print(SIM_HELP.format(png=Path(settings.data_dir) / "screen.png"), file=stdout, flush=True)
    try:
        scanner = start_scanner(settings, on_code, on_eof=daemon.stop, stdin=stdin)
    except Exception as exc:
        print(f"turnout-kiosk: scanner: {exc}", file=sys.stderr)
        parts.close()
        store.close()
        return 1
    if hasattr(scanner, "on_readable"):
        daemon.watch(scanner)
    log.info("kiosk %s ready: event %s, %d scans waiting to sync", settings.kiosk_id, event, start.queued)
    try:
        if not stopping.is_set():
            daemon.run(service)
    except KeyboardInterrupt:
        pass
    finally:
        scanner.close()
        daemon.link.stop()
        parts.close()
        store.close()
    return RESTART if daemon.restart_requested else 0


class _StoreAtStart:
    """What the kiosk reads from its store before it starts."""

    def __init__(self, store):
        self.card_hub = store.load_broker()
        self.login = store.load_login()
        self.config = store.load_config()
        self.next_seq = store.next_seq()
        self.seen = store.seen_keys()
        self.queued = store.queued_count()


def _open_store(settings: Settings, feedback, stopping: threading.Event, service=None):
    """The store and what the kiosk needs from it. Rule: a store that cannot be opened never
    makes the kiosk exit (systemd would only start it again, and again): it says so on the
    screen and in the log, and tries again until it can or is told to stop. A damaged one is
    moved aside by ScanStore.open. Meanwhile systemd hears the kiosk is up (doing what it can:
    saying so) and this retry loop keeps its watchdog fed."""
    from kiosk.buzzer.tunes import Tone
    from kiosk.machine import STORAGE_PROBLEM
    from kiosk.store import ScanStore

    said = False
    while not stopping.is_set():
        store = None
        try:
            store = ScanStore.open(settings.db_path)
            start = _StoreAtStart(store)
        except Exception as exc:
            if store is not None:
                store.close()
            if not said:
                log.error("storage error: cannot open %s (%s: %s); trying again every %.0f s, "
                          "tell an organiser", settings.db_path, type(exc).__name__, exc, STORE_RETRY_SECONDS)
                feedback.play(Tone.ERROR)
                feedback.show(STORAGE_PROBLEM)
                said = True
                if service is not None:
                    service.ready(f"storage error: cannot open {settings.db_path}; trying again")
            _wait_feeding_watchdog(stopping, STORE_RETRY_SECONDS, service)
            continue
        if said:
            log.info("storage works again: opened %s", settings.db_path)
        if store.reset_from:
            log.error("storage was reset: %s could not be read, so it was moved aside to %s and a "
                      "fresh store started; put its unsent scans back with: turnout-kiosk recover %s",
                      settings.db_path, store.reset_from, store.reset_from)
        return store, start
    return None


def _wait_feeding_watchdog(stopping: threading.Event, seconds: float, service) -> None:
    step = min(seconds, service.watchdog_interval or seconds) if service is not None else seconds
    deadline = time.monotonic() + seconds
    while not stopping.is_set() and time.monotonic() < deadline:
        if service is not None:
            service.watchdog()
        stopping.wait(min(step, max(0.0, deadline - time.monotonic())))


MAX_STALL_SECONDS = 3600


def _stall(text: str, service) -> None:
    """Simulation's test aid: block the loop thread (the stdin scanner is read by the loop) for
    the seconds given, as a hung loop would, to see systemd's watchdog kill and restart it."""
    try:
        seconds = float(text.split()[1])
        if not 0 < seconds <= MAX_STALL_SECONDS:
            raise ValueError
    except (IndexError, ValueError):
        print(f":stall SECONDS (up to {MAX_STALL_SECONDS}), e.g. :stall 60", file=sys.stderr)
        return
    log.warning("test aid: the kiosk's loop stalls for %.0f s (no watchdog pings meanwhile)", seconds)
    service.status(f"stalled on purpose for {seconds:.0f} s (:stall, a test aid)")
    time.sleep(seconds)
    log.warning("test aid: the kiosk's loop goes on after stalling for %.0f s", seconds)
    service.status("resumed after :stall")


def _lock_data_dir(data_dir: Path):
    """An exclusive lock on the data directory (one kiosk, or one recovery, at a time); None if
    another process holds it. Held until this process ends."""
    import fcntl
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "kiosk.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _press(parts, settings: Settings, role: str) -> None:
    """Simulation: press a role button through its mock pin, as a finger would."""
    pin = settings.button_pins.get(role)
    if parts.pin_factory is None or pin is None:
        print(f"no button for {role!r}", file=sys.stderr)
        return
    mock = parts.pin_factory.pin(pin)
    mock.drive_low()
    mock.drive_high()


def _hold(parts, settings: Settings, roles: list[str]) -> None:
    """Simulation: hold role buttons together (two of them for 3 s is the set-up chord)."""
    pins = [parts.pin_factory.pin(settings.button_pins[r]) for r in roles
            if parts.pin_factory is not None and r in settings.button_pins]
    for pin in pins:
        pin.drive_low()
    threading.Timer(3.5, lambda: [pin.drive_high() for pin in pins]).start()


def _simulated_join(credentials):
    """Simulation never touches the machine's real network."""
    from kiosk.wifi import WifiResult
    log.info("simulation: would join wi-fi %s", credentials.ssid)
    return WifiResult(True, credentials.ssid, f"Joined {credentials.ssid} (simulated)")


def _decode(paths: list[str]) -> int:
    if not paths:
        print("usage: turnout-kiosk decode IMAGE…", file=sys.stderr)
        return 2
    from kiosk.scanner.decode import decode_files
    return decode_files(paths) or 0


def _recover(argv: list[str]) -> int:
    """``turnout-kiosk recover FILE``: the unsent scans still readable in a damaged store back in
    this kiosk's outbox, with their own ids (the hub counts a scan it already has only once)."""
    import sqlite3

    from kiosk.store import ScanStore, read_old_store

    p = argparse.ArgumentParser(prog="turnout-kiosk recover",
                                description="Put the unsent scans that can still be read from a damaged "
                                "kiosk database (DATA_DIR/kiosk.db.corrupt-…) back in this kiosk's outbox. "
                                "Stop the kiosk first.")
    p.add_argument("file", type=Path, help="the damaged database the kiosk moved aside")
    p.add_argument("--config", type=Path, help=f"TOML settings (default {DEFAULT_CONFIG_PATH})")
    p.add_argument("--data-dir", type=Path, help="the kiosk's data directory (default: from the settings)")
    args = p.parse_args(argv)
    try:
        settings = load_settings(args.config or DEFAULT_CONFIG_PATH, {"data_dir": args.data_dir})
    except ConfigError as exc:
        print(f"turnout-kiosk: {exc}", file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(f"turnout-kiosk recover: {args.file} is not a file", file=sys.stderr)
        return 2
    if args.file.resolve() == settings.db_path.resolve():
        print(f"turnout-kiosk recover: {args.file} is the kiosk's own database; name the one it "
              "moved aside (kiosk.db.corrupt-…)", file=sys.stderr)
        return 2
    try:
        locked = _lock_data_dir(Path(settings.data_dir))
    except OSError as exc:
        print(f"turnout-kiosk recover: {settings.data_dir}: {exc}", file=sys.stderr)
        return 1
    if locked is None:
        print(f"turnout-kiosk recover: the kiosk is running on {settings.data_dir}: stop it first "
              "(sudo systemctl stop turnout-kiosk), then run this again", file=sys.stderr)
        return 1
    old = read_old_store(args.file)
    readable = len(old.unsent) + old.sent
    print(f"{args.file}: {readable} scans readable ({old.sent} already answered by the hub, "
          f"{len(old.unsent)} unsent); {old.unreadable_rows} rows could not be read"
          + (f"; {old.error}" if old.error else ""))
    ours = [scan for scan in old.unsent if scan.kiosk == settings.kiosk_id]
    if len(ours) < len(old.unsent):  # the hub would refuse them from this kiosk's topic anyway
        others = sorted({scan.kiosk for scan in old.unsent} - {settings.kiosk_id})
        print(f"{len(old.unsent) - len(ours)} unsent scans were made by kiosk {', '.join(others)}, "
              f"not {settings.kiosk_id}: left out")
    try:
        store = ScanStore.open(settings.db_path)
        try:
            done = store.requeue(ours)
            store.recovered(args.file)
            queued = store.queued_count()
        finally:
            store.close()
    except sqlite3.Error as exc:
        print(f"turnout-kiosk recover: could not write to {settings.db_path}: {exc}; nothing was "
              "changed, try again once it works", file=sys.stderr)
        return 1
    print(f"{done.added} scans back in the outbox of {settings.db_path} ({done.already_here} were there "
          f"already, {done.renumbered} given a new seq); {queued} now wait to be sent when the kiosk "
          "next connects. The hub counts each scan once, so a scan it already had is only answered.")
    return 0


def _doctor(argv: list[str]) -> int:
    """``turnout-kiosk doctor``: check the kiosk in place; exit 1 when something needs fixing."""
    from kiosk.doctor import examine, report

    p = argparse.ArgumentParser(prog="turnout-kiosk doctor",
                                description="Check this kiosk in place: screen, scanner, GPIO, clock, broker "
                                "login, disk space and scans waiting; say in plain words what to fix. Run it "
                                "as the kiosk's user: sudo -u turnout turnout-kiosk doctor")
    p.add_argument("--config", type=Path, help=f"TOML settings (default {DEFAULT_CONFIG_PATH})")
    args = p.parse_args(argv)
    try:
        settings = load_settings(args.config or DEFAULT_CONFIG_PATH)
    except ConfigError as exc:
        print(f"FIX  settings  {exc}", file=sys.stdout)
        return 2
    return report(examine(settings), sys.stdout)


def _devices() -> int:
    from kiosk.scanner.hid import find_scanner_devices
    for found in find_scanner_devices():
        print(f"{found.stable_path or found.path}\t{found.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
