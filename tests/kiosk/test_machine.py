"""The kiosk state machine, driven directly: events in, actions out."""

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from kiosk import screens
from kiosk.buzzer.tunes import Tone
from kiosk.config import Settings
from kiosk.machine import (AckReceived, ButtonPressed, CodeRead, ConfigReceived, KioskMachine,
                           Light, LinkChanged, Now, Play, SaveConfig, Send, Show, Store, StoreFailed,
                           Tick)
from turnout.codes import badge_code
from turnout.protocol import Ack, AckStatus, KioskConfig, NextMilestone, PersonSummary

START = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.t = 100.0

    def now(self, clock_ok=True):
        return Now(self.t, START + timedelta(seconds=self.t), clock_ok)

    def advance(self, seconds):
        self.t += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def machine():
    ids = (f"00000000-0000-4000-8000-{n:012d}" for n in itertools.count(1))
    settings = Settings()
    return KioskMachine(kiosk_id="hall-1", event="barcamp", event_name="Barcamp", roles=settings.roles,
                        labels=settings.label, online=True, new_id=lambda: next(ids))


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def stored(actions):
    return [a.scan for a in of(actions, Store)]


def test_badge_with_no_role_armed_is_attendance_stored_before_the_ok_tone(machine, clock):
    actions = machine.handle(CodeRead("T5724"), clock.now())
    [scan] = stored(actions)
    assert (scan.badge, scan.role, scan.event, scan.kiosk, scan.seq) == ("T5724", "attend", "barcamp", "hall-1", 1)
    assert scan.ts == "2026-11-23T10:01:40.000Z" and scan.clock_ok
    kinds = [type(a) for a in actions]
    assert kinds.index(Store) < kinds.index(Play)
    assert of(actions, Play) == [Play(Tone.OK)]
    assert of(actions, Show) == [Show(screens.CheckedIn(None, will_sync=False))]
    assert of(actions, Send) == [Send(scan.id)]


def test_offline_scan_says_it_will_sync(machine, clock):
    machine.handle(LinkChanged(False), clock.now())
    actions = machine.handle(CodeRead("T5724"), clock.now())
    assert of(actions, Show) == [Show(screens.CheckedIn(None, will_sync=True))]


def test_clock_not_synchronised_is_carried_in_the_scan(machine, clock):
    [scan] = stored(machine.handle(CodeRead("T5724"), clock.now(clock_ok=False)))
    assert scan.clock_ok is False


def test_button_arms_role_for_next_badge_then_disarms(machine, clock):
    actions = machine.handle(ButtonPressed("cake"), clock.now())
    assert Light("cake") in actions
    assert Show(screens.Armed("Cake", 15)) in actions
    clock.advance(5)
    actions = machine.handle(CodeRead("T5724"), clock.now())
    assert stored(actions)[0].role == "cake"
    assert Light(None) in actions
    [scan] = stored(machine.handle(CodeRead(badge_code(1001)), clock.now()))
    assert scan.role == "attend"


def test_role_card_arms_exactly_like_the_button(machine, clock):
    actions = machine.handle(CodeRead("TURNOUT:ROLE:tidy"), clock.now())
    assert Light("tidy") in actions and Show(screens.Armed("Tidy", 15)) in actions
    assert stored(machine.handle(CodeRead("T5724"), clock.now()))[0].role == "tidy"


def test_the_attend_card_says_just_scan_your_badge(machine, clock):
    actions = machine.handle(CodeRead("TURNOUT:ROLE:attend"), clock.now())
    assert actions == [Play(Tone.ARMED), Show(screens.Notice("Attend", "Just scan your badge"))]
    assert stored(machine.handle(CodeRead("T13"), clock.now()))[0].role == "attend"


def test_the_attend_card_cancels_an_armed_role(machine, clock):
    machine.handle(ButtonPressed("cake"), clock.now())
    actions = machine.handle(CodeRead("TURNOUT:ROLE:attend"), clock.now())
    assert actions == [Light(None), Play(Tone.ARMED), Show(screens.Notice("Attend", "Cake cancelled"))]
    assert machine.armed is None
    assert machine.handle(Tick(), clock.now()) == [], "the notice stays a moment"
    clock.advance(4.1)
    assert isinstance(of(machine.handle(Tick(), clock.now()), Show)[0].screen, screens.Idle)
    assert stored(machine.handle(CodeRead("T13"), clock.now()))[0].role == "attend"


def test_second_press_of_the_same_button_cancels(machine, clock):
    machine.handle(ButtonPressed("cake"), clock.now())
    actions = machine.handle(ButtonPressed("cake"), clock.now())
    assert Light(None) in actions
    assert isinstance(of(actions, Show)[0].screen, screens.Idle)
    assert stored(machine.handle(CodeRead("T5724"), clock.now()))[0].role == "attend"


def test_other_button_switches_the_armed_role(machine, clock):
    machine.handle(ButtonPressed("cake"), clock.now())
    machine.handle(ButtonPressed("pitch"), clock.now())
    assert stored(machine.handle(CodeRead("T5724"), clock.now()))[0].role == "pitch"


def test_armed_role_times_out_after_15_seconds(machine, clock):
    machine.handle(ButtonPressed("cake"), clock.now())
    clock.advance(10)
    assert Show(screens.Armed("Cake", 5)) in machine.handle(Tick(), clock.now())
    clock.advance(5.1)
    actions = machine.handle(Tick(), clock.now())
    assert Light(None) in actions and isinstance(of(actions, Show)[0].screen, screens.Idle)
    assert stored(machine.handle(CodeRead("T5724"), clock.now()))[0].role == "attend"


def test_same_code_within_3_seconds_is_one_scan(machine, clock):
    assert stored(machine.handle(CodeRead("T5724"), clock.now()))
    clock.advance(2.9)
    assert machine.handle(CodeRead("T5724"), clock.now()) == []


def test_a_role_button_between_two_reads_makes_them_two_scans(machine, clock):
    """A volunteer scans in, presses cake and scans again at once: that is a cake scan."""
    assert stored(machine.handle(CodeRead("T13"), clock.now()))[0].role == "attend"
    clock.advance(1)
    machine.handle(ButtonPressed("cake"), clock.now())
    clock.advance(1)
    [scan] = stored(machine.handle(CodeRead("T13"), clock.now()))
    assert scan.role == "cake"


def test_a_role_card_between_two_reads_makes_them_two_scans(machine, clock):
    machine.handle(CodeRead("T13"), clock.now())
    clock.advance(1)
    machine.handle(CodeRead("TURNOUT:ROLE:cake"), clock.now())
    clock.advance(1)
    assert stored(machine.handle(CodeRead("T13"), clock.now()))[0].role == "cake"


def test_a_role_card_read_twice_arms_once(machine, clock):
    machine.handle(CodeRead("TURNOUT:ROLE:cake"), clock.now())
    clock.advance(0.2)
    assert machine.handle(CodeRead("TURNOUT:ROLE:cake"), clock.now()) == []  # not a cancel
    assert machine.armed is not None and machine.armed.role == "cake"


def test_repeat_later_is_still_sent_but_shown_as_already_checked_in(machine, clock):
    machine.handle(CodeRead("T5724"), clock.now())
    clock.advance(30)
    actions = machine.handle(CodeRead("T5724"), clock.now())
    assert stored(actions), "the hub decides: repeats are still sent"
    assert Play(Tone.REPEAT) in actions
    assert Show(screens.AlreadyCheckedIn(None, None)) in actions


def test_same_badge_other_role_is_not_a_repeat(machine, clock):
    machine.handle(CodeRead("T5724"), clock.now())
    clock.advance(4)
    machine.handle(ButtonPressed("cake"), clock.now())
    assert Play(Tone.OK) in machine.handle(CodeRead("T5724"), clock.now())


def test_sequence_numbers_continue_from_the_store(machine, clock):
    machine.next_seq = 41
    [scan] = stored(machine.handle(CodeRead("T5724"), clock.now()))
    assert scan.seq == 41 and machine.next_seq == 42


def test_misread_badge_is_an_error_and_nothing_is_stored(machine, clock):
    actions = machine.handle(CodeRead("T5742"), clock.now())
    assert stored(actions) == []
    assert Play(Tone.ERROR) in actions and Show(screens.Problem("Try again", "badge misread")) in actions


@pytest.mark.parametrize("text, detail", [
    ("5012345678900", "some other barcode"), ("https://example.org", "some other barcode"),
    ("x" * 100, "too long"), ("T57\x0024", "control characters"), ("TURNOUT:BADGE:T13", "unknown Turnout card"),
])
def test_foreign_codes_are_errors_that_say_why_in_short(machine, clock, text, detail):
    actions = machine.handle(CodeRead(text), clock.now())
    assert stored(actions) == [] and Play(Tone.ERROR) in actions
    assert of(actions, Show) == [Show(screens.Problem("Not a Turnout badge", detail))]


@pytest.mark.parametrize("text, title", [("T5742", "Try again"), ("5012345678900", "Not a Turnout badge"),
                                         ("TURNOUT:UNDO", "Nothing to undo")])
def test_a_problem_while_a_role_is_armed_shows_and_the_role_stays_armed(machine, clock, text, title):
    machine.handle(ButtonPressed("cake"), clock.now())
    clock.advance(12)
    actions = machine.handle(CodeRead(text), clock.now())
    assert Play(Tone.ERROR) in actions and of(actions, Show)[0].screen.title == title
    assert not of(actions, Light), "the cake LED stays lit"
    clock.advance(3.9)  # past the first 15 s, still within the problem screen's 4
    assert machine.handle(Tick(), clock.now()) == [], "the problem stays on screen, the role armed"
    clock.advance(0.2)
    [show] = machine.handle(Tick(), clock.now())
    assert show.screen == screens.Armed("Cake", 11), "the countdown is back, with a fresh 15 s"
    assert stored(machine.handle(CodeRead("T13"), clock.now()))[0].role == "cake"


def test_an_undo_notice_while_armed_stays_and_an_expiring_role_puts_its_light_out(machine, clock):
    machine.handle(CodeRead("T13"), clock.now())
    clock.advance(4)
    machine.handle(ButtonPressed("cake"), clock.now())
    clock.advance(13)
    actions = machine.handle(CodeRead("TURNOUT:UNDO"), clock.now())
    assert of(actions, Show)[0].screen.title == "Undone"
    clock.advance(2.5)  # the role runs out while "Undone" shows
    assert machine.handle(Tick(), clock.now()) == [Light(None)]
    clock.advance(2)
    assert isinstance(of(machine.handle(Tick(), clock.now()), Show)[0].screen, screens.Idle)


def test_pressing_a_role_button_means_the_last_welcome_is_not_wanted(machine, clock):
    [scan] = stored(machine.handle(CodeRead("T13"), clock.now()))
    clock.advance(0.3)
    machine.handle(ButtonPressed("cake"), clock.now())
    clock.advance(0.3)
    assert machine.handle(AckReceived(_ack(scan.id)), clock.now()) == [], "the countdown stays"


def test_unknown_role_card_is_an_error(machine, clock):
    actions = machine.handle(CodeRead("TURNOUT:ROLE:juggling"), clock.now())
    assert Play(Tone.ERROR) in actions and machine.armed is None


def test_undo_annuls_the_last_scan_within_60_seconds(machine, clock):
    [scan] = stored(machine.handle(CodeRead("T5724"), clock.now()))
    clock.advance(59)
    actions = machine.handle(CodeRead("TURNOUT:UNDO"), clock.now())
    [annulment] = stored(actions)
    assert annulment.annuls == scan.id and annulment.badge == "T5724" and annulment.role == "attend"
    assert annulment.id != scan.id and annulment.seq == scan.seq + 1
    assert of(actions, Send) == [Send(annulment.id)]
    # the badge scanned again counts as new, not "already checked in"
    clock.advance(4)
    assert Play(Tone.OK) in machine.handle(CodeRead("T5724"), clock.now())


def test_undo_after_60_seconds_or_twice_does_nothing(machine, clock):
    machine.handle(CodeRead("T5724"), clock.now())
    clock.advance(61)
    actions = machine.handle(CodeRead("TURNOUT:UNDO"), clock.now())
    assert stored(actions) == [] and Play(Tone.ERROR) in actions
    machine.handle(CodeRead(badge_code(99)), clock.now())
    clock.advance(4)
    assert stored(machine.handle(CodeRead("TURNOUT:UNDO"), clock.now()))
    clock.advance(4)
    assert stored(machine.handle(CodeRead("TURNOUT:UNDO"), clock.now())) == []


def test_a_scan_the_store_could_not_keep_is_taken_back(machine, clock):
    [kept] = stored(machine.handle(CodeRead("T13"), clock.now()))
    clock.advance(5)
    [lost] = stored(machine.handle(CodeRead("T21"), clock.now()))
    actions = machine.handle(StoreFailed(lost), clock.now())
    assert actions == [Play(Tone.ERROR), Show(screens.Problem("Storage error", "tell an organiser"))]
    assert (machine.next_seq, machine.queued) == (kept.seq + 1, 1)
    assert (machine.event, "T21", "attend") not in machine.seen
    assert machine.awaiting is None, "the hub can never answer a scan it will not get"
    # Undo annuls the scan that was stored, not the lost one.
    [annulment] = stored(machine.handle(CodeRead("TURNOUT:UNDO"), clock.now()))
    assert annulment.annuls == kept.id and annulment.seq == kept.seq + 1


def test_the_same_badge_straight_after_a_store_failure_is_the_retry(machine, clock):
    [lost] = stored(machine.handle(CodeRead("T13"), clock.now()))
    machine.handle(StoreFailed(lost), clock.now())
    clock.advance(0.5)
    actions = machine.handle(CodeRead("T13"), clock.now())
    [again] = stored(actions)
    assert again.seq == lost.seq and again.id != lost.id
    assert Play(Tone.OK) in actions, "a first scan, not 'already checked in'"


def test_an_armed_role_stays_armed_when_the_store_fails(machine, clock):
    machine.handle(ButtonPressed("cake"), clock.now())
    [lost] = stored(machine.handle(CodeRead("T13"), clock.now()))
    actions = machine.handle(StoreFailed(lost), clock.now())
    assert Light("cake") in actions and Play(Tone.ERROR) in actions
    assert of(actions, Show)[0].screen == screens.Problem("Storage error", "tell an organiser")
    [again] = stored(machine.handle(CodeRead("T13"), clock.now()))
    assert again.role == "cake"


def test_a_failed_undo_leaves_the_scan_standing_and_undoable(machine, clock):
    [scan] = stored(machine.handle(CodeRead("T13"), clock.now()))
    clock.advance(4)
    [lost] = stored(machine.handle(CodeRead("TURNOUT:UNDO"), clock.now()))
    machine.handle(StoreFailed(lost), clock.now())
    assert (machine.event, "T13", "attend") in machine.seen and machine.queued == 1
    [annulment] = stored(machine.handle(CodeRead("TURNOUT:UNDO"), clock.now()))
    assert annulment.annuls == scan.id and annulment.seq == lost.seq


def test_a_repeat_the_store_could_not_keep_still_counts_as_seen(machine, clock):
    machine.handle(CodeRead("T13"), clock.now())
    clock.advance(30)
    [lost] = stored(machine.handle(CodeRead("T13"), clock.now()))
    machine.handle(StoreFailed(lost), clock.now())
    assert (machine.event, "T13", "attend") in machine.seen


def _ack(scan_id, status=AckStatus.ACCEPTED, milestone=None):
    person = PersonSummary("Ada L.", 26, 22, NextMilestone("25 club", "attend", 25, 3))
    return Ack(scan_id, status, None, person, milestone)


def test_ack_within_a_second_shows_name_and_progress(machine, clock):
    [scan] = stored(machine.handle(CodeRead("T5724"), clock.now()))
    clock.advance(0.4)
    actions = machine.handle(AckReceived(_ack(scan.id)), clock.now())
    assert actions == [Show(screens.Welcome("Ada L.", 26, 22, "3 more to your 25", None, None))]


def test_ack_with_a_milestone_plays_the_fanfare(machine, clock):
    [scan] = stored(machine.handle(CodeRead("T5724"), clock.now()))
    actions = machine.handle(AckReceived(_ack(scan.id, milestone="25 club")), clock.now())
    assert Play(Tone.MILESTONE) in actions
    assert of(actions, Show)[0].screen.milestone == "25 club"


def test_late_ack_is_not_shown(machine, clock):
    [scan] = stored(machine.handle(CodeRead("T5724"), clock.now()))
    clock.advance(1.2)
    assert machine.handle(AckReceived(_ack(scan.id)), clock.now()) == []


def test_duplicate_and_rejected_acks(machine, clock):
    [scan] = stored(machine.handle(CodeRead("T5724"), clock.now()))
    actions = machine.handle(AckReceived(_ack(scan.id, AckStatus.DUPLICATE)), clock.now())
    assert of(actions, Show)[0].screen == screens.AlreadyCheckedIn("Ada L.", None)
    clock.advance(4)
    [scan] = stored(machine.handle(CodeRead(badge_code(12)), clock.now()))
    rejected = Ack(scan.id, AckStatus.REJECTED, "unknown event", None, None)
    actions = machine.handle(AckReceived(rejected), clock.now())
    assert Play(Tone.ERROR) in actions and of(actions, Show)[0].screen.detail == "unknown event"


def test_result_screen_returns_to_idle(machine, clock):
    machine.handle(CodeRead("T5724"), clock.now())
    assert machine.handle(Tick(), clock.now()) == []
    clock.advance(4.1)
    [show] = machine.handle(Tick(), clock.now())
    local_time = clock.now().wall.astimezone().strftime("%H:%M")  # the kiosk's own time zone
    assert show.screen == screens.Idle("Barcamp", local_time, True, 1)


def test_idle_shows_queue_and_link_state(machine, clock):
    machine.handle(LinkChanged(False), clock.now())
    [show] = machine.handle(Tick(), clock.now())
    assert show.screen.online is False and show.screen.queued == 0
    [show] = machine.handle(Tick(), clock.now(clock_ok=False))
    assert show.screen.clock == "--:--"


def test_config_from_hub_sets_event_and_roles(machine, clock):
    cfg = KioskConfig("autumn-camp", "Autumn Camp", ("attend", "pitch", "juggle"))
    actions = machine.handle(ConfigReceived(cfg), clock.now())
    assert SaveConfig(cfg) in actions
    [scan] = stored(machine.handle(CodeRead("T5724"), clock.now()))
    assert scan.event == "autumn-camp"
    clock.advance(4)
    assert Light("juggle") in machine.handle(ButtonPressed("juggle"), clock.now())
    assert machine.handle(ButtonPressed("cake"), clock.now()) == []


def test_roles_from_the_hub_that_are_not_role_names_are_ignored(machine, clock):
    cfg = KioskConfig("autumn-camp", "Autumn Camp", ("attend", "cake", "Juggling!", "", "tidy up",
                                                     "x" * 40, "pitch\n", "crafts"))
    actions = machine.handle(ConfigReceived(cfg), clock.now())
    assert machine.roles == ("attend", "cake", "crafts")
    [save] = of(actions, SaveConfig)
    assert save.config == KioskConfig("autumn-camp", "Autumn Camp", ("attend", "cake", "crafts"))
    assert machine.handle(ButtonPressed("Juggling!"), clock.now()) == []
    assert machine.handle(ButtonPressed("tidy up"), clock.now()) == []


def test_a_config_that_drops_the_armed_role_puts_its_light_out(machine, clock):
    machine.handle(ButtonPressed("cake"), clock.now())
    actions = machine.handle(ConfigReceived(KioskConfig("barcamp", "Barcamp", ("attend", "pitch"))), clock.now())
    assert machine.armed is None and Light(None) in actions
    assert isinstance(of(actions, Show)[-1].screen, screens.Idle)


# --- set-up mode (step 4) ----------------------------------------------------------------

from kiosk.machine import JoinWifi, SaveSetup, SetupChord, WifiJoined  # noqa: E402
from kiosk.setup_mode import SETUP_MODE_SECONDS, SetupMode  # noqa: E402
from kiosk.wifi import WifiResult  # noqa: E402


def test_a_configured_kiosk_refuses_set_up_and_wifi_cards(machine, clock):
    for card in ("TURNOUT:SETUP:other-event", "WIFI:T:WPA;S:evil;P:x;;"):
        actions = machine.handle(CodeRead(card), clock.now())
        assert Play(Tone.ERROR) in actions and not of(actions, SaveSetup) and not of(actions, JoinWifi)
        assert of(actions, Show)[0].screen.detail == "Set-up cards need set-up mode"
        clock.advance(4)
    assert machine.event == "barcamp"


def test_chord_enters_set_up_mode_and_a_setup_card_sets_the_event(machine, clock):
    machine.handle(ButtonPressed("pitch"), clock.now())
    actions = machine.handle(SetupChord(), clock.now())
    assert Light(None) in actions and machine.armed is None
    assert of(actions, Show)[0].screen.title == "Set-up mode"
    actions = machine.handle(CodeRead("TURNOUT:SETUP:autumn-camp@hub.local:1883"), clock.now())
    assert SaveSetup("autumn-camp", "hub.local:1883") in actions and Play(Tone.OK) in actions
    clock.advance(4)
    assert stored(machine.handle(CodeRead("T5724"), clock.now()))[0].event == "autumn-camp"


def test_idle_in_set_up_mode_says_so_and_keeps_the_event_name(machine, clock):
    machine.handle(SetupChord(), clock.now())
    clock.advance(4.1)
    [show] = machine.handle(Tick(), clock.now())
    assert (show.screen.event_name, show.screen.setup) == ("Barcamp", True)
    clock.advance(4)
    machine.handle(CodeRead("TURNOUT:SETUP:autumn-camp"), clock.now())
    clock.advance(4.1)
    [show] = machine.handle(Tick(), clock.now())
    assert (show.screen.event_name, show.screen.setup) == ("autumn-camp", True), "the new event, visible"
    clock.advance(SETUP_MODE_SECONDS)
    [show] = machine.handle(Tick(), clock.now())
    assert (show.screen.event_name, show.screen.setup) == ("autumn-camp", False)


def test_set_up_mode_ends_after_its_time(machine, clock):
    machine.handle(SetupChord(), clock.now())
    clock.advance(SETUP_MODE_SECONDS + 1)
    actions = machine.handle(CodeRead("TURNOUT:SETUP:late"), clock.now())
    assert Play(Tone.ERROR) in actions and machine.event == "barcamp"


def test_first_boot_without_an_event_accepts_a_setup_card(clock):
    m = KioskMachine(kiosk_id="new", event=None, event_name=None, roles=Settings().roles,
                     labels=Settings().label, setup=SetupMode(clock.t, event_configured=False))
    [show] = m.handle(Tick(), clock.now())
    assert show.screen.setup and show.screen.event_name == ""
    assert SaveSetup("barcamp", None) in m.handle(CodeRead("TURNOUT:SETUP:barcamp"), clock.now())


def test_wifi_card_joins_off_the_loop_and_shows_the_result(machine, clock):
    machine.handle(SetupChord(), clock.now())
    actions = machine.handle(CodeRead(r"WIFI:T:WPA;S:Venue\;Guest;P:pa\:ss;;"), clock.now())
    [join] = of(actions, JoinWifi)
    assert (join.credentials.ssid, join.credentials.password) == ("Venue;Guest", "pa:ss")
    assert of(actions, Show)[0].screen.title == "Joining Venue;Guest…"
    actions = machine.handle(WifiJoined(WifiResult(False, "Venue;Guest", "Could not join Venue;Guest: timed out",
                                                   "timed out")), clock.now())
    assert actions == [Play(Tone.ERROR), Show(screens.Problem("Wi-fi", "Could not join Venue;Guest: timed out"))]
    actions = machine.handle(WifiJoined(WifiResult(True, "Venue;Guest", "Joined Venue;Guest")), clock.now())
    assert actions == [Play(Tone.OK), Show(screens.Notice("Wi-fi", "Joined Venue;Guest"))]


def test_a_broken_wifi_card_is_an_error(machine, clock):
    machine.handle(SetupChord(), clock.now())
    actions = machine.handle(CodeRead("WIFI:T:WPA;P:nossid;;"), clock.now())
    assert Play(Tone.ERROR) in actions and not of(actions, JoinWifi)


# --- login cards (step 5) ------------------------------------------------------------------

from kiosk.machine import SaveLogin  # noqa: E402
from turnout.codes import LoginCard  # noqa: E402

LOGIN = LoginCard("door-2", "mqtts://hub.example.org:8883", "door-2", "s3cret-password-123", "QUJDRA" * 10)


def test_a_login_card_in_set_up_mode_is_kept_and_the_kiosk_starts_again_as_its_kiosk(machine, clock):
    actions = machine.handle(CodeRead(LOGIN.text), clock.now())
    assert Play(Tone.ERROR) in actions and not of(actions, SaveLogin)  # not in set-up mode
    clock.advance(4)
    machine.handle(SetupChord(), clock.now())
    actions = machine.handle(CodeRead(LOGIN.text), clock.now())
    assert SaveLogin(LOGIN) in actions and Play(Tone.OK) in actions
    assert of(actions, Show)[0].screen == screens.Notice("Kiosk door-2", "Joining hub.example.org:8883")
    assert "s3cret" not in repr(actions)  # the password never reaches a screen or a log line


def test_a_login_card_never_turns_encryption_off(machine, clock):
    machine.link_tls = True
    machine.handle(SetupChord(), clock.now())
    plain = LoginCard("door-2", "mqtt://hub.example.org:1883", "door-2", "s3cret-password-123")
    actions = machine.handle(CodeRead(plain.text), clock.now())
    assert not of(actions, SaveLogin) and of(actions, Show)[0].screen == screens.Problem(
        "Login card", "would turn encryption off")
    clock.advance(4)
    assert of(machine.handle(CodeRead(LOGIN.text), clock.now()), SaveLogin)  # TLS to TLS is fine


def test_a_login_card_for_another_kiosk_waits_until_the_outbox_is_empty(machine, clock):
    machine.handle(CodeRead("T5724"), clock.now())  # one scan made as hall-1, not yet synced
    clock.advance(4)
    machine.handle(SetupChord(), clock.now())
    actions = machine.handle(CodeRead(LOGIN.text), clock.now())
    assert not of(actions, SaveLogin) and of(actions, Show)[0].screen.detail == "sync first: 1 waiting"
    clock.advance(4)
    same_kiosk = LoginCard("hall-1", LOGIN.broker, "hall-1", LOGIN.password, LOGIN.ca)
    assert of(machine.handle(CodeRead(same_kiosk.text), clock.now()), SaveLogin)  # same id: its scans go too


def test_a_welsh_kiosk_says_its_messages_in_welsh(clock):
    """The machine's words come from the kiosk catalogue in the settings' language; values (a
    role's name, a number) are filled into the translated message."""
    settings = Settings(language="cy")
    m = KioskMachine(kiosk_id="k1", event="e1", event_name="Barcamp", roles=settings.roles,
                     labels=settings.label, words=settings.words(), online=True)
    [_, show] = m.handle(CodeRead("T5742"), clock.now())
    assert show.screen == screens.Problem("Ceisiwch eto", "camddarllenwyd y bathodyn")
    show = of(m.handle(CodeRead("TURNOUT:ROLE:juggling"), clock.now()), Show)[0]
    assert show.screen == screens.Problem("Rôl anhysbys", "rôl juggling: heb ei gosod yma")
    show = of(m.handle(CodeRead("TURNOUT:ROLE:cake"), clock.now()), Show)[0]
    assert show.screen.role_label == "Cacen"
