"""The test VM's disk image, kernel and initrd, built once and kept under build/.

Two Debian Trixie trees (tests/system/rootfs.py): one with the kernel's headers where Debian's
v4l2loopback-dkms builds its module, and the VM's own with the kernel, udev, the kiosk's
dependencies and that module. The VM's tree becomes an ext4 image with ``mkfs.ext4 -d`` (no
loop mount); the kernel and initrd are copied out beside it. Turnout itself is not in the
image: each run brings its wheel on a second disk (run.py).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.system.rootfs import PACKAGES, ROOT, Tree, build_rootfs, requirements

HERE = Path(__file__).resolve().parent
HIL_UNIT = HERE / "turnout-hil.service"

# Debian builds the module for the kernel whose headers are installed; its .ko lands in /hil-out/<kernel>/.
MODULES = Tree("hil-modules", ("linux-headers-amd64", "v4l2loopback-dkms", "dkms", "gcc", "make", "libc6-dev",
                               "kmod"), hooks=("""set -eu
    kernel=$(ls "$1/usr/src" | sed -n 's/^linux-headers-\\(.*-amd64\\)$/\\1/p' | head -n1)
    version=$(ls -d "$1"/usr/src/v4l2loopback-* | head -n1 | sed 's/.*v4l2loopback-//')
    built=$(find "$1/var/lib/dkms/v4l2loopback" -name 'v4l2loopback.ko*' -path "*/$kernel/*" | head -n1)
    if [ -z "$built" ]; then
        chroot "$1" dkms build -m v4l2loopback -v "$version" -k "$kernel"
        built=$(find "$1/var/lib/dkms/v4l2loopback" -name 'v4l2loopback.ko*' -path "*/$kernel/*" | head -n1)
    fi
    mkdir -p "$1/hil-out/$kernel"
    cp "$built" "$1/hil-out/$kernel/"
""",))

# Not Mosquitto (the broker runs on the host); udev for /dev/input/by-id and device groups,
# zbar for pyzbar, the kernel with its initramfs.
VM_PACKAGES = tuple(p for p in PACKAGES if p != "mosquitto") + (
    "udev", "kmod", "libzbar0", "linux-image-amd64", "initramfs-tools", "iproute2")

NETWORK = """[Match]
Name=en*
[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
"""


def vm_tree(modules: Path) -> Tree:
    return Tree("hil-vm", VM_PACKAGES, tuple(requirements("camera")), hooks=(
        f"""set -eu
        kernel=$(ls "$1/lib/modules" | head -n1)
        test -d "{modules}/hil-out/$kernel" || {{ echo "no v4l2loopback built for kernel $kernel"; exit 1; }}
        mkdir -p "$1/lib/modules/$kernel/updates"
        cp "{modules}/hil-out/$kernel/"* "$1/lib/modules/$kernel/updates/"
        chroot "$1" depmod "$kernel"
        """,
        # qemu's user network: the guest is 10.0.2.15, the host's loopback is 10.0.2.2
        f"printf '%s' {_quoted(NETWORK)} > \"$1/etc/systemd/network/10-qemu.network\"",
        "chroot \"$1\" systemctl enable systemd-networkd",
        "echo turnout-hil > \"$1/etc/hostname\"",
        # tty1 is the console the grab must keep the scanner's keys from: the run reads it itself
        "chroot \"$1\" systemctl mask getty@tty1.service",
        "chroot \"$1\" passwd -d root",  # a failed run's serial console can be logged into
        f"cp {HIL_UNIT} \"$1/etc/systemd/system/\" && chroot \"$1\" systemctl enable turnout-hil.service",
    ))


def _one(root: Path, pattern: str) -> Path:
    found = sorted(root.glob(pattern))
    if len(found) != 1:
        raise RuntimeError(f"expected one {pattern} in {root}, found {[p.name for p in found]}")
    return found[0]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@dataclass(frozen=True)
class Image:
    disk: Path
    kernel: Path
    initrd: Path


def build_image(build_dir: Path = ROOT / "build", log=None) -> Image:
    """The VM's disk, kernel and initrd: built if missing (several minutes), else the cached ones."""
    modules = build_rootfs(build_dir, log, MODULES)
    tree = vm_tree(modules)
    root = build_rootfs(build_dir, log, tree, inputs=(modules.name, HIL_UNIT.read_text()))
    out = build_dir / "hil" / f"image-{hashlib.sha256(root.name.encode()).hexdigest()[:12]}"
    image = Image(out / "disk.img", out / "vmlinuz", out / "initrd.img")
    if (out / ".complete").exists():
        return image
    shutil.rmtree(out.parent / "image-partial", ignore_errors=True)
    partial = out.parent / "image-partial"
    partial.mkdir(parents=True)
    kernel = _one(root, "boot/vmlinuz-*")
    shutil.copyfile(kernel, partial / "vmlinuz")
    shutil.copyfile(_one(root, "boot/initrd.img-" + kernel.name.removeprefix("vmlinuz-")), partial / "initrd.img")
    used = int(subprocess.run(["du", "-sb", str(root)], capture_output=True, text=True, check=True).stdout.split()[0])
    size_mb = used * 3 // 2 // 2**20 + 512  # room for the wheel, the journal and the kiosk's data
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "turnout", "-d", str(root), str(partial / "disk.img"), f"{size_mb}M"],
                   check=True, stdout=log, stderr=subprocess.STDOUT if log else None)
    for old in out.parent.glob("image-*"):
        if old.is_dir() and old != partial:
            shutil.rmtree(old, ignore_errors=True)
    (partial / ".complete").write_text(root.name + "\n")
    partial.rename(out)
    return image


if __name__ == "__main__":
    print(build_image())
