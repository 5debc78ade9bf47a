"""Write one kiosk's card: the cloud-init files, I2C in config.txt, the bundle's turnout/ folder
and the kiosk's settings, into a boot partition."""

from __future__ import annotations

from pathlib import Path

from imaging import boot_files
from imaging.boot_files import CARD_DIR, Card
from imaging.partition import BootDirectory, FatImage, PartitionError

SECRET_NAME = f"{CARD_DIR}/kiosk.toml"  # first boot moves it to /etc/turnout and deletes it


def write_card(boot: BootDirectory | FatImage, bundle: Path, card: Card) -> list[str]:
    """Write `card` and `bundle` (a turnout/ folder from build_bundle) into `boot`; lines saying
    what was done. Files already on the partition are kept, except the three cloud-init files
    (Raspberry Pi OS ships examples) and config.txt, which only gains the I2C line."""
    bundle = Path(bundle)
    wheels = sorted((bundle / "wheels").glob("*.whl"))
    units = sorted((bundle / "systemd").glob("turnout-kiosk*"))
    script = bundle / "firstboot.sh"
    if not script.is_file() or not units or not any(w.name.startswith("turnout-") for w in wheels):
        raise PartitionError(f"{bundle} is not a complete bundle (firstboot.sh, systemd/turnout-kiosk*, "
                             "wheels/turnout-*.whl): run `make image` or `turnout-image bundle` first")
    done = []
    config = boot.read("config.txt")
    if config is None and isinstance(boot, FatImage):
        raise PartitionError(f"{boot} has no config.txt: not a Raspberry Pi boot partition")
    if config is not None:
        text = config.decode("utf-8", "replace")
        edited = boot_files.enable_i2c(text)
        if edited != text:
            boot.write("config.txt", edited.encode())
            done.append("config.txt: I2C on (dtparam=i2c_arm=on)")
        else:
            done.append("config.txt: I2C already on")
    else:
        done.append("no config.txt here: first boot turns I2C on (raspi-config)")

    boot.write("user-data", boot_files.user_data(card).encode())
    boot.write("network-config", boot_files.network_config(card).encode())
    boot.write("meta-data", boot_files.meta_data(card).encode())
    done.append(f"cloud-init: user-data (host {card.hostname}"
                + (f", login {card.admin.name}" if card.admin else ", no login: SSH off") + "), "
                + "network-config (" + (f"wi-fi {card.wifi.ssid!r}, " if card.wifi else "") + "ethernet), meta-data")

    boot.write(f"{CARD_DIR}/firstboot.sh", script.read_bytes())
    boot.write(f"{CARD_DIR}/card.env", boot_files.card_env(card.camera).encode())
    boot.copy_in(units, f"{CARD_DIR}/systemd")
    boot.copy_in(wheels, f"{CARD_DIR}/wheels")
    done.append(f"{CARD_DIR}/: first-boot script, {len(units)} unit(s), {len(wheels)} wheel(s)"
                + (", camera packages" if card.camera else ""))
    if card.kiosk_toml is not None:
        boot.write(SECRET_NAME, card.kiosk_toml.encode())
        done.append(f"{SECRET_NAME}: kiosk {card.kiosk_id}'s settings (moved off the card at first boot)")
    else:
        done.append("no kiosk settings: the kiosk starts with its defaults, in set-up mode")
    return done
