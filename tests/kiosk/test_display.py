"""The display adapter on luma's dummy device: redraw only on change, PNGs and terminal art."""

import io

import pytest
from luma.core.device import dummy
from PIL import Image

from kiosk.display.device import Display, SimDisplay, make_device, terminal_picture
from kiosk.screens import Armed, Idle, Problem

IDLE = Idle("Barcamp", "14:05", online=True, queued=0)


class CountingDevice(dummy):
    """luma's dummy, counting the frames it is sent."""

    def __init__(self):
        super().__init__(width=128, height=64, mode="1")
        self.frames = 0

    def display(self, image):
        self.frames += 1
        super().display(image)


def test_show_draws_once_per_change():
    device = CountingDevice()
    display = Display(device)
    assert display.show(IDLE) is True
    assert display.show(Idle("Barcamp", "14:05", online=True, queued=0)) is False  # equal value
    assert device.frames == 1
    assert display.show(Armed("Cake", 15)) is True
    assert display.show(IDLE) is True
    assert device.frames == 3 and display.screen == IDLE


def test_make_device_dummy_is_a_128x64_one_bit_panel():
    device = make_device("dummy")
    assert device.size == (128, 64) and device.mode == "1"


def test_make_device_refuses_unknown_kinds():
    with pytest.raises(ValueError, match="ssd1306"):
        make_device("st7735")


def test_sim_display_saves_a_png_after_each_change_only(tmp_path):
    png = tmp_path / "screen.png"
    display = SimDisplay(png)
    assert not png.exists()

    display.show(IDLE)
    first = Image.open(png)
    assert first.size == (128, 64) and first.mode == "1"
    assert first.tobytes() == display.device.image.tobytes()

    png.unlink()
    display.show(IDLE)  # unchanged: nothing written
    assert not png.exists()

    display.show(Problem("Try again"))
    assert Image.open(png).tobytes() == display.device.image.tobytes() != first.tobytes()
    assert [p.name for p in tmp_path.iterdir()] == ["screen.png"]  # no temp file left behind


def test_sim_display_prints_the_screen_to_the_terminal_on_change():
    out = io.StringIO()
    display = SimDisplay(None, stream=out, terminal_style="half")
    display.show(IDLE)
    display.show(IDLE)
    frames = out.getvalue().split("┌")[1:]
    assert len(frames) == 1
    lines = ("┌" + frames[0]).splitlines()
    assert len(lines) == 32 + 2 and {len(line) for line in lines} == {130}
    assert any(ch in "▀▄█" for ch in "".join(lines[1:-1]))


def test_terminal_picture_maps_pixels_to_half_blocks():
    image = Image.new("1", (4, 4))
    for xy in [(0, 0), (1, 1), (2, 0), (2, 1)]:
        image.putpixel(xy, 255)
    assert terminal_picture(image, "half").splitlines() == [
        "┌────┐",
        "│▀▄█ │",
        "│    │",
        "└────┘",
    ]


def test_terminal_picture_maps_pixels_to_quadrants():
    image = Image.new("1", (4, 2))
    for xy in [(0, 0), (3, 1), (2, 1)]:
        image.putpixel(xy, 255)
    assert terminal_picture(image, "quadrant").splitlines() == ["┌──┐", "│▘▄│", "└──┘"]


def test_quadrant_picture_of_a_screen_fits_an_80_column_terminal():
    display = SimDisplay(None)
    display.show(IDLE)
    lines = terminal_picture(display.device.image, "quadrant").splitlines()
    assert len(lines) == 34 and max(len(line) for line in lines) == 66


class FlakyDevice(CountingDevice):
    """A panel on a loose I2C wire: fails while `broken` is set."""

    broken = False

    def display(self, image):
        if self.broken:
            raise OSError(121, "Remote I/O error")
        super().display(image)


def test_an_i2c_error_is_survived_and_the_screen_retried(caplog):
    device = FlakyDevice()
    display = Display(device)
    device.broken = True
    assert display.show(IDLE) is False
    assert display.show(IDLE) is False  # not remembered as shown: tried again
    assert "display not answering" in caplog.text
    device.broken = False
    assert display.show(IDLE) is True and device.frames == 1


def test_terminal_skips_redraws_for_a_ticking_countdown_but_the_png_follows(tmp_path):
    import io

    from PIL import Image as PILImage

    from kiosk.display.device import SimDisplay
    from kiosk.screens import Armed, CheckedIn
    out = io.StringIO()
    display = SimDisplay(tmp_path / "screen.png", stream=out, terminal_style="half")
    display.show(Armed("Cake", 15))
    first = out.getvalue()
    display.show(Armed("Cake", 14))
    assert out.getvalue() == first, "a countdown tick is not redrawn in the terminal"
    png_14 = PILImage.open(tmp_path / "screen.png").tobytes()
    display.show(Armed("Cake", 13))
    assert PILImage.open(tmp_path / "screen.png").tobytes() != png_14, "screen.png shows every second"
    display.show(CheckedIn(None, False))
    assert len(out.getvalue()) > len(first), "a new screen is drawn"
