"""A Raspberry Pi OS boot partition to read and write: a directory (an SD card the computer
mounted), a FAT image, or the FAT partition inside a whole disk image. Images are changed with
mtools (``-i IMAGE@@OFFSET``): no root, no loop devices."""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

SECTOR = 512
# MBR partition types of FAT file systems (Raspberry Pi OS's boot partition is type 0x0c).
FAT_TYPES = {0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E}
GPT_PROTECTIVE = 0xEE


class PartitionError(ValueError):
    """Not something we can write a card into; the message says what it is and what to do."""


def boot_partition_offset(first_sector: bytes) -> int:
    """Where the FAT boot partition starts, in bytes: 0 for a bare FAT image, else the first
    FAT partition in the MBR partition table."""
    if len(first_sector) < SECTOR or first_sector[510:512] != b"\x55\xaa":
        raise PartitionError("neither a FAT file system nor a disk image with a partition table")
    if first_sector[0x52:0x5A] == b"FAT32   " or first_sector[0x36:0x39] == b"FAT":
        return 0
    for i in range(4):
        entry = first_sector[446 + 16 * i: 446 + 16 * (i + 1)]
        kind = entry[4]
        start, sectors = struct.unpack("<II", entry[8:16])
        if kind == GPT_PROTECTIVE:
            raise PartitionError("a GPT disk image: Raspberry Pi OS images use an MBR partition table")
        if kind in FAT_TYPES and sectors:
            return start * SECTOR
    raise PartitionError("a disk image with no FAT partition: is it a Raspberry Pi OS image?")


class BootDirectory:
    """A boot partition as a directory: a mounted SD card, or build/image/boot to copy later."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    def read(self, name: str) -> bytes | None:
        try:
            return (self.path / name).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, name: str, data: bytes) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)  # a card pulled out mid-write keeps the old file or the new

    def copy_in(self, files: list[Path], folder: str) -> None:
        for file in files:
            self.write(f"{folder}/{file.name}", file.read_bytes())


class FatImage:
    """The FAT file system in an image file, at a byte offset (a whole .img) or at 0."""

    def __init__(self, image: Path | str, offset: int = 0):
        self.image = Path(image)
        self.offset = offset

    def __str__(self) -> str:
        return f"{self.image} (FAT at byte {self.offset})" if self.offset else str(self.image)

    @property
    def _drive(self) -> str:
        return f"{self.image}@@{self.offset}" if self.offset else str(self.image)

    def read(self, name: str) -> bytes | None:
        done = self._mtools(["mtype", "-i", self._drive, f"::/{name}"], check=False)
        if done.returncode != 0:
            if b"not found" in done.stderr.lower() or b"no such file" in done.stderr.lower():
                return None
            raise PartitionError(f"mtype could not read {name} from {self}: {_said(done)}")
        return done.stdout

    def write(self, name: str, data: bytes) -> None:
        folder, _, _ = name.rpartition("/")
        if folder:
            self._folder(folder)
        self._mtools(["mcopy", "-o", "-i", self._drive, "-", f"::/{name}"], stdin=data)

    def copy_in(self, files: list[Path], folder: str) -> None:
        if not files:
            return
        self._folder(folder)
        self._mtools(["mcopy", "-o", "-i", self._drive, *map(str, files), f"::/{folder}/"])

    def _folder(self, folder: str) -> None:
        path = ""
        for part in folder.split("/"):
            path = f"{path}/{part}"
            listed = self._mtools(["mdir", "-b", "-i", self._drive, f"::{path}"], check=False)
            if listed.returncode != 0:
                self._mtools(["mmd", "-i", self._drive, f"::{path}"])

    def _mtools(self, args: list[str], stdin: bytes | None = None, check: bool = True):
        # Raspberry Pi OS's FAT geometry is fine for Linux but not what mtools expects of a floppy.
        env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
        try:
            done = subprocess.run(args, input=stdin, capture_output=True, env=env, timeout=300)
        except FileNotFoundError:
            raise PartitionError(f"{args[0]} is not installed (Debian: apt install mtools)") from None
        if check and done.returncode != 0:
            raise PartitionError(f"{args[0]} failed on {self}: {_said(done)}")
        return done


def open_boot(target: Path | str) -> BootDirectory | FatImage:
    """The boot partition at `target`: a directory, a FAT image or a whole disk image."""
    target = Path(target)
    if target.is_dir():
        return BootDirectory(target)
    if not target.exists():
        raise PartitionError(f"{target} does not exist")
    if target.suffix in (".xz", ".zip", ".gz"):
        raise PartitionError(f"{target} is compressed: uncompress it first (xz -dk {target.name})")
    with open(target, "rb") as fh:
        first = fh.read(SECTOR)
    return FatImage(target, boot_partition_offset(first))


def _said(done: subprocess.CompletedProcess) -> str:
    text = (done.stderr or done.stdout or b"").decode("utf-8", "replace").strip()
    return text.splitlines()[-1] if text else f"exit status {done.returncode}"
