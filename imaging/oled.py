"""First boot's progress on the kiosk's OLED: ``python -m imaging.oled TITLE DETAIL``.

Drawn as the kiosk draws a notice, on the display the kiosk's settings name. Best effort: no
display, no settings or a loose wire print one line and exit 0, so first boot carries on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk.config import DEFAULT_CONFIG_PATH, ConfigError, Settings, load_settings
from kiosk.screens import Notice


def show(device, title: str, detail: str) -> None:
    from luma.core.render import canvas

    from kiosk.display.render import render

    with canvas(device) as draw:
        render(Notice(title, detail), draw)


def display_settings(config: Path) -> Settings:
    try:
        return load_settings(config)
    except ConfigError:
        return Settings()  # the kiosk will say what is wrong; the progress still shows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imaging.oled", description=__doc__)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH)
    parser.add_argument("title")
    parser.add_argument("detail", nargs="?", default="")
    args = parser.parse_args(argv)
    settings = display_settings(args.config)
    if settings.display == "none":
        return 0
    try:
        from kiosk.display.device import make_device

        device = make_device(settings.display, settings.i2c_port, settings.i2c_address)
        device.persist = True  # luma blanks the panel at exit otherwise
        show(device, args.title, args.detail)
    except Exception as exc:  # noqa: BLE001 - progress is a courtesy; the boot must go on
        print(f"no progress on the display: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
