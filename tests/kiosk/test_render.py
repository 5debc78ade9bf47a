"""Each screen drawn on luma's dummy device, compared pixel for pixel with a golden PNG.

Look at the goldens after changing kiosk/display/render.py; regenerate them with
TURNOUT_UPDATE_GOLDENS=1 .venv/bin/pytest tests/kiosk/test_render.py
Problems and notices are taken from the state machine itself, so each golden shows the words
the kiosk really uses. Every screen is drawn in each language the kiosk speaks: English goldens in
golden/, Welsh ones in golden/cy/.
"""

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from kiosk.config import Settings
from kiosk.display.device import Display, make_device
from kiosk.display.render import ELLIPSIS, HEIGHT, WIDTH, fit, largest, render, text_width, wrap
from kiosk.machine import (RESULT_SECONDS, AckReceived, ButtonPressed, CodeRead, KioskMachine, Now, SetupChord,
                           Show, Store, StoreFailed, Tick, WifiJoined)
from kiosk.screens import AlreadyCheckedIn, Armed, CheckedIn, Idle, Notice, Welcome
from kiosk.wifi import WifiResult
from turnout.protocol import Ack, AckStatus

GOLDEN = Path(__file__).parent / "golden"
GOLDENS = {"en": GOLDEN, "cy": GOLDEN / "cy"}
UPDATE = os.environ.get("TURNOUT_UPDATE_GOLDENS") == "1"


def machine_shows(*steps, at=0.0, language="en", **state):
    """The screen the state machine shows after these events, so a golden carries its real words.
    A step may be a function of the previous step's actions (to answer the scan just stored); the
    last step happens ``at`` seconds after the others."""
    settings = Settings(language=language)
    machine = KioskMachine(kiosk_id="hall-1", event="barcamp", event_name="Barcamp", roles=settings.roles,
                           labels=settings.label, words=settings.words(), **{"online": True, **state})
    now = Now(100.0, datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc), True)
    actions = []
    for i, step in enumerate(steps):
        if i == len(steps) - 1:
            now = Now(now.mono + at, now.wall + timedelta(seconds=at), True)
        actions = machine.handle(step(actions) if callable(step) else step, now)
    return [a.screen for a in actions if isinstance(a, Show)][-1]


def just_stored(actions):
    return next(a.scan for a in actions if isinstance(a, Store))


WIFI_CARD = "WIFI:T:WPA;S:{};P:secret;;"


def screens(language: str) -> dict:
    """Every screen, its words in ``language`` (values the hub sends, like a milestone's name,
    as a hub set up in that language would send them)."""
    _ = Settings(language=language).words().gettext

    def machine_shows_(*steps, **kwargs):
        return machine_shows(*steps, language=language, **kwargs)

    def progress(to_go, target):
        return _("{to_go} more to your {target}").format(to_go=to_go, target=target)

    return {
        "idle_online": Idle("Barcamp Leeds 2025", "14:05", online=True, queued=0),
        "idle_offline_queued": Idle("OpenCivic Unconference Manchester", "--:--", online=False, queued=12),
        "idle_no_event": Idle("", "09:30", online=True, queued=3),
        "idle_setup_mode": Idle("", "--:--", online=False, queued=0, setup=True),
        "idle_setup_mode_event": Idle("LocalGovCamp North September 2026", "14:05", online=True, queued=2,
                                      setup=True),
        "idle_storage_error": machine_shows_(CodeRead("T13"), lambda actions: StoreFailed(just_stored(actions)),
                                            Tick(), at=RESULT_SECONDS + 1),
        "idle_storage_reset": machine_shows_(Tick(), store_reset=True, online=False, queued=2),
        "armed_cake": Armed(_("Cake"), 12),
        "armed_long_role": Armed(_("Organise"), 3),
        "checked_in": CheckedIn(None, will_sync=False),
        "checked_in_role_offline": CheckedIn(_("Pitch"), will_sync=True),
        "welcome": Welcome("Ada Lovelace", 12, 4, progress(3, 25), None, None),
        "welcome_role_first_visit": Welcome("Grace", 1, 1, None, None, _("Tidy")),
        "welcome_milestone": Welcome("Ada Lovelace", 25, 9, progress(25, 50),
                                     "Clwb 25" if language == "cy" else "25 club", _("Cake")),
        "welcome_long_name": Welcome("Maximilian Featherstonehaugh-Worthington", 7, 3, progress(18, 25),
                                     None, _("Organise")),
        "already_checked_in": AlreadyCheckedIn("Ada Lovelace", _("Cake")),
        "already_checked_in_no_name": AlreadyCheckedIn(None, None),
        # Problems and notices in the machine's own words:
        "problem_try_again": machine_shows_(CodeRead("T5742")),
        "problem_not_a_badge": machine_shows_(CodeRead("5012345678900")),
        "problem_unknown_card": machine_shows_(CodeRead("TURNOUT:BADGE:T13")),
        "problem_unknown_role": machine_shows_(CodeRead("TURNOUT:ROLE:juggling")),
        "problem_nothing_to_undo": machine_shows_(CodeRead("TURNOUT:UNDO")),
        "problem_set_up_card_refused": machine_shows_(CodeRead("TURNOUT:SETUP:other-event")),
        "problem_storage_error": machine_shows_(CodeRead("T13"), lambda actions: StoreFailed(just_stored(actions))),
        "problem_not_counted": machine_shows_(CodeRead("T13"), lambda actions: AckReceived(Ack(
            just_stored(actions).id, AckStatus.REJECTED, "badge not issued by this hub: T13"))),
        "notice_undone": machine_shows_(CodeRead("T13"), CodeRead("TURNOUT:UNDO")),
        "notice_attend": machine_shows_(CodeRead("TURNOUT:ROLE:attend")),
        "notice_attend_cancels": machine_shows_(ButtonPressed("organise"), CodeRead("TURNOUT:ROLE:attend")),
        "notice_setup_mode": machine_shows_(SetupChord()),
        "notice_event_set": machine_shows_(SetupChord(), CodeRead("TURNOUT:SETUP:2026-11-28-localgovcamp-north")),
        "notice_wifi": machine_shows_(SetupChord(), CodeRead(WIFI_CARD.format("venue-wifi"))),
        "notice_joining_long_network": machine_shows_(SetupChord(), CodeRead(WIFI_CARD.format("Venue Guest Network 5GHz"))),
        "notice_wifi_joined": machine_shows_(WifiJoined(WifiResult(True, "venue-wifi", "Joined venue-wifi"))),
        "problem_wifi_failed": machine_shows_(WifiJoined(WifiResult(
            False, "venue-wifi", "Could not join venue-wifi: wrong password or weak signal",
            "wrong password or weak signal"))),
    }


SCREENS = screens("en")
ALL_SCREENS = {(language, name): screen for language in GOLDENS
               for name, screen in screens(language).items()}


def drawn(screen, language="en") -> Image.Image:
    display = Display(make_device("dummy"), Settings(language=language).words())
    display.show(screen)
    return display.device.image


@pytest.mark.parametrize("language,name", ALL_SCREENS)
def test_screen_matches_golden(language, name, tmp_path):
    image = drawn(ALL_SCREENS[language, name], language)
    assert image.size == (WIDTH, HEIGHT) and image.mode == "1"
    golden = GOLDENS[language] / f"{name}.png"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        image.save(golden)
    assert golden.exists(), f"no golden for {name}: run with TURNOUT_UPDATE_GOLDENS=1 and look at it"
    expected = Image.open(golden).convert("1")
    if ImageChops.difference(image, expected).getbbox() is not None:
        image.save(tmp_path / f"{name}.png")
        pytest.fail(f"{name} differs from {golden}; drawn now: {tmp_path / name}.png")


@pytest.mark.parametrize("language,name", ALL_SCREENS)
def test_nothing_is_drawn_off_the_glass(language, name):
    """Drawn on a larger canvas, every lit pixel is still within the 128x64 of the panel."""
    image = Image.new("1", (WIDTH + 24, HEIGHT + 16))
    render(ALL_SCREENS[language, name], ImageDraw.Draw(image), Settings(language=language).words())
    assert image.crop((0, HEIGHT, image.width, image.height)).getbbox() is None, "cut off at the bottom"
    assert image.crop((WIDTH, 0, image.width, image.height)).getbbox() is None, "cut off at the right"


@pytest.mark.parametrize("language", GOLDENS)
def test_every_golden_belongs_to_a_screen(language):
    assert {p.stem for p in GOLDENS[language].glob("*.png")} == set(SCREENS)


@pytest.mark.parametrize("language", GOLDENS)
def test_screens_light_some_pixels_and_differ(language):
    images = {name: drawn(ALL_SCREENS[language, name], language).tobytes() for name in SCREENS}
    assert all(any(b) for b in images.values())
    assert len(set(images.values())) == len(images)


def test_online_mark_is_filled_and_offline_hollow():
    online = drawn(Idle("Barcamp", "14:05", online=True, queued=0))
    offline = drawn(Idle("Barcamp", "14:05", online=False, queued=0))
    clock_left = WIDTH - 1 - text_width("14:05", 10)
    centre = (clock_left - 6, 5)  # the circle sits just left of the clock
    assert online.getpixel(centre) and not offline.getpixel(centre)


def test_sync_count_shown_only_when_scans_wait():
    def bottom_rows(image):
        return image.crop((0, 52, 60, HEIGHT)).getbbox()

    assert bottom_rows(drawn(Idle("Barcamp", "14:05", online=True, queued=0))) is None
    assert bottom_rows(drawn(Idle("Barcamp", "14:05", online=True, queued=4))) is not None


def test_milestone_adds_a_lit_banner():
    plain = drawn(Welcome("Ada", 25, 9, None, None, None))
    milestone = drawn(Welcome("Ada", 25, 9, None, "25 club", None))
    banner = (0, 0, WIDTH, 14)
    lit = lambda image: image.crop(banner).histogram()[255]
    assert lit(milestone) > WIDTH * 14 // 2 > lit(plain)


@pytest.mark.parametrize("size", [10, 12, 14, 16, 20])
def test_fit_cuts_with_an_ellipsis_within_the_width(size):
    name = "Maximilian Featherstonehaugh-Worthington"
    cut = fit(name, size, 100)
    assert cut.endswith(ELLIPSIS) and text_width(cut, size) <= 100
    assert fit("Ada", size, 100) == "Ada"


def test_largest_prefers_the_biggest_size_that_fits():
    assert largest("Ada", (20, 16), 120) == (20, "Ada")
    size, text = largest("Maximilian Featherstonehaugh", (20, 16), 120)
    assert size == 16 and text.endswith(ELLIPSIS)


def test_wrap_keeps_to_the_line_count():
    lines = wrap("one two three four five six seven eight nine ten", 12, 60, 2)
    assert len(lines) == 2 and lines[-1].endswith(ELLIPSIS)
    assert all(text_width(line, 12) <= 60 for line in lines)
    assert wrap("", 12, 60, 2) == []


def test_wrap_breaks_a_word_too_long_for_a_line_after_a_hyphen():
    assert wrap("2026-11-28-localgovcamp-north", 12, 124, 2) == ["2026-11-28-", "localgovcamp-north"]
    assert wrap("2026-11-28-localgovcamp-north", 10, 140, 2) == ["2026-11-28-localgovcamp-", "north"]
    assert wrap("Featherstonehaugh-Worthington", 12, 60, 1) == [fit("Featherstonehaugh-Worthington", 12, 60)]


def lit_rows(image):
    return [y for y in range(HEIGHT) if any(image.getpixel((x, y)) for x in range(WIDTH))]


def test_a_notice_of_four_lines_keeps_its_descenders_on_the_glass():
    image = drawn(Notice("Joining Venue Guest Network 5GHz…", "Wrong password? Try typing it"))
    rows = lit_rows(image)
    assert rows[0] > 0 and rows[-1] < HEIGHT - 1, "nothing touching the top or bottom edge"
    assert not any(image.getpixel((x, HEIGHT - 1)) for x in range(WIDTH))


def test_idle_in_set_up_mode_still_shows_which_event():
    image = drawn(Idle("Barcamp Leeds", "14:05", online=True, queued=0, setup=True))
    assert image.crop((0, 0, 60, 12)).tobytes() == drawn(
        Idle("Barcamp Leeds", "14:05", online=True, queued=0)).crop((0, 0, 60, 12)).tobytes()
    assert image.tobytes() != drawn(Idle("Barcamp Leeds", "14:05", online=True, queued=0)).tobytes()


def test_unknown_screen_is_refused():
    image = Image.new("1", (WIDTH, HEIGHT))
    with pytest.raises(TypeError):
        render("Idle", ImageDraw.Draw(image))
