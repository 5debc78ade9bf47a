"""Inside the test VM: runs the kiosk from its real unit and scans the way real devices do.

A virtual USB barcode scanner (python-evdev's UInput on the kernel's /dev/uinput, with a
scanner's USB ids and a keyboard's keys) types the badges of cases.py; a v4l2loopback device
shows camera frames of badges to the kiosk's webcam source. It watches the kiosk's scans and the
hub's acks on the broker (for scan->ack times, on this VM's clock) and what reaches the console
tty1, and writes one JSON line per case to the results port (a serial port the host keeps).
Usage: driver.py PARAMS.json RESULTS_DEVICE (beside it, the part of tests/ it imports)
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import subprocess
import sys
import termios
import threading
import time
import tty
from pathlib import Path

import paho.mqtt.client as mqtt
from evdev import UInput, ecodes
from paho.mqtt.enums import CallbackAPIVersion

from tests.hil.cases import RUNS, Case, KioskRun
from tests.kiosk.sim import wait_for
from turnout.protocol import Topics

HERE = Path(__file__).resolve().parent
# A Symbol (Zebra) LS2208 in its USB keyboard mode.
SCANNER_IDS = dict(vendor=0x05E0, product=0x1200, version=0x0100, bustype=ecodes.BUS_USB,
                   name="Symbol Technologies, Inc, 2008 Symbol Bar Code Scanner")
KEYBOARD_IDS = dict(vendor=0x046D, product=0xC31C, version=0x0110, bustype=ecodes.BUS_USB,
                    name="Logitech USB Keyboard")
KEY_DELAY = 0.002  # seconds between a scanner's USB reports: ~250 characters a second
ACK_WAIT = 60.0  # seconds for a typed or shown badge's ack (TCG makes everything slow)

# What a scanner set to each layout sends for a character: (key, shifted). Its own table, not
# the kiosk's: a wrong table on either side would show as a misread at the hub.
_US = {
    **{c: (f"KEY_{c.upper()}", False) for c in "abcdefghijklmnopqrstuvwxyz"},
    **{c: (f"KEY_{c}", True) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{d: (f"KEY_{d}", False) for d in "0123456789"},
    ":": ("KEY_SEMICOLON", True), ";": ("KEY_SEMICOLON", False), "-": ("KEY_MINUS", False),
    "_": ("KEY_MINUS", True), "@": ("KEY_2", True), '"': ("KEY_APOSTROPHE", True),
    "#": ("KEY_3", True), ".": ("KEY_DOT", False), "/": ("KEY_SLASH", False),
}
LAYOUTS = {
    "us": _US,
    "uk": {**_US, "@": ("KEY_APOSTROPHE", True), '"': ("KEY_2", True), "#": ("KEY_BACKSLASH", False)},
}


def log(text: str) -> None:
    print(f"hil: {text}", flush=True)


class Scanner:
    """A USB barcode scanner in keyboard mode: plugged in when made, unplugged by `unplug()`."""

    def __init__(self, layout: str, ids: dict = SCANNER_IDS):
        self.keymap = LAYOUTS[layout]
        keys = sorted({ecodes.ecodes[k] for k, _ in self.keymap.values()}
                      | {ecodes.KEY_ENTER, ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT, ecodes.KEY_A}
                      | {ecodes.ecodes[f"KEY_KP{d}"] for d in "0123456789"})
        self.device = UInput({ecodes.EV_KEY: keys}, **ids)
        self.path = self.device.device.path
        time.sleep(0.3)  # udev gives the node its group before anyone opens it

    def key(self, code: int, value: int) -> None:
        self.device.write(ecodes.EV_KEY, code, value)
        self.device.syn()
        time.sleep(KEY_DELAY)

    def tap(self, name: str, shift: str | None = None) -> None:
        code = ecodes.ecodes[name]
        if shift:
            self.key(ecodes.ecodes[shift], 1)
        self.key(code, 1)
        self.key(code, 0)
        if shift:
            self.key(ecodes.ecodes[shift], 0)

    def type(self, text: str, enter: bool = True, shift: str = "KEY_LEFTSHIFT", keypad: bool = False) -> None:
        for char in text:
            name, shifted = self.keymap[char]
            if keypad and char.isdigit():
                name = f"KEY_KP{char}"
            self.tap(name, shift if shifted else None)
        if enter:
            self.tap("KEY_ENTER")

    def unplug(self) -> None:
        self.device.close()


class Console:
    """tty1, the console a scanner's keys would reach if the kiosk did not hold its grab."""

    def __init__(self) -> None:
        self.fd = os.open("/dev/tty1", os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIFLUSH)

    def read(self) -> str:
        chunks = []
        while True:
            try:
                chunk = os.read(self.fd, 4096)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")


class Broker:
    """The kiosks' scans and the hub's acks, as the broker on the host carries them."""

    def __init__(self, url: str):
        host, port = url.removeprefix("mqtt://").rsplit(":", 1)
        self.topics = Topics()
        self.scans: dict[str, dict] = {}  # scan id -> the scan
        self.acked: dict[str, float] = {}  # scan id -> when its ack arrived (monotonic)
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hil-driver-{os.getpid()}")
        self.client.on_message = self._message
        self.client.on_connect = lambda c, u, f, reason, p: c.subscribe(
            [(self.topics.scan("+"), 1), (self.topics.ack("+"), 1)])
        self.client.connect(host, int(port))
        self.client.loop_start()

    def _message(self, client, userdata, message) -> None:
        data = json.loads(message.payload)
        with self.lock:
            if message.topic.endswith("/scan"):
                self.scans[data["id"]] = data
            elif message.topic.endswith("/ack"):
                self.acked.setdefault(data["id"], time.monotonic())

    def ack_time(self, kiosk: str, badge: str) -> float | None:
        with self.lock:
            for scan_id, scan in self.scans.items():
                if scan["kiosk"] == kiosk and scan["badge"] == badge and scan_id in self.acked:
                    return self.acked[scan_id]
        return None

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def sh(*args: str, check: bool = True) -> str:
    return subprocess.run(args, check=check, capture_output=True, text=True).stdout.strip()


def kiosk_status() -> str:
    return sh("systemctl", "show", "-p", "StatusText", "--value", "turnout-kiosk", check=False)


def start_kiosk(run: KioskRun, params: dict) -> None:
    Path("/etc/turnout/kiosk.toml").write_text(
        f'kiosk_id = "{run.kiosk_id}"\nevent = "{params["event"]}"\nbroker = "{params["broker"]}"\n'
        f'scanner = "{run.scanner}"\nscanner_layout = "{run.layout}"\ndisplay = "none"\nbuzzer = "none"\n'
        "button_pins = {}\nled_pins = {}\n")
    started = time.monotonic()
    if subprocess.run(["systemctl", "restart", "turnout-kiosk"]).returncode != 0:  # waits for READY=1
        log("the kiosk failed to start; it restarts by itself (Restart=always). What it sees:")
        diagnose()
    wait_for(lambda: kiosk_status().startswith("online"), "the kiosk online", 120)
    log(f"kiosk {run.kiosk_id} ({run.scanner}, {run.layout}) online in {time.monotonic() - started:.1f} s")


DIAGNOSE = """
import os, glob
from evdev import InputDevice
print("id", os.getuid(), os.getgroups())
for path in sorted(glob.glob("/dev/input/event*")):
    st = os.stat(path)
    line = f"{path} uid={st.st_uid} gid={st.st_gid} mode={oct(st.st_mode)} access_rw={os.access(path, os.R_OK | os.W_OK)}"
    try:
        d = InputDevice(path)
        line += f" opened: {d.name} {d.info}"
        d.close()
    except OSError as e:
        line += f" open failed: {e}"
    print(line)
"""


def diagnose() -> None:
    """The input devices as the kiosk's unit, sandbox and all, sees them."""
    unit = Path("/etc/systemd/system/turnout-kiosk.service").read_text()
    Path("/run/hil-diag.py").write_text(DIAGNOSE)
    lines = []
    for line in unit.splitlines():
        if line.startswith("ExecStart="):
            line = "ExecStart=/opt/turnout/.venv/bin/python /run/hil-diag.py"
        elif line.startswith(("Type=", "WatchdogSec=", "Restart=")):
            continue
        lines.append(line)
    Path("/run/systemd/system/hil-diag.service").write_text("\n".join(lines).replace("[Service]", "[Service]\nType=oneshot"))
    sh("systemctl", "daemon-reload")
    subprocess.run(["systemctl", "start", "hil-diag"])
    print(sh("journalctl", "-b", "--no-pager", "-o", "cat", "-u", "hil-diag", check=False), flush=True)
    print(sh("ls", "-la", "/dev/input", "/dev/input/by-id", check=False), flush=True)


def journal_count(text: str) -> int:
    journal = sh("journalctl", "-b", "--no-pager", "-o", "cat", "-u", "turnout-kiosk", check=False)
    return journal.count(text)


def wait_acks(broker: Broker, kiosk: str, typed: list[tuple[str, float]]) -> list[float | None]:
    """Scan->ack milliseconds for each (badge, when typed or shown); None for one never acked."""
    deadline = time.monotonic() + ACK_WAIT
    while time.monotonic() < deadline and any(broker.ack_time(kiosk, b) is None for b, _ in typed):
        time.sleep(0.1)
    times = [broker.ack_time(kiosk, b) for b, _ in typed]
    return [None if t is None else round((t - at) * 1000) for t, (_, at) in zip(times, typed)]


# --- one function per Case.how: each returns [(badge, when its last key was typed or shown)] ---

def do_type(case: Case, scanner: Scanner, **_) -> list[tuple[str, float]]:
    typed = []
    opts = {k: v for k, v in case.options.items() if k in ("enter", "shift", "keypad")}
    for code in case.codes:
        scanner.type(code, **opts)
        typed.append((code, time.monotonic()))
        time.sleep(case.options.get("gap", 0.0))
    return [(code, at) for code, at in typed if code.startswith("T") and ":" not in code]


def do_held(case: Case, scanner: Scanner, **_) -> list[tuple[str, float]]:
    """Another USB keyboard holds 'a' down (repeating) while the scanner types."""
    keyboard = Scanner("us", KEYBOARD_IDS)
    stop = threading.Event()

    def hold():
        keyboard.key(ecodes.KEY_A, 1)
        time.sleep(0.25)
        while not stop.wait(0.033):  # the kernel's autorepeat rate
            keyboard.key(ecodes.KEY_A, 2)
        keyboard.key(ecodes.KEY_A, 0)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        time.sleep(0.5)
        typed = []
        for code in case.codes:
            scanner.type(code)
            typed.append((code, time.monotonic()))
            time.sleep(0.3)
    finally:
        stop.set()
        holder.join()
        keyboard.unplug()
    return typed


def do_replug(case: Case, scanner: Scanner, broker: Broker, kiosk: str, **_) -> list[tuple[str, float]]:
    """A badge; half of the next, then the cable pulled; a keyboard plugged in (it takes the
    scanner's old eventN); the scanner plugged back in (under another); the next badge whole."""
    first, second = case.codes
    scanner.type(first)
    typed = [(first, time.monotonic())]
    wait_acks(broker, kiosk, typed)
    opened = journal_count("opened")
    old_path = scanner.path
    scanner.type(second[: len(second) // 2], enter=False)
    scanner.unplug()
    time.sleep(1.0)
    keyboard = Scanner("us", KEYBOARD_IDS)
    try:
        replugged = Scanner(scanner_layout(scanner))
        wait_for(lambda: journal_count("opened") > opened, "the kiosk to reopen the scanner", 20)
        NOTES.append(f"scanner unplugged from {old_path}, a keyboard plugged in at {keyboard.path}, the "
                     f"scanner back at {replugged.path}; the kiosk said 'came back as' "
                     f"{journal_count('came back as')} time(s)")
        replugged.type(second)
        typed.append((second, time.monotonic()))
    finally:
        keyboard.unplug()
    scanner.device, scanner.path = replugged.device, replugged.path  # the rest of the run types on it
    return typed


def scanner_layout(scanner: Scanner) -> str:
    return next(name for name, keymap in LAYOUTS.items() if keymap is scanner.keymap)


class Webcam:
    """The output side of the v4l2loopback device: YUYV 640x480 frames, written ~15 a second."""

    VIDIOC_S_FMT = 0xC0D05605  # _IOWR('V', 5, struct v4l2_format), 208 bytes on x86-64
    OUTPUT, FIELD_NONE, SRGB = 2, 1, 8

    def __init__(self, device: str, blank: bytes, width: int = 640, height: int = 480):
        self.fd = os.open(device, os.O_RDWR)
        pix = struct.pack("12I", width, height, int.from_bytes(b"YUYV", "little"), self.FIELD_NONE,
                          width * 2, width * height * 2, self.SRGB, 0, 0, 0, 0, 0)
        fmt = struct.pack("I4x", self.OUTPUT) + pix.ljust(200, b"\0")
        fcntl.ioctl(self.fd, self.VIDIOC_S_FMT, bytearray(fmt))
        self.frame = blank
        self.blank = blank
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        while not self.stop.wait(1 / 15):
            os.write(self.fd, self.frame)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        os.close(self.fd)


def do_show(case: Case, webcam: Webcam, **_) -> list[tuple[str, float]]:
    shown = []
    for badge in case.codes:
        webcam.frame = (HERE / "frames" / f"{badge}-{case.options['symbology']}.yuyv").read_bytes()
        shown.append((badge, time.monotonic()))
        time.sleep(case.options.get("hold", 4.0))
        webcam.frame = webcam.blank
        time.sleep(2.0)
    return shown


NOTES: list[str] = []  # what a case saw on the way, reported with it

ACTIONS = {"type": do_type, "held": do_held, "replug": do_replug, "show": do_show}


def main(params_path: str, results_path: str) -> int:
    params = json.loads(Path(params_path).read_text())
    results = open(results_path, "w")

    def report(record: dict) -> None:
        results.write(json.dumps(record) + "\n")
        results.flush()

    console = Console()
    # The control: with no kiosk holding it, a scanner's keys do reach the console.
    sh("systemctl", "stop", "turnout-kiosk", check=False)
    probe = Scanner("us")
    probe.type("hil", enter=False)
    time.sleep(0.5)
    report({"control": console.read()})
    probe.unplug()

    broker = Broker(params["broker"])
    webcam = None
    try:
        for run in RUNS:
            scanner = None
            if run.scanner.startswith("v4l2:"):
                webcam = Webcam(run.scanner.removeprefix("v4l2:"),
                                (HERE / "frames" / "blank.yuyv").read_bytes())
            else:
                scanner = Scanner(run.layout)  # plugged in before the kiosk starts and finds it
            start_kiosk(run, params)
            for case in run.cases:
                started = time.monotonic()
                error = None
                typed: list[tuple[str, float]] = []
                try:
                    typed = ACTIONS[case.how](case, scanner=scanner, broker=broker, kiosk=run.kiosk_id,
                                              webcam=webcam)
                    ms = wait_acks(broker, run.kiosk_id, typed)
                except Exception as exc:  # the case fails; the run goes on to the next
                    error, ms = f"{type(exc).__name__}: {exc}", []
                notes, NOTES[:] = NOTES[:], []
                report({"run": run.kiosk_id, "case": case.name, "acked_ms": ms, "error": error, "notes": notes,
                        "seconds": round(time.monotonic() - started, 1), "console": console.read()})
                log(f"{case.name}: acks {ms} {error or ''}")
            sh("systemctl", "stop", "turnout-kiosk", check=False)
            if scanner:
                scanner.unplug()
            if webcam:
                webcam.close()
                webcam = None
    finally:
        broker.close()
    report({"done": True, "console": console.read()})
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
