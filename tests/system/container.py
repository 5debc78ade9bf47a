"""A booted Debian Trixie container (systemd-nspawn -b) to run Turnout's real units in.

There is no system D-Bus on a build machine, so the container is started with
``--register=no --keep-unit`` and driven with ``nsenter`` into its PID 1's namespaces rather
than machinectl. ``--volatile=overlay`` keeps the cached rootfs untouched: each boot starts clean.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

BOOT_TIMEOUT = 60.0
# What a Pi's first boot does: the user and its groups, the package, the units. `sh -eu` with
# the wheel's directory as $1 and the units' as $2 (also run inside tests/hil's VM).
PI_INSTALL = """
groupadd --system --force gpio
groupadd --system --force i2c
groupadd --system --force input
id turnout >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/turnout \\
    --no-create-home --shell /usr/sbin/nologin turnout
/opt/turnout/.venv/bin/pip install --quiet --no-deps --no-index "$1"/*.whl
find "$2" -maxdepth 1 -type f \\( -name '*.service' -o -name '*.path' \\) -exec cp -t /etc/systemd/system/ {} +
mkdir -p /etc/turnout
systemctl daemon-reload
"""


class Container:
    def __init__(self, rootfs: Path, log: Path, binds: dict[Path, str]):
        self.rootfs, self.log_path = rootfs, log
        self.binds = binds
        self.proc: subprocess.Popen | None = None
        self.pid1: int | None = None
        self.booted_in: float | None = None

    def boot(self) -> "Container":
        args = ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--volatile=overlay",
                "--console=read-only", "-D", str(self.rootfs), "--hostname=turnout-test"]
        args += [f"--bind-ro={host}:{inside}" for host, inside in self.binds.items()]
        self._log = open(self.log_path, "wb")
        started = time.monotonic()
        self.proc = subprocess.Popen(args + ["-b"], stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = started + BOOT_TIMEOUT
        while self.pid1 is None:
            self._check_alive(deadline)
            self.pid1 = _container_init(self.proc.pid)
            time.sleep(0.05)
        state = ""
        while state not in ("running", "degraded"):
            self._check_alive(deadline)
            state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
            time.sleep(0.1)
        self.booted_in = time.monotonic() - started
        return self

    def _check_alive(self, deadline: float) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"systemd-nspawn exited ({self.proc.returncode}):\n{self.console()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the container did not boot in {BOOT_TIMEOUT:.0f} s:\n{self.console()}")

    def console(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def run(self, *args: str, check: bool = True, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        """A command inside the container, as root."""
        done = subprocess.run(["nsenter", "-t", str(self.pid1), "-a", "--", *args], capture_output=True,
                              text=True, input=input, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"in the container, {' '.join(args)} failed ({done.returncode}):\n"
                                 f"{done.stdout}{done.stderr}")
        return done

    def sh(self, script: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.run("sh", "-euc", script, check=check, timeout=timeout)

    def write(self, path: str, text: str) -> None:
        self.run("sh", "-euc", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "-", path, input=text)

    def journal(self, unit: str | None = None) -> str:
        return self.run("journalctl", "-b", "--no-pager", "-o", "short-monotonic",
                        *(["-u", unit] if unit else []), check=False).stdout

    def show(self, unit: str, prop: str) -> str:
        return self.run("systemctl", "show", "-p", prop, "--value", unit, check=False).stdout.strip()

    def stop(self) -> None:
        """Kill the container's PID 1 (the kernel ends everything in it), then nspawn."""
        if self.pid1 is not None:
            try:
                os.kill(self.pid1, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if getattr(self, "_log", None):
            self._log.close()


def _container_init(nspawn_pid: int) -> int | None:
    """The descendant of systemd-nspawn that is PID 1 in its own PID namespace."""
    children = {nspawn_pid}
    seen: set[int] = set()
    while children:
        pid = children.pop()
        seen.add(pid)
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
        if pid != nspawn_pid and len(nspid) > 1 and nspid[-1] == "1":
            return pid
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            kids = []
        children.update(int(k) for k in kids if int(k) not in seen)
    return None
