"""`make demo`: a broker, a hub with a sample season, and a simulated kiosk you type into.

Everything lives under ./var/. Uses the Mosquitto named by TURNOUT_BROKER if set, otherwise
starts one of its own on a free port. Stop with Ctrl-D (or Ctrl-C).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from turnout.local_broker import Broker, free_port

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
HUB_DB = VAR / "hub.db"
KIOSK_ID = "demo-kiosk"
DEMO_ADMIN_PASSWORD = "turnout-demo"  # demo only: a real hub sets one with `turnout-hub admin set-password`


def hub(*args: str, capture: bool = True) -> str:
    cmd = [sys.executable, "-m", "hub.cli", "--db", str(HUB_DB), *args]
    result = subprocess.run(cmd, cwd=ROOT, check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout or ""


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def wait_for_http(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the hub stopped while starting: see the messages above")
        if not port_free(port):
            return
        time.sleep(0.2)
    raise SystemExit("the hub did not start listening")


def todays_event() -> str:
    """The demo kiosk scans into an event dated today, created once."""
    today = date.today().isoformat()
    for line in hub("event", "list").splitlines():
        fields = line.split("\t")
        if len(fields) > 2 and fields[1] == today and fields[2].startswith("Demo Barcamp"):
            return fields[0]
    out = hub("event", "add", f"Demo Barcamp {today}", "--date", today, "--series", "Demo Barcamp",
              "--venue", "Your computer")
    return out.split()[-1]


def second_kiosk_command(broker_url: str, event: str, kiosk_id: str = "hall-2") -> str:
    """What to type in another terminal for a second simulated kiosk at the same demo."""
    return (f".venv/bin/turnout-kiosk --sim --kiosk-id {kiosk_id} --broker {broker_url} "
            f"--data-dir var/kiosk-{kiosk_id} --event {event}")


def main() -> int:
    VAR.mkdir(exist_ok=True)
    broker = None
    broker_url = os.environ.get("TURNOUT_BROKER")
    if not broker_url:
        broker = Broker(VAR / "mosquitto").start()
        broker_url = broker.url
    http_port = int(os.environ.get("TURNOUT_HTTP_PORT", "8080"))
    if not port_free(http_port):
        http_port = free_port()
    hub_proc = None
    try:
        if not HUB_DB.exists():
            print("Creating a sample hub with a season of events…", flush=True)
            hub("seed-sample", capture=False)
        event = todays_event()
        env = {**os.environ}
        env.setdefault("TURNOUT_HUB_ADMIN_PASSWORD", DEMO_ADMIN_PASSWORD)
        hub_proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "--db", str(HUB_DB), "serve",
                                     "--broker", broker_url, "--http", f"127.0.0.1:{http_port}"],
                                    cwd=ROOT, env=env)
        wait_for_http(http_port, hub_proc)
        hub("assign", KIOSK_ID, event)
        people = [line.split("\t") for line in hub("person", "list").splitlines()[:4]]
        web = f"http://127.0.0.1:{http_port}"
        print(f"""
  Turnout demo
  ────────────
  Hub web pages : {web}/
  Admin         : {web}/admin   (password: {env["TURNOUT_HUB_ADMIN_PASSWORD"]})
  JSON API      : {web}/api/v1/people/{people[0][0] if people else 'T5724'}   (OpenAPI: {web}/docs)
  Broker        : {broker_url}{'  (started for this demo)' if broker else ''}
  Event         : {event}   (today's; the kiosk below counts for it)
  Hub database  : {HUB_DB.relative_to(ROOT)}   (`make demo-reset` deletes var/ to start afresh)
  Results emails: {(HUB_DB.parent / "mail").relative_to(ROOT)}/   (a Maildir: close today's event in the admin, then mutt -f it)

  A second kiosk, in another terminal:
    {second_kiosk_command(broker_url, event)}

  Try these badges (sample people):""")
        for code, name, *_ in people:
            print(f"    {code:<8} {name}")
        print("  …or a code that is not a badge, e.g. 5012345678900, or a misread such as T5742.\n",
              flush=True)
        from kiosk.cli import main as kiosk_main
        return kiosk_main(["--sim", "--kiosk-id", KIOSK_ID, "--broker", broker_url,
                           "--data-dir", str(VAR / "kiosk"), "--event", event])
    finally:
        if hub_proc and hub_proc.poll() is None:
            hub_proc.terminate()
            hub_proc.wait(timeout=10)
        if broker:
            broker.stop()


if __name__ == "__main__":
    sys.exit(main())
