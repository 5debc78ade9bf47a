"""``turnout-kiosk doctor``: check a kiosk in place and say, in plain words, what to fix.

Each check is a small function returning a ``Finding``: what was looked at, whether it is
fine, and what was found or what to do. The places it looks (``/dev``, the timesync flag)
are parameters, so tests point them at real files of their own.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import ssl
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from glob import glob
from pathlib import Path
from typing import Callable

from kiosk.config import Settings
from turnout.mqtt import tls_context

DISK_LOW_BYTES = 200 * 1024 * 1024  # a day of scans is a few MB; below this the card is nearly full
BACKLOG_STALE_SECONDS = 15 * 60  # a scan waiting longer than this means the kiosk is not syncing
BROKER_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Finding:
    what: str  # what was checked, in a few words
    ok: bool
    detail: str  # what was found, or what to do about it


@dataclass(frozen=True)
class Places:
    """Where the checks look; the defaults are a Raspberry Pi's."""

    dev: Path = Path("/dev")
    input_by_id: Path = Path("/dev/input/by-id")
    timesync_flag: Path = Path("/run/systemd/timesync/synchronized")


def check_screen(settings: Settings, places: Places = Places()) -> Finding:
    """The OLED answers at its I2C address (an SMBus quick write, as i2cdetect probes)."""
    what = "screen"
    if settings.display == "none":
        return Finding(what, True, "no screen configured (display = \"none\")")
    bus = places.dev / f"i2c-{settings.i2c_port}"
    address = f"0x{settings.i2c_address:02X}"
    if not bus.exists():
        return Finding(what, False, f"{bus} does not exist: I2C is off. Turn it on with "
                       "`sudo raspi-config nonint do_i2c 0` (or dtparam=i2c_arm=on in "
                       "/boot/firmware/config.txt) and reboot")
    try:
        from smbus2 import SMBus
        with SMBus(str(bus)) as smbus:
            smbus.write_quick(settings.i2c_address)
    except PermissionError:
        return Finding(what, False, f"cannot open {bus}: add the turnout user to the i2c group "
                       "(`sudo usermod -aG i2c turnout`) and restart the kiosk")
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            return Finding(what, False, f"{address} on {bus} is held by a kernel driver: remove the "
                           "display overlay (dtoverlay=ssd1306…) from /boot/firmware/config.txt")
        return Finding(what, False, f"nothing answers at {address} on {bus}: check the screen's wiring "
                       "(SDA to GPIO2, SCL to GPIO3, VCC to 3.3 V, GND) or set i2c_address "
                       "(some screens use 0x3D)")
    return Finding(what, True, f"a device answers at {address} on {bus}")


def check_scanner(settings: Settings, places: Places = Places()) -> Finding:
    """A USB scanner (a keyboard to Linux) under /dev/input/by-id, readable by this user."""
    what = "scanner"
    source = settings.scanner
    if source.startswith("hid:"):
        paths = [Path(source[4:])]
    elif source == "hid":
        paths = sorted(Path(p) for p in glob(str(places.input_by_id / "*kbd*")))
        if not paths:
            return Finding(what, False, f"no USB scanner under {places.input_by_id}: plug it in (it "
                           "shows up as a keyboard), or try another USB port or cable")
    else:
        return check_camera(settings, places)
    unreadable = [p for p in paths if not os.access(p, os.R_OK)]
    if not paths[0].exists():
        return Finding(what, False, f"{paths[0]} does not exist: plug the scanner in, or fix scanner = "
                       "in the settings (`turnout-kiosk devices` lists what is there)")
    if unreadable:
        return Finding(what, False, f"cannot read {unreadable[0]}: add the turnout user to the input "
                       "group (`sudo usermod -aG input turnout`)")
    return Finding(what, True, ", ".join(p.name for p in paths))


def check_camera(settings: Settings, places: Places = Places()) -> Finding:
    what = "camera"
    source = settings.scanner
    if source == "picamera2":
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except ImportError:
            return Finding(what, False, "picamera2 is not installed: `sudo apt install python3-picamera2`")
        cameras = Picamera2.global_camera_info()
        if not cameras:
            return Finding(what, False, "libcamera finds no camera: check the ribbon cable (contacts "
                           "facing the board) and that camera_auto_detect=1 is in /boot/firmware/config.txt")
        return Finding(what, True, ", ".join(str(c.get("Model", "camera")) for c in cameras))
    if source.startswith("v4l2:"):
        path = Path(source[5:])
        if not path.exists():
            found = sorted(glob(str(places.dev / "video*")))
            return Finding(what, False, f"{path} does not exist" + (f" (there is {', '.join(found)})" if found
                           else ": plug the camera in"))
        if not os.access(path, os.R_OK | os.W_OK):
            return Finding(what, False, f"cannot open {path}: add the turnout user to the video group")
        return Finding(what, True, str(path))
    return Finding(what, True, f"scanner = \"{source}\": no camera or USB scanner to check")


def check_gpio(settings: Settings) -> Finding:
    """gpiozero can drive the pins (buttons, lights, buzzer) with a pin library of its own."""
    what = "GPIO"
    if settings.buzzer == "none" and not settings.button_pins:
        return Finding(what, True, "no buzzer or buttons configured")
    from gpiozero import Device
    saved, Device.pin_factory = Device.pin_factory, None
    try:
        with warnings.catch_warnings(record=True) as fallbacks:
            warnings.simplefilter("always")
            try:
                Device.ensure_pin_factory()
            except Exception as exc:
                tried = "; ".join(str(w.message) for w in fallbacks)
                if "ermission" in tried:
                    return Finding(what, False, "cannot open the GPIO chip: add the turnout user to the gpio "
                                   f"group (`sudo usermod -aG gpio turnout`) ({tried})")
                return Finding(what, False, f"gpiozero has no pin library it can use ({exc}: {tried}): on a "
                               "Raspberry Pi install python3-lgpio")
        name = type(Device.pin_factory).__name__
        Device.pin_factory.close()
        return Finding(what, True, f"gpiozero drives the pins with {name}")
    finally:
        Device.pin_factory = saved


def check_clock(places: Places = Places(), timedatectl: Callable[[], str | None] | None = None) -> Finding:
    """The clock was set by NTP: scans made before it carry clock_ok = false."""
    what = "clock"
    if places.timesync_flag.exists():
        return Finding(what, True, "synchronised (systemd-timesyncd)")
    answer = (timedatectl or _timedatectl)()
    if answer == "yes":
        return Finding(what, True, "synchronised")
    return Finding(what, False, "not synchronised with a time server: a Pi has no clock of its own, so scans "
                   "are marked as having an uncertain time until it is. Connect the kiosk to a network "
                   "that reaches the internet (or a time server named in /etc/systemd/timesyncd.conf); "
                   "`timedatectl` shows the state")


def _timedatectl() -> str | None:
    import subprocess
    try:
        done = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                              capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def check_broker(settings: Settings, kiosk_running: bool) -> Finding:
    """The broker accepts this kiosk's login (over TLS when the address is mqtts://)."""
    what = "broker"
    try:
        broker = settings.configured_broker()
    except ValueError as exc:
        return Finding(what, False, f"the broker address is wrong: {exc}")
    ca = settings.broker_ca
    if broker.tls:
        problem = _unreadable_ca(ca)
        if problem:
            return Finding(what, False, problem)
    if kiosk_running:
        # A login of our own would take over the kiosk's session (its client id is its login).
        problem = _reach(broker, ca)
        if problem:
            return Finding(what, False, problem)
        return Finding(what, True, f"{broker} is reachable; the kiosk is running, so its login was not "
                       "tried again (`systemctl status turnout-kiosk` says whether it is online)")
    return _login(settings, broker)


def _unreadable_ca(ca: str | None) -> str | None:
    """The daemon's own TLS set-up (turnout.mqtt.tls_context) fails on this broker_ca: say why."""
    try:
        tls_context(ca)
    except (OSError, ssl.SSLError, ValueError) as exc:
        shown = "the PEM text in broker_ca" if ca and ca.lstrip().startswith("-----BEGIN") else f"broker_ca = {ca!r}"
        return (f"{shown} is not a CA certificate the kiosk can read ({getattr(exc, 'strerror', None) or exc}): "
                "put in the hub's CA certificate, as `turnout-hub kiosk rotate` prints it (a file's path, "
                "or the PEM text itself)")
    return None


def _reach(broker, ca: str | None) -> str | None:
    try:
        with socket.create_connection((broker.host, broker.port), timeout=BROKER_TIMEOUT_SECONDS) as sock:
            if broker.tls:
                with tls_context(ca).wrap_socket(sock, server_hostname=broker.host):
                    pass
    except ssl.SSLCertVerificationError as exc:
        return (f"{broker} does not prove who it is ({exc.verify_message}): the kiosk needs the hub's "
                "CA certificate, or the address must match the broker's certificate")
    except (OSError, ssl.SSLError) as exc:
        return _unreachable(broker, exc)
    return None


def _unreachable(broker, exc: Exception) -> str:
    return (f"cannot reach {broker} ({exc}): check that the kiosk is on the venue's network, that "
            "the hub is running, and the broker address in /etc/turnout/kiosk.toml")


def _login(settings: Settings, broker) -> Finding:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    what = "broker"
    answered = threading.Event()
    result: list = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{settings.kiosk_id}-doctor", clean_session=True)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set_context(tls_context(settings.broker_ca))  # the daemon's code path: a path or the PEM text

    def on_connect(client, userdata, flags, reason_code, properties):
        result.append(reason_code)
        answered.set()

    client.on_connect = on_connect
    try:
        client.connect(broker.host, broker.port, keepalive=10)
    except ssl.SSLCertVerificationError as exc:
        return Finding(what, False, f"{broker} does not prove who it is ({exc.verify_message}): the kiosk "
                       "needs the hub's CA certificate, or the address must match the broker's certificate")
    except (OSError, ssl.SSLError) as exc:
        return Finding(what, False, _unreachable(broker, exc))
    client.loop_start()
    try:
        if not answered.wait(BROKER_TIMEOUT_SECONDS):
            return Finding(what, False, f"{broker} accepted the connection but never answered the login: "
                           "is that port an MQTT broker?")
        code = result[0]
        if code.is_failure:
            if code.value in (4, 5, 134, 135):  # bad user name or password / not authorised
                return Finding(what, False, f"{broker} refused the login ({code}): ask the hub's organiser for "
                               "this kiosk's settings (`turnout-hub kiosk rotate "
                               f"{settings.kiosk_id}`) and put them in /etc/turnout/kiosk.toml")
            return Finding(what, False, f"{broker} refused the connection ({code})")
        return Finding(what, True, f"logged in to {broker}" + (" over TLS" if broker.tls else ""))
    finally:
        client.disconnect()
        client.loop_stop()


def check_disk(settings: Settings) -> Finding:
    what = "disk"
    data_dir = Path(settings.data_dir)
    if not data_dir.is_dir():
        return Finding(what, False, f"{data_dir} does not exist: the kiosk makes it when it first runs "
                       "(systemd's StateDirectory); or fix data_dir in the settings")
    if not os.access(data_dir, os.W_OK):
        return Finding(what, False, f"cannot write to {data_dir}: run this as the turnout user "
                       "(`sudo -u turnout turnout-kiosk doctor`), or the card may be read-only")
    free = shutil.disk_usage(data_dir).free
    if free < DISK_LOW_BYTES:
        return Finding(what, False, f"only {free // 1_000_000} MB free on {data_dir}: the card is nearly full; "
                       "delete old files (old kiosk.db.corrupt-… copies once recovered) or use a larger card")
    return Finding(what, True, f"{free // 1_000_000_000} GB free on {data_dir}")


def check_outbox(settings: Settings, now: datetime | None = None) -> Finding:
    """How many scans wait to be synced, and whether they have waited too long."""
    import sqlite3

    from kiosk.store import ScanStore

    what = "outbox"
    path = settings.db_path
    if not path.exists():
        return Finding(what, True, f"no scans yet ({path} does not exist)")
    try:
        store = ScanStore(path)  # not ScanStore.open: looking never moves a damaged store aside
        try:
            waiting = store.queued_count()
            oldest = store.pending(1)
        finally:
            store.close()
    except sqlite3.Error as exc:
        return Finding(what, False, f"cannot read {path} ({exc}): the kiosk moves a damaged store aside when "
                       "it starts; then put its scans back with `turnout-kiosk recover`")
    if not waiting:
        return Finding(what, True, "every scan has been synced")
    since = datetime.fromisoformat(oldest[0].ts.replace("Z", "+00:00"))
    age = ((now or datetime.now(timezone.utc)) - since).total_seconds()
    said = f"{waiting} scan{'s' if waiting != 1 else ''} waiting to sync, the oldest from {oldest[0].ts}"
    if age > BACKLOG_STALE_SECONDS:
        return Finding(what, False, f"{said}: the kiosk has not synced for {age / 60:.0f} minutes. They are "
                       "safe on the card; check the broker above and that the hub is running")
    return Finding(what, True, said)


def kiosk_running(settings: Settings) -> bool:
    """Is a kiosk holding the data directory's lock (see kiosk.cli._lock_data_dir)?"""
    import fcntl
    try:
        fd = os.open(Path(settings.data_dir) / "kiosk.lock", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def examine(settings: Settings, places: Places = Places()) -> list[Finding]:
    running = kiosk_running(settings)
    checks = [("screen", lambda: check_screen(settings, places)), ("scanner", lambda: check_scanner(settings, places)),
              ("GPIO", lambda: check_gpio(settings)), ("clock", lambda: check_clock(places)),
              ("broker", lambda: check_broker(settings, running)), ("disk", lambda: check_disk(settings)),
              ("outbox", lambda: check_outbox(settings))]
    return [_plainly(what, check) for what, check in checks]


def _plainly(what: str, check: Callable[[], Finding]) -> Finding:
    """A check that trips over something unforeseen says so in a line, not a traceback."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001  (doctor's job is to report, whatever the setting)
        return Finding(what, False, f"could not be checked ({type(exc).__name__}: {exc}): check its settings "
                       "in /etc/turnout/kiosk.toml")


def report(findings: list[Finding], out) -> int:
    """Print one line per check, then what to fix; 0 when all is well, else 1."""
    width = max(len(f.what) for f in findings)
    for f in findings:
        print(f"{'ok ' if f.ok else 'FIX'}  {f.what:<{width}}  {f.detail}", file=out)
    problems = [f for f in findings if not f.ok]
    if problems:
        print(f"\n{len(problems)} thing{'s' if len(problems) != 1 else ''} to fix (above, marked FIX).", file=out)
        return 1
    print("\nAll well.", file=out)
    return 0
