"""The test VM: qemu boots the cached image's kernel on its disk (``snapshot=on``: the image
stays as built), with the run's payload as a second disk, the serial console kept in a file, and
a second serial port for the driver's results. KVM when /dev/kvm can boot it, else TCG."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.hil.image import Image

APPEND = ("root=/dev/vda rw console=ttyS0 loglevel=4 "
          # nothing the run needs, and slow to start under TCG
          "systemd.mask=systemd-logind.service systemd.mask=apt-daily.timer systemd.mask=apt-daily-upgrade.timer "
          "systemd.mask=dpkg-db-backup.timer systemd.mask=fstrim.timer systemd.mask=e2scrub_all.timer")
GUEST_UP = b"hil: guest up"  # guest.sh's first line


def accelerators() -> list[str]:
    """KVM first where the machine offers it (it may still fail to boot a stock kernel), then TCG."""
    kvm = Path("/dev/kvm")
    return (["kvm"] if kvm.exists() and os.access(kvm, os.R_OK | os.W_OK) else []) + ["tcg"]


class VM:
    def __init__(self, image: Image, payload: Path, console: Path, results: Path, accel: str):
        self.console = console
        args = ["qemu-system-x86_64", "-accel", accel, "-cpu", "host" if accel == "kvm" else "max",
                "-m", "1024", "-smp", "2", "-display", "none", "-monitor", "none", "-no-reboot",
                "-kernel", str(image.kernel), "-initrd", str(image.initrd), "-append", APPEND,
                "-drive", f"file={image.disk},if=virtio,format=raw,snapshot=on",
                "-drive", f"file={payload},if=virtio,format=raw,readonly=on",
                "-nic", "user,model=virtio-net-pci",
                "-serial", f"file:{console}", "-serial", f"file:{results}"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def reaches_guest(self, timeout: float, first_words: float = 20.0) -> bool:
        """Has the run's script started inside within `timeout` seconds (and the kernel said
        anything at all within `first_words`: where KVM cannot run it, it hangs silent)?"""
        started = time.monotonic()
        while time.monotonic() < started + timeout and self.proc.poll() is None:
            said = self.console.read_bytes() if self.console.exists() else b""
            if GUEST_UP in said:
                return True
            if not said and time.monotonic() > started + first_words:
                return False
            time.sleep(1)
        return False

    def wait(self, timeout: float) -> int:
        """Until the guest powers itself off (its run ends so, pass or fail), or `timeout`."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the VM was still running after {timeout:.0f} s") from None
        if self.proc.returncode != 0:
            raise AssertionError(f"qemu failed ({self.proc.returncode}): {self.proc.stdout.read().decode()[-2000:]}")
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
