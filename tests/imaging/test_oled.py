"""First boot's progress on the OLED, drawn on luma's dummy device as the kiosk draws a notice."""

from PIL import ImageChops

from imaging import oled
from kiosk.display.device import make_device


def test_progress_is_drawn_like_a_kiosk_notice():
    device = make_device("dummy")
    oled.show(device, "Setting up 1/3", "Installing packages")
    assert device.image.getbbox() is not None  # something lit
    other = make_device("dummy")
    oled.show(other, "Setting up 2/3", "Installing Turnout")
    assert ImageChops.difference(device.image.convert("L"), other.image.convert("L")).getbbox() is not None


def test_no_display_is_fine(tmp_path, capsys):
    config = tmp_path / "kiosk.toml"
    config.write_text('display = "none"\n')
    assert oled.main(["--config", str(config), "Setting up 1/3"]) == 0


def test_a_missing_display_never_fails_first_boot(tmp_path, capsys):
    config = tmp_path / "kiosk.toml"
    config.write_text('display = "sh1106"\ni2c_port = 77\n')  # no /dev/i2c-77 here
    assert oled.main(["--config", str(config), "Setting up 1/3", "Installing packages"]) == 0
    assert "no progress on the display" in capsys.readouterr().err


def test_broken_settings_still_show_progress(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text("display = \n")
    assert oled.display_settings(config).display == "ssd1306"
