"""The USB scanner's key decoder, fed evdev InputEvents as a real scanner sends them."""

import os
import threading
import time

import pytest

evdev = pytest.importorskip("evdev")
from evdev import InputEvent, ecodes  # noqa: E402

from kiosk.scanner import hid  # noqa: E402
from kiosk.scanner.hid import (  # noqa: E402
    UNKNOWN, US_LAYOUT, HidScanner, KeyDecoder, ScannerCandidate, find_scanner_devices)

DOWN, UP, REPEAT = 1, 0, 2
KEY_FOR = {}  # character -> (key code, needs shift)
for name, (plain, shifted) in US_LAYOUT.items():
    if not name.startswith("KEY_KP"):
        KEY_FOR.setdefault(plain, (ecodes.ecodes[name], False))
        KEY_FOR.setdefault(shifted, (ecodes.ecodes[name], True))


class Keyboard:
    """Builds the event stream of a scanner typing, 4 ms a key, with its own clock."""

    def __init__(self, start=1000.0, shift=ecodes.KEY_LEFTSHIFT):
        self.now = start
        self.shift = shift
        self.events = []

    def key(self, code, value):
        self.now += 0.002
        sec, usec = int(self.now), round((self.now % 1) * 1e6)
        self.events.append(InputEvent(sec, usec, ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code))
        self.events.append(InputEvent(sec, usec, ecodes.EV_KEY, code, value))
        self.events.append(InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0))
        return self

    def tap(self, code):
        return self.key(code, DOWN).key(code, UP)

    def type(self, text):
        for char in text:
            code, shifted = KEY_FOR[char]
            if shifted:
                self.key(self.shift, DOWN)
            self.tap(code)
            if shifted:
                self.key(self.shift, UP)
        return self

    def enter(self, code=ecodes.KEY_ENTER):
        return self.tap(code)

    def pause(self, seconds):
        self.now += seconds
        return self


def decode(events, decoder=None):
    decoder = decoder or KeyDecoder()
    return [code for code in map(decoder.feed, events) if code is not None]


def test_a_badge_ended_by_enter():
    assert decode(Keyboard().type("T5724").enter().events) == ["T5724"]


def test_keypad_enter_ends_a_code_too():
    assert decode(Keyboard().type("T10019").enter(ecodes.KEY_KPENTER).events) == ["T10019"]


@pytest.mark.parametrize("shift", [ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT])
def test_cards_with_punctuation_through_either_shift_key(shift):
    text = "TURNOUT:ROLE:cake"
    assert decode(Keyboard(shift=shift).type(text).enter().events) == [text]


def test_every_character_our_codes_use_on_a_us_layout():
    text = "https://t.example/a_b-c.d;e,f\\g|h?i=1&j+2%3#4@5!*()[]{}'\"`~<>$^"
    assert decode(Keyboard().type(text).enter().events) == [text]


def test_releasing_one_shift_while_the_other_is_held_stays_shifted():
    k = Keyboard()
    k.key(ecodes.KEY_LEFTSHIFT, DOWN).key(ecodes.KEY_RIGHTSHIFT, DOWN).tap(ecodes.KEY_A)
    k.key(ecodes.KEY_LEFTSHIFT, UP).tap(ecodes.KEY_B)
    k.key(ecodes.KEY_RIGHTSHIFT, UP).tap(ecodes.KEY_C).enter()
    assert decode(k.events) == ["ABc"]


def test_autorepeat_adds_no_characters():
    k = Keyboard().key(ecodes.KEY_T, DOWN).key(ecodes.KEY_T, REPEAT).key(ecodes.KEY_T, REPEAT)
    k.key(ecodes.KEY_T, UP).type("1").key(ecodes.KEY_ENTER, DOWN).key(ecodes.KEY_ENTER, REPEAT)
    assert decode(k.events) == ["t1"]


def test_key_up_and_other_event_types_are_ignored():
    k = Keyboard()
    k.key(ecodes.KEY_A, UP)  # a release with no press (device opened mid-keystroke)
    k.events.append(InputEvent(int(k.now), 0, ecodes.EV_REL, ecodes.REL_X, 5))
    k.type("x").enter()
    assert decode(k.events) == ["x"]


def test_enter_alone_yields_nothing():
    assert decode(Keyboard().enter().enter().events) == []


def test_two_codes_back_to_back():
    assert decode(Keyboard().type("T5724").enter().type("T10019").enter().events) == ["T5724", "T10019"]


def test_an_unmapped_key_spoils_the_code_visibly():
    k = Keyboard().type("T57").tap(ecodes.KEY_F1).type("24").enter()
    assert decode(k.events) == [f"T57{UNKNOWN}24"]


def test_modifiers_other_than_shift_are_ignored():
    k = Keyboard().key(ecodes.KEY_LEFTCTRL, DOWN).type("T1").key(ecodes.KEY_LEFTCTRL, UP).enter()
    assert decode(k.events) == ["T1"]


def test_keypad_digits():
    k = Keyboard()
    for name in ("KEY_KP5", "KEY_KP7", "KEY_KPMINUS", "KEY_KPDOT"):
        k.tap(ecodes.ecodes[name])
    assert decode(k.enter().events) == ["57-."]


def test_a_scanner_without_enter_is_flushed_after_a_pause():
    decoder = KeyDecoder(idle_timeout=0.25)
    k = Keyboard().type("T5724")
    assert decode(k.events, decoder) == []
    assert decoder.pending == "T5724"
    assert decoder.flush_if_idle(k.now + 0.1) is None  # still within the code
    assert decoder.flush_if_idle(k.now + 0.3) == "T5724"
    assert decoder.flush_if_idle(k.now + 5) is None  # once only
    assert decoder.pending == ""


def test_a_pause_between_keys_separates_codes_even_without_a_flush():
    k = Keyboard().type("T5724").pause(1.0).type("T10019").pause(1.0)
    decoder = KeyDecoder(idle_timeout=0.25)
    assert decode(k.events, decoder) == ["T5724"]
    assert decoder.flush_if_idle(k.now) == "T10019"


def test_a_pause_then_enter_gives_the_code_once():
    decoder = KeyDecoder(idle_timeout=0.25)
    assert decode(Keyboard().type("T5724").pause(1.0).enter().events, decoder) == ["T5724"]
    assert decoder.flush_if_idle(10_000) is None


def test_a_clock_set_back_does_not_hold_a_code_forever():
    decoder = KeyDecoder(idle_timeout=0.25)
    k = Keyboard(start=1_700_000_000).type("T5724")
    decode(k.events, decoder)
    assert decoder.flush_if_idle(k.now - 3600) == "T5724"  # NTP corrected the clock by an hour


def test_a_runaway_code_stops_growing():
    decoder = KeyDecoder()
    decode(Keyboard().type("1" * 2000).events, decoder)
    assert 64 < len(decoder.pending) <= 512


@pytest.mark.skipif(not os.path.exists("/dev/uinput"), reason="needs /dev/uinput to make a virtual keyboard")
def test_hid_scanner_reads_a_virtual_keyboard():
    keys = [ecodes.KEY_ENTER, ecodes.KEY_LEFTSHIFT, *(ecodes.ecodes[f"KEY_{c}"] for c in "T0123456789")]
    codes, got = [], threading.Event()

    def on_code(code):
        codes.append(code)
        got.set()

    with evdev.UInput({ecodes.EV_KEY: keys}, name="turnout-test-scanner") as keyboard:
        scanner = HidScanner(keyboard.device.path, on_code)
        try:
            for event in Keyboard().type("T5724").enter().events:
                if event.type == ecodes.EV_KEY:
                    keyboard.write(ecodes.EV_KEY, event.code, event.value)
                    keyboard.syn()
            assert got.wait(10)
        finally:
            scanner.close()
    assert codes == ["T5724"]


class PipeDevice:
    """Stands in for evdev.InputDevice where /dev/uinput is missing: a pipe to select() on,
    and the events a test queues. Everything else in HidScanner runs for real."""

    opened = []

    def __init__(self, path):
        self.path, self.name = path, "Fake Scanner"
        self.fd_read, self.fd_write = os.pipe()
        self.fd = self.fd_read
        self.queued, self.grabbed, self.closed, self.unplugged = [], False, False, False
        PipeDevice.opened.append(self)

    def grab(self):
        self.grabbed = True

    def ungrab(self):
        self.grabbed = False

    def send(self, events):
        self.queued.extend(events)
        os.write(self.fd_write, b"x")

    def unplug(self):
        self.unplugged = True
        os.write(self.fd_write, b"x")

    def read(self):
        os.read(self.fd_read, 1024)
        if self.unplugged:
            raise OSError(19, "No such device")
        events, self.queued = self.queued, []
        return events

    def close(self):
        self.closed = True
        os.close(self.fd_read)
        os.close(self.fd_write)


@pytest.fixture
def pipe_device(monkeypatch):
    PipeDevice.opened = []
    monkeypatch.setattr(evdev, "InputDevice", PipeDevice)
    monkeypatch.setattr(HidScanner, "REOPEN_EVERY", 0.01)
    return PipeDevice


def collector():
    codes, arrived = [], threading.Semaphore(0)

    def on_code(code):
        codes.append(code)
        arrived.release()

    return codes, arrived, on_code


def test_hid_scanner_grabs_reads_and_releases(pipe_device):
    codes, arrived, on_code = collector()
    scanner = HidScanner("/dev/input/by-id/usb-scanner-event-kbd", on_code)
    device = pipe_device.opened[0]
    assert device.grabbed
    device.send(Keyboard(start=time.time()).type("T5724").enter().events)
    assert arrived.acquire(timeout=10)
    device.send(Keyboard(start=time.time()).type("T10019").events)  # no Enter: the pause ends it
    assert arrived.acquire(timeout=10)
    scanner.close()
    assert codes == ["T5724", "T10019"]
    assert device.closed and not device.grabbed


def test_hid_scanner_waits_for_an_unplugged_scanner_to_return(pipe_device):
    codes, arrived, on_code = collector()
    scanner = HidScanner("/dev/input/by-id/usb-scanner-event-kbd", on_code)
    pipe_device.opened[0].unplug()
    deadline = time.monotonic() + 10
    while len(pipe_device.opened) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pipe_device.opened[0].closed and len(pipe_device.opened) == 2
    pipe_device.opened[1].send(Keyboard(start=time.time()).type("T5724").enter().events)
    assert arrived.acquire(timeout=10)
    scanner.close()
    assert codes == ["T5724"]


def test_a_failing_handler_does_not_stop_the_scanner(pipe_device):
    codes, arrived, on_code = collector()

    def flaky(code):
        if code == "bad":
            raise RuntimeError("handler bug")
        on_code(code)

    scanner = HidScanner("/dev/input/event3", flaky)
    device = pipe_device.opened[0]
    device.send(Keyboard(start=time.time()).type("bad").enter().type("T5724").enter().events)
    assert arrived.acquire(timeout=10)
    scanner.close()
    assert codes == ["T5724"]


class ListedDevice:
    """evdev.InputDevice for find_scanner_devices: a name, a bus and keys per path."""

    DEVICES = {}  # path -> (name, bus, keys)

    def __init__(self, path):
        if path not in self.DEVICES:
            raise PermissionError(13, "Permission denied")
        self.path = path
        self.name, bus, self.keys = self.DEVICES[path]
        self.info = evdev.DeviceInfo(bus, 1, 1, 1)

    def capabilities(self):
        return {ecodes.EV_KEY: self.keys, ecodes.EV_MSC: [ecodes.MSC_SCAN]}

    def close(self):
        pass


@pytest.fixture
def input_devices(monkeypatch):
    """/dev/input as the kiosk's unit sees it: evdev.list_devices() wants to write as well as
    read, and the unit lets it only read (DeviceAllow=char-input r), so it lists nothing."""
    ListedDevice.DEVICES = {}
    monkeypatch.setattr(evdev, "list_devices", lambda *a: [])
    monkeypatch.setattr(evdev, "InputDevice", ListedDevice)
    monkeypatch.setattr(hid, "glob", lambda pattern: [] if "by-id" in pattern else list(ListedDevice.DEVICES))
    return ListedDevice.DEVICES


TYPING_KEYS = [ecodes.KEY_ENTER, *(ecodes.ecodes[f"KEY_{d}"] for d in "0123456789")]


def test_find_scanner_devices_lists_what_can_type_digits_and_enter_though_it_may_only_read(input_devices):
    input_devices["/dev/input/event0"] = ("Power Button", ecodes.BUS_HOST, [ecodes.KEY_POWER])
    input_devices["/dev/input/event1"] = ("BARCODE SCANNER", ecodes.BUS_USB, TYPING_KEYS)
    assert find_scanner_devices() == [ScannerCandidate("/dev/input/event1", "BARCODE SCANNER", None, usb=True,
                                                       ids=(1, 1))]


def test_a_scanner_is_picked_before_a_built_in_or_usb_keyboard(input_devices):
    input_devices["/dev/input/event0"] = ("AT Translated Set 2 keyboard", ecodes.BUS_I8042, TYPING_KEYS)
    input_devices["/dev/input/event2"] = ("Logitech USB Keyboard", ecodes.BUS_USB, TYPING_KEYS)
    input_devices["/dev/input/event10"] = ("Symbol Technologies, Inc, 2008 Symbol Bar Code Scanner",
                                           ecodes.BUS_USB, TYPING_KEYS)
    assert [c.path for c in find_scanner_devices()] == ["/dev/input/event10", "/dev/input/event2",
                                                        "/dev/input/event0"]
    del input_devices["/dev/input/event10"]  # a scanner that gives a plain name: USB before built-in
    assert [c.path for c in find_scanner_devices()] == ["/dev/input/event2", "/dev/input/event0"]


def test_a_code_cut_off_by_unplugging_is_dropped_not_sent(pipe_device):
    codes, arrived, on_code = collector()
    scanner = HidScanner("/dev/input/event3", on_code)
    # stamped a moment ago, as the kernel stamps keys (a stamp ahead of the clock ends a code at once)
    pipe_device.opened[0].send(Keyboard(start=time.time() - 0.05).type("T57").events)
    deadline = time.monotonic() + 10
    while scanner.decoder.pending != "T57" and time.monotonic() < deadline:
        time.sleep(0.001)
    pipe_device.opened[0].unplug()
    while len(pipe_device.opened) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(hid.IDLE_TIMEOUT + 0.2)  # a kept "T57" would have been sent by now
    pipe_device.opened[1].send(Keyboard(start=time.time()).type("T5724").enter().events)
    assert arrived.acquire(timeout=10)
    scanner.close()
    assert codes == ["T5724"]


def test_a_scanner_plugged_back_under_another_number_is_followed_and_its_old_number_left_alone(
        input_devices, monkeypatch):
    """The kernel gives a re-plugged scanner the lowest free eventN: a keyboard plugged in
    meanwhile can take its old one."""
    class Device(ListedDevice, PipeDevice):
        def __init__(self, path):
            ListedDevice.__init__(self, path)
            PipeDevice.__init__(self, path)
            self.name = ListedDevice.DEVICES[path][0]

    PipeDevice.opened = []
    monkeypatch.setattr(evdev, "InputDevice", Device)
    monkeypatch.setattr(HidScanner, "REOPEN_EVERY", 0.01)
    scanner_name = "Symbol Technologies, Inc, 2008 Symbol Bar Code Scanner"
    input_devices["/dev/input/event4"] = (scanner_name, ecodes.BUS_USB, TYPING_KEYS)
    codes, arrived, on_code = collector()
    scanner = HidScanner("/dev/input/event4", on_code)
    try:
        input_devices["/dev/input/event4"] = ("Logitech USB Keyboard", ecodes.BUS_USB, TYPING_KEYS)
        input_devices["/dev/input/event5"] = (scanner_name, ecodes.BUS_USB, TYPING_KEYS)
        PipeDevice.opened[0].unplug()
        deadline = time.monotonic() + 10
        while scanner.device_path != "/dev/input/event5" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert scanner.device_path == "/dev/input/event5"
        back = [d for d in PipeDevice.opened if d.path == "/dev/input/event5" and not d.closed][-1]
        assert back.grabbed
        assert not any(d.grabbed for d in PipeDevice.opened if d.name == "Logitech USB Keyboard")
        back.send(Keyboard(start=time.time() - 0.05).type("T5724").enter().events)
        assert arrived.acquire(timeout=10)
    finally:
        scanner.close()
    assert codes == ["T5724"]


UK_KEYS = {"@": ("KEY_APOSTROPHE", True), '"': ("KEY_2", True), "#": ("KEY_BACKSLASH", False),
           "~": ("KEY_BACKSLASH", True), "\\": ("KEY_102ND", False), "|": ("KEY_102ND", True),
           "\u00a3": ("KEY_3", True)}


def test_a_scanner_set_to_uk_layout():
    keyboard = Keyboard()
    for char, (name, shifted) in UK_KEYS.items():
        code = ecodes.ecodes[name]
        if shifted:
            keyboard.key(keyboard.shift, DOWN).tap(code).key(keyboard.shift, UP)
        else:
            keyboard.tap(code)
    keyboard.type("T5724:ab").enter()
    uk = decode(keyboard.events, KeyDecoder(layout="uk"))
    us = decode(keyboard.events)
    assert uk == ['@"#~\\|\u00a3T5724:ab']
    assert us == ['"@\\|\ufffd\ufffd#T5724:ab']  # the same keys read as US: a misread, not a badge
