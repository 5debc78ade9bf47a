"""Writing a card into real FAT file systems made here (mkfs.vfat, sfdisk) and reading it back
with mtools: a FAT image, a whole disk image like Raspberry Pi OS's, and a mounted card."""

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from imaging.card import load_card
from imaging.cli import main as turnout_image
from imaging.partition import BootDirectory, FatImage, PartitionError, boot_partition_offset, open_boot
from imaging.write import write_card
from tests.imaging.test_boot_files import PI_OS_CONFIG
from tests.imaging.tools import mtools_names, mtools_read, need

REPO = Path(__file__).parents[2]
CMDLINE = b"console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait\n"
PI_OS_USER_DATA = b"#cloud-config\n# Raspberry Pi OS's example: replaced by the card\n"
BOOT_START = 8192  # sectors: where Raspberry Pi OS's boot partition starts
BOOT_SECTORS = 65536  # 32 MiB
ROOT_START = BOOT_START + BOOT_SECTORS
SETTINGS = """\
kiosk_id = "door-1"
broker = "mqtts://hub.example.org:8883"
broker_username = "door-1"
broker_password = "Zq3-hub-login-password"

[card]
wifi_ssid = "Venue Guest"
wifi_password = "correct horse"
"""


@pytest.fixture
def bundle(tmp_path):
    """A turnout/ folder as `turnout-image bundle` makes it: the real first-boot script and
    units, and stand-in wheels (test_bundle.py builds the real wheel)."""
    folder = tmp_path / "bundle" / "turnout"
    (folder / "wheels").mkdir(parents=True)
    (folder / "systemd").mkdir()
    shutil.copy(REPO / "imaging/firstboot.sh", folder / "firstboot.sh")
    for unit in (REPO / "systemd").glob("turnout-kiosk*"):
        shutil.copy(unit, folder / "systemd" / unit.name)
    (folder / "wheels/turnout-0.1.0-py3-none-any.whl").write_bytes(b"PK wheel " * 4000)
    (folder / "wheels/pip-26.0-py3-none-any.whl").write_bytes(b"PK pip")
    return folder


@pytest.fixture
def card(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(SETTINGS)
    return load_card(path)


def fat(path: Path, size_kib: int, offset_sectors: int = 0) -> None:
    need("mkfs.vfat", "dosfstools")
    args = ["mkfs.vfat", "-n", "bootfs"] + (["--offset", str(offset_sectors)] if offset_sectors else ["-C"])
    subprocess.run(args + [str(path), str(size_kib)], check=True, capture_output=True, timeout=60)


def put(image: Path, offset: int, name: str, data: bytes) -> None:
    drive = f"{image}@@{offset}" if offset else str(image)
    subprocess.run(["mcopy", "-i", drive, "-", f"::/{name}"], input=data, check=True, capture_output=True,
                   env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"}, timeout=60)


def raspberry_pi_os_files(image: Path, offset: int = 0) -> None:
    for name, data in [("config.txt", PI_OS_CONFIG.encode()), ("cmdline.txt", CMDLINE),
                       ("user-data", PI_OS_USER_DATA), ("start4.elf", bytes(range(256)) * 64)]:
        put(image, offset, name, data)


@pytest.fixture
def disk_image(tmp_path):
    """A whole disk image laid out as Raspberry Pi OS's: MBR, FAT boot partition at sector 8192,
    then a Linux root partition (here only a pattern, to show it is not touched)."""
    need("sfdisk", "fdisk")
    image = tmp_path / "raspios-trixie-arm64-lite.img"
    with open(image, "wb") as fh:
        fh.truncate((ROOT_START + 4096) * 512)
    table = f"label: dos\nstart={BOOT_START}, size={BOOT_SECTORS}, type=c\nstart={ROOT_START}, type=83\n"
    subprocess.run(["sfdisk", "-q", str(image)], input=table, text=True, check=True, capture_output=True, timeout=60)
    fat(image, BOOT_SECTORS // 2, offset_sectors=BOOT_START)
    with open(image, "r+b") as fh:
        fh.seek(ROOT_START * 512)
        fh.write(b"ext4 root " * 1000)
    raspberry_pi_os_files(image, BOOT_START * 512)
    return image


def check_card(read, names, card):
    """What a written card holds, read through `read(name)` and `names(folder)`."""
    assert read("config.txt").decode() == PI_OS_CONFIG.replace("#dtparam=i2c_arm=on", "dtparam=i2c_arm=on")
    assert read("cmdline.txt") == CMDLINE
    assert read("start4.elf") == bytes(range(256)) * 64
    assert read("user-data").startswith(b"#cloud-config\n# Turnout kiosk door-1")
    assert b'"Venue Guest"' in read("network-config") and b'"correct horse"' in read("network-config")
    assert f'instance-id: "{card.instance_id}"'.encode() in read("meta-data")
    assert read("turnout/firstboot.sh") == (REPO / "imaging/firstboot.sh").read_bytes()
    assert b'TURNOUT_PACKAGES="python3-evdev python3-lgpio i2c-tools"' in read("turnout/card.env")
    kiosk = tomllib.loads(read("turnout/kiosk.toml").decode())
    assert kiosk == {k: v for k, v in tomllib.loads(SETTINGS).items() if k != "card"}
    units = sorted(unit.name for unit in (REPO / "systemd").glob("turnout-kiosk*"))
    assert names("turnout/systemd") == units
    for unit in units:
        assert read(f"turnout/systemd/{unit}") == (REPO / "systemd" / unit).read_bytes()
    assert names("turnout/wheels") == ["pip-26.0-py3-none-any.whl", "turnout-0.1.0-py3-none-any.whl"]
    assert read("turnout/wheels/turnout-0.1.0-py3-none-any.whl") == b"PK wheel " * 4000


def test_whole_disk_image(disk_image, bundle, card):
    before = disk_image.read_bytes()
    boot = open_boot(disk_image)
    assert isinstance(boot, FatImage) and boot.offset == BOOT_START * 512
    write_card(boot, bundle, card)
    offset = BOOT_START * 512
    check_card(lambda name: mtools_read(disk_image, offset, name),
               lambda folder: mtools_names(disk_image, offset, folder), card)
    after = disk_image.read_bytes()
    assert after[:offset] == before[:offset]  # the partition table is untouched
    assert after[ROOT_START * 512:] == before[ROOT_START * 512:]  # and so is the root partition
    assert sorted(mtools_names(disk_image, offset)) == sorted(
        ["cmdline.txt", "config.txt", "meta-data", "network-config", "start4.elf", "turnout/", "user-data"])


def test_fat_image(tmp_path, bundle, card):
    image = tmp_path / "boot.img"
    fat(image, 32768)
    raspberry_pi_os_files(image)
    boot = open_boot(image)
    assert boot.offset == 0
    write_card(boot, bundle, card)
    check_card(lambda name: mtools_read(image, 0, name), lambda folder: mtools_names(image, 0, folder), card)


def test_mounted_card(tmp_path, bundle, card):
    folder = tmp_path / "bootfs"
    folder.mkdir()
    (folder / "config.txt").write_text(PI_OS_CONFIG)
    (folder / "cmdline.txt").write_bytes(CMDLINE)
    (folder / "user-data").write_bytes(PI_OS_USER_DATA)
    (folder / "start4.elf").write_bytes(bytes(range(256)) * 64)
    boot = open_boot(folder)
    assert isinstance(boot, BootDirectory)
    write_card(boot, bundle, card)
    check_card(lambda name: (folder / name).read_bytes(),
               lambda sub: sorted(p.name for p in (folder / sub).iterdir()), card)
    assert not list(folder.rglob("*.tmp"))


def test_writing_a_card_again_replaces_it(disk_image, bundle, tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(SETTINGS)
    write_card(open_boot(disk_image), bundle, load_card(path))
    path.write_text(SETTINGS.replace("door-1", "door-2").replace("Venue Guest", "Hall"))
    second = load_card(path)
    write_card(open_boot(disk_image), bundle, second)
    offset = BOOT_START * 512
    assert tomllib.loads(mtools_read(disk_image, offset, "turnout/kiosk.toml").decode())["kiosk_id"] == "door-2"
    assert f'instance-id: "{second.instance_id}"'.encode() in mtools_read(disk_image, offset, "meta-data")
    assert b'"Hall"' in mtools_read(disk_image, offset, "network-config")
    assert mtools_read(disk_image, offset, "config.txt").count(b"dtparam=i2c_arm=on") == 1


def test_a_card_without_settings_has_no_secret(tmp_path, bundle):
    image = tmp_path / "boot.img"
    fat(image, 32768)
    raspberry_pi_os_files(image)
    lines = write_card(open_boot(image), bundle, load_card(None))
    assert "kiosk.toml" not in mtools_names(image, 0, "turnout")
    assert any("set-up mode" in line for line in lines)


def test_the_command_line_writes_a_card(disk_image, bundle, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TURNOUT_WIFI_PASSWORD", "from the environment")
    key = tmp_path / "id_ed25519.pub"
    key.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHc5c2V0dXA me@laptop\n")
    settings = tmp_path / "kiosk.toml"
    settings.write_text('kiosk_id = "door-3"\n')
    assert turnout_image(["write", str(disk_image), "--bundle", str(bundle), "--settings", str(settings),
                          "--wifi-ssid", "Hall", "--admin-user", "ops", "--admin-ssh-key", str(key)]) == 0
    out = capsys.readouterr().out
    assert "door-3" in out and "keep it safe" in out
    network = mtools_read(disk_image, BOOT_START * 512, "network-config")
    assert b'"Hall":\n          password: "from the environment"' in network
    assert b"me@laptop" in mtools_read(disk_image, BOOT_START * 512, "user-data")


def test_a_full_partition_says_so(tmp_path, bundle, card):
    image = tmp_path / "tiny.img"
    fat(image, 256)
    put(image, 0, "config.txt", b"")
    (bundle / "wheels/big-1.0-py3-none-any.whl").write_bytes(b"x" * 400_000)
    with pytest.raises(PartitionError, match="mcopy failed"):
        write_card(open_boot(image), bundle, card)


def test_an_incomplete_bundle_is_refused(tmp_path, bundle, card):
    (bundle / "wheels/turnout-0.1.0-py3-none-any.whl").unlink()
    with pytest.raises(PartitionError, match="not a complete bundle"):
        write_card(BootDirectory(tmp_path), bundle, card)


def test_a_fat_image_without_config_txt_is_not_a_boot_partition(tmp_path, bundle, card):
    image = tmp_path / "usb-stick.img"
    fat(image, 32768)
    with pytest.raises(PartitionError, match="no config.txt"):
        write_card(open_boot(image), bundle, card)


def test_gpt_images_are_refused(tmp_path):
    need("sfdisk", "fdisk")
    image = tmp_path / "gpt.img"
    with open(image, "wb") as fh:
        fh.truncate(16 * 1024 * 1024)
    subprocess.run(["sfdisk", "-q", str(image)], input="label: gpt\nstart=2048, type=uefi\n", text=True,
                   check=True, capture_output=True, timeout=60)
    with pytest.raises(PartitionError, match="GPT"):
        open_boot(image)


@pytest.mark.parametrize("name, data, words", [
    ("raspios.img.xz", b"\xfd7zXZ" + bytes(600), "uncompress"),
    ("notes.txt", b"hello" * 200, "neither a FAT"),
    ("empty.img", b"", "neither a FAT"),
])
def test_other_files_are_refused(tmp_path, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(PartitionError, match=words):
        open_boot(path)


def test_a_disk_image_with_no_fat_partition(tmp_path):
    sector = bytearray(512)
    sector[446 + 4] = 0x83  # one Linux partition
    sector[446 + 8:446 + 16] = (2048).to_bytes(4, "little") + (4096).to_bytes(4, "little")
    sector[510:512] = b"\x55\xaa"
    with pytest.raises(PartitionError, match="no FAT partition"):
        boot_partition_offset(bytes(sector))


def test_missing_target(tmp_path):
    with pytest.raises(PartitionError, match="does not exist"):
        open_boot(tmp_path / "nope.img")
