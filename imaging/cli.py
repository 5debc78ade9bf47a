"""``turnout-image``: make the card's files, and write a kiosk's card.

    turnout-image bundle [--out build/image/turnout] [--offline]
    turnout-image write BOOT [--bundle build/image/turnout] [--settings kiosk.toml] [--wifi-ssid …] …

BOOT is a mounted SD card's boot partition (a directory), a Raspberry Pi OS ``.img``, or a FAT
image. The wi-fi password comes from the settings file's ``[card]`` table or the environment
variable TURNOUT_WIFI_PASSWORD, never from the command line (``ps`` shows it to every user).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imaging.card import CardError, load_card

DEFAULT_BUNDLE = Path("build/image/turnout")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not getattr(args, "run", None):
        _parser().print_help()
        return 2
    try:
        return args.run(args) or 0
    except (CardError, ValueError, OSError) as exc:
        print(f"turnout-image: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="turnout-image", description="Flash-and-go cards for Turnout kiosks "
                                "(image-build/README.md).")
    sub = p.add_subparsers(metavar="COMMAND")

    bundle = sub.add_parser("bundle", help="build the card's turnout/ folder: wheels, units, first-boot script")
    bundle.add_argument("--out", type=Path, default=DEFAULT_BUNDLE)
    bundle.add_argument("--repo", type=Path, default=Path("."), help="the Turnout source tree")
    bundle.add_argument("--offline", action="store_true", help="do not download the dependency wheels")
    bundle.add_argument("--camera", action="store_true", help="card.env installs the camera's packages too "
                        "(for the pi-gen stage; a written card says so itself)")
    bundle.set_defaults(run=_bundle)

    write = sub.add_parser("write", help="write a kiosk's card into a boot partition or image")
    write.add_argument("boot", type=Path, help="boot partition directory, .img file, or FAT image")
    write.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    write.add_argument("--settings", type=Path, help="the kiosk's settings (TOML: `turnout-hub kiosk add` "
                       "output, plus an optional [card] table)")
    write.add_argument("--hostname")
    write.add_argument("--wifi-ssid")
    write.add_argument("--wifi-country", help="two letters (default GB)")
    write.add_argument("--wifi-hidden", action="store_true", default=None)
    write.add_argument("--timezone")
    write.add_argument("--admin-user", help="an organiser's login on the kiosk")
    write.add_argument("--admin-password-hash", help="its password as a crypt hash (openssl passwd -6)")
    write.add_argument("--admin-ssh-key", type=Path, action="append",
                       help="a public key file (repeat for more); turns SSH on")
    write.add_argument("--camera", action="store_true", default=None,
                       help="install the camera's packages (default: when the settings' scanner is a camera)")
    write.set_defaults(run=_write)
    return p


def _bundle(args) -> int:
    from imaging.bundle import build_bundle

    bundle = build_bundle(args.repo, args.out, download=not args.offline, camera=args.camera)
    print(f"Wrote {bundle.folder}/: {len(bundle.wheels)} wheel(s), {len(bundle.units)} unit(s), firstboot.sh")
    for note in bundle.notes:
        print(f"Note: {note}")
    return 0


def _write(args) -> int:
    from imaging.partition import open_boot
    from imaging.write import write_card

    keys = None
    if args.admin_ssh_key:
        keys = [line for path in args.admin_ssh_key for line in _read_keys(path)]
    card = load_card(args.settings, {
        "hostname": args.hostname, "wifi_ssid": args.wifi_ssid, "wifi_country": args.wifi_country,
        "wifi_hidden": args.wifi_hidden, "timezone": args.timezone, "admin_user": args.admin_user,
        "admin_password_hash": args.admin_password_hash, "admin_ssh_keys": keys, "camera": args.camera,
    })
    boot = open_boot(args.boot)
    for line in write_card(boot, args.bundle, card):
        print(f"  {line}")
    print(f"Wrote the card for {card.kiosk_id or 'a kiosk with no settings'} into {boot}.")
    if card.kiosk_toml is not None:
        print("It holds the kiosk's broker password until first boot: keep it safe until then.")
    return 0


def _read_keys(path: Path) -> list[str]:
    text = path.read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


if __name__ == "__main__":
    sys.exit(main())
