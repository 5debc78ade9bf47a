"""``turnout-kiosk``: run the kiosk daemon (on a Pi, or simulated with --sim), decode images,
list scanners."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import sys
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH, ConfigError, Settings, load_settings

log = logging.getLogger("turnout.kiosk")

SIM_HELP = """\
Simulated kiosk: type a code and press Enter, as a USB scanner would.
  T13                   a badge: T + person number + check digit (person 1 of the demo's sample)
  TURNOUT:ROLE:cake     a role card (or ':press cake' to press the cake button)
  TURNOUT:UNDO          undo the last scan (within 60 s)
  :hold pitch cake      hold two role buttons for 3 s: set-up mode (then TURNOUT:SETUP:<event>, WIFI:…)
The screen is drawn below and saved to {png}. Ctrl-D or Ctrl-C to stop.
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["decode"]:
        return _decode(argv[1:])
    if argv[:1] == ["devices"]:
        return _devices()
    if argv[:1] == ["run"]:
        argv = argv[1:]
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(message)s")
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
                                "'devices' (list input devices that may be scanners).")
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
    """Wire the parts and run until stdin ends (simulation) or SIGTERM/SIGINT."""
    from kiosk.clock import KioskClock
    from kiosk.daemon import KioskDaemon
    from kiosk.hardware import build_parts, start_scanner
    from kiosk.link import KioskLink
    from kiosk.machine import ButtonPressed, CodeRead, KioskMachine, SetupChord
    from kiosk.setup_mode import SetupMode
    from kiosk.store import ScanStore
    from kiosk.wifi import join_wifi
    from turnout.broker_url import BrokerURL

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    store = ScanStore(settings.db_path)
    try:
        broker = BrokerURL.parse(settings.broker_url(store.load_broker()))
    except ValueError as exc:
        print(f"turnout-kiosk: {exc}", file=sys.stderr)
        return 2
    saved = store.load_config()
    event = (saved.event if saved else None) or settings.event  # the hub's (or a card's) wins
    roles = tuple(saved.roles) if saved and saved.roles else settings.roles
    clock = KioskClock(True if settings.sim else None)
    machine = KioskMachine(kiosk_id=settings.kiosk_id, event=event,
                           event_name=(saved.event_name if saved else None) or settings.event_name,
                           roles=roles, labels=settings.label, next_seq=store.next_seq(),
                           seen=store.seen_keys(),
                           setup=SetupMode(clock().mono, event_configured=bool(event)))
    daemon_ref: list = []
    post = lambda event: daemon_ref[0].post(event)  # noqa: E731 (parts exist before the daemon)
    parts = build_parts(settings, on_press=lambda role: post(ButtonPressed(role)),
                        on_setup_chord=lambda: post(SetupChord()), out=stdout)

    def make_link(url: str | BrokerURL) -> KioskLink:
        return KioskLink(settings.kiosk_id, url if isinstance(url, BrokerURL) else BrokerURL.parse(url),
                         post, settings.base_topic, settings.broker_username, settings.broker_password)

    link = make_link(broker)
    daemon = KioskDaemon(machine, store, link, parts.feedback, clock,
                         join_wifi=_simulated_join if settings.sim else join_wifi, relink=make_link)
    daemon_ref.append(daemon)

    def on_code(text: str) -> None:
        if settings.sim and text.startswith(":press "):
            _press(parts, settings, text.split(None, 1)[1].strip())
        elif settings.sim and text.startswith(":hold "):
            _hold(parts, settings, text.split()[1:])
        else:
            daemon.post(CodeRead(text))

    if settings.sim:
        print(SIM_HELP.format(png=Path(settings.data_dir) / "screen.png"), file=stdout, flush=True)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: daemon.stop())
    try:
        scanner = start_scanner(settings, on_code, on_eof=daemon.stop, stdin=stdin)
    except Exception as exc:
        print(f"turnout-kiosk: scanner: {exc}", file=sys.stderr)
        return 1
    if hasattr(scanner, "on_readable"):
        daemon.watch(scanner)
    log.info("kiosk %s ready: event %s, %d scans waiting to sync", settings.kiosk_id, event,
             store.queued_count())
    try:
        daemon.run()
    except KeyboardInterrupt:
        pass
    finally:
        scanner.close()
        daemon.link.stop()
        parts.close()
        store.close()
    return 0


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


def _devices() -> int:
    from kiosk.scanner.hid import find_scanner_devices
    for found in find_scanner_devices():
        print(f"{found.stable_path or found.path}\t{found.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
