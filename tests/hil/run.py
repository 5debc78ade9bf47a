"""`make hil`: the kiosk's input paths on a real kernel (docs/kiosk.md, "Before a release").

On this machine: a broker and a hub; the cached VM image (image.py); a payload disk made for
this run (Turnout's wheel and kiosk unit as imaging/ bundles them for a card, the driver, the
cases and the webcam frames); the VM booted until it powers itself off. Then the hub's scans are
compared with what the driver typed and showed (cases.py): exactly those, no more, no fewer,
and nothing of the scanner's on the console. The table is printed and saved in build/hil/;
the serial console log is kept there when anything failed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np

from imaging.bundle import build_bundle
from tests.hil import vm
from tests.hil.cases import LAST_BADGE, RUNS
from tests.hil.image import build_image
from tests.hub.hubproc import HubProcess, cli, last_token
from tests.system.container import PI_INSTALL
from turnout.local_broker import Broker

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = ROOT / "build" / "hil"
KVM_BOOT_TIMEOUT = 90.0  # seconds for KVM to reach the run's script before TCG is tried instead
RUN_TIMEOUT = 900.0
# What the driver imports from tests/ (it runs with the payload's folder on its path).
SHARED_WITH_GUEST = ("tests/__init__.py", "tests/kiosk/sim.py", "tests/hil/__init__.py", "tests/hil/cases.py")
HELD_KEY = "a"  # the other keyboard's held key (driver.do_held): it is not grabbed, so it may reach tty1


def yuyv(grey: np.ndarray) -> bytes:
    """A grey frame as YUYV (4:2:2), what USB webcams send: Y from the frame, no colour."""
    packed = np.empty((grey.shape[0], grey.shape[1] * 2), dtype=np.uint8)
    packed[:, 0::2] = grey
    packed[:, 1::2] = 128
    return packed.tobytes()


def write_frames(folder: Path) -> None:
    """Camera frames of each webcam case's badges, from the camera tests' own generator."""
    from tests.kiosk.badge_images import badge_frame, scene

    folder.mkdir()
    rng = np.random.default_rng(15)
    (folder / "blank.yuyv").write_bytes(yuyv(scene(rng).astype(np.uint8)))
    for run in RUNS:
        for case in run.cases:
            if case.how == "show":
                for badge in case.codes:
                    frame = badge_frame(badge, case.options["symbology"], "clean", rng)
                    (folder / f"{badge}-{case.options['symbology']}.yuyv").write_bytes(yuyv(frame.image))


def make_payload(work: Path, broker_port: int, event: str) -> Path:
    """The run's disk: what the guest installs and runs (guest.sh), as an ext4 image."""
    folder = work / "payload"
    bundle = build_bundle(ROOT, work / "bundle", download=False)
    folder.mkdir()
    shutil.copytree(bundle.folder / "wheels", folder / "wheel")
    shutil.copytree(bundle.folder / "systemd", folder / "units")
    (folder / "pi-install.sh").write_text(PI_INSTALL)
    for name in ("guest.sh", "driver.py"):
        shutil.copy(HERE / name, folder / name)
    for name in SHARED_WITH_GUEST:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, folder / name)
    write_frames(folder / "frames")
    (folder / "params.json").write_text(json.dumps({"broker": f"mqtt://10.0.2.2:{broker_port}", "event": event}))
    image = work / "payload.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "hil", "-d", str(folder), str(image), "64M"], check=True)
    return image


def hub_scans(db: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The hub's scans as (kiosk, badge, role), and the (kiosk, reason) of each message it refused."""
    with sqlite3.connect(db) as conn:
        scans = conn.execute("SELECT kiosk, badge, role FROM scans").fetchall()
        refused = conn.execute("SELECT kiosk, reason FROM quarantine").fetchall()
    return scans, refused


def table(records: list[dict], scans: list[tuple], refused: list[tuple]
          ) -> tuple[list[tuple[str, str, str, str, bool]], bool]:
    """Rows of (case, expected, received, scan->ack ms, ok); all ok?"""
    by_case = {(r["run"], r["case"]): r for r in records if "case" in r}
    rows = []
    claimed: set[int] = set()
    for run in RUNS:
        for case in run.cases:
            record = by_case.get((run.kiosk_id, case.name), {})
            badges = {badge for badge, _ in case.expected}
            mine = [i for i, s in enumerate(scans) if s[0] == run.kiosk_id and s[1] in badges]
            claimed.update(mine)
            received = sorted((scans[i][1], scans[i][2]) for i in mine)
            ok = received == sorted(case.expected) and not record.get("error")
            acked = [ms for ms in record.get("acked_ms", []) if ms is not None]
            ms = f"{statistics.median(acked):.0f} (max {max(acked)})" if acked else "-"
            note = f" [{record['error']}]" if record.get("error") else ""
            rows.append((f"{run.kiosk_id}: {case.name}", _scans(case.expected), _scans(received) + note, ms, ok))
    extra = [scans[i] for i in range(len(scans)) if i not in claimed]
    reasons = Counter(reason.split(":")[0] for _, reason in refused)
    said = [f"{n} refused ({reason})" for reason, n in reasons.items()] + ["/".join(s) for s in extra]
    rows.append(("anything else at the hub", "nothing", _cut(", ".join(said)) or "nothing", "-", not said))
    control = next((r["control"] for r in records if "control" in r), None)
    rows.append(("tty1 without the kiosk (control)", repr("hil"), _cut(repr(control)), "-", control == "hil"))
    console = "".join(r.get("console", "") for r in records if "control" not in r)
    leaked = console.replace(HELD_KEY, "")
    rows.append(("tty1 while the kiosk runs (grab held)", "nothing of the scanner's",
                 _cut(repr(leaked)) if leaked else f"nothing (other keyboard: {console.count(HELD_KEY)} '{HELD_KEY}')",
                 "-", not leaked))
    done = any(r.get("done") for r in records)
    if not done:
        rows.append(("driver finished", "yes", "no: see console.log", "-", False))
    return rows, all(row[-1] for row in rows)


def _scans(scans) -> str:
    return _cut(f"{len(scans)}: " + " ".join(b if role == "attend" else f"{b}/{role}" for b, role in scans))


def _cut(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def render(rows, timings: dict[str, float], notes: list[str] = ()) -> str:
    head = ("case", "expected", "received", "scan→ack ms", "")
    cells = [head] + [(c, e, r, m, "ok" if ok else "FAIL") for c, e, r, m, ok in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines += [f"note: {note}" for note in notes]
    lines.append("timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    started = time.monotonic()
    print("hil: the VM image (built once, several minutes; then cached under build/)", flush=True)
    with open(OUT / "image-build.log", "wb") as log:
        try:
            image = build_image(log=log)
        except subprocess.CalledProcessError:
            print((OUT / "image-build.log").read_text(errors="replace")[-3000:])
            raise
    timings["image"] = time.monotonic() - started
    with tempfile.TemporaryDirectory(prefix="hil-") as tmp:
        work = Path(tmp)
        broker = Broker(work / "broker").start()
        hub = None
        try:
            db = work / "hub.db"
            event = last_token(cli(db, "event", "add", "HIL Camp", "--date", date.today().isoformat(),
                                   "--venue", "a virtual machine"))
            for run in RUNS:
                cli(db, "assign", run.kiosk_id, event)
            cli(db, "person", "blank", str(LAST_BADGE))  # the hub counts only badges it issued
            hub = HubProcess(db, broker.url, work / "hub.log").start()
            t = time.monotonic()
            payload = make_payload(work, broker.port, event)
            timings["payload"] = time.monotonic() - t
            console, results = work / "console.log", work / "results.jsonl"
            t = time.monotonic()
            try:
                accel = boot(image, payload, console, results, args.accel)
            except AssertionError as exc:  # the VM hung or qemu failed: the table says so, the console is kept
                accel = f"failed: {exc}"
            timings[f"VM ({accel[:60]})"] = time.monotonic() - t
            records = [json.loads(line) for line in results.read_text(errors="replace").splitlines()
                       if line.startswith("{")] if results.exists() else []
            time.sleep(2)  # the last acks are in; the hub has committed what it acked
            rows, ok = table(records, *hub_scans(db))
        finally:
            if hub:
                hub.stop()
            broker.stop()
        timings["total"] = time.monotonic() - started
        text = render(rows, timings, [n for r in records for n in r.get("notes", [])])
        print(text)
        (OUT / "results.txt").write_text(text)
        (OUT / "results.jsonl").write_text(results.read_text(errors="replace"))
        kept = OUT / "console.log"
        kept.unlink(missing_ok=True)
        if not ok:
            shutil.copy(console, kept)
            shutil.copy(work / "hub.log", OUT / "hub.log")
            print(f"hil: FAILED; the VM's serial console is in {kept}")
        return 0 if ok else 1


def boot(image, payload: Path, console: Path, results: Path, accel: str) -> str:
    """Boots with KVM where it works (it reaches the run's script in time), else with TCG."""
    for choice in (vm.accelerators() if accel == "auto" else [accel]):
        for path in (console, results):
            path.unlink(missing_ok=True)
        print(f"hil: booting the VM ({choice})", flush=True)
        machine = vm.VM(image, payload, console, results, choice)
        if choice == "kvm" and accel == "auto" and not machine.reaches_guest(KVM_BOOT_TIMEOUT):
            machine.kill()
            print("hil: KVM did not boot this kernel; using TCG", flush=True)
            continue
        machine.wait(RUN_TIMEOUT)
        return choice
    raise RuntimeError("no accelerator booted the VM")


if __name__ == "__main__":
    sys.exit(main())
