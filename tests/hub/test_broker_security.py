"""A real Mosquitto run from the configuration `turnout-hub broker-config` writes: logins, the
ACL and TLS do what docs/operating.md promises. Each kiosk speaks only for itself; only the hub
speaks for the hub."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
import os
import ssl
import subprocess
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.broker.accounts import BrokerAccounts
from hub.broker.files import HUB_USER, Listeners
from hub.broker.tls import self_signed
from hub.ingest import Ingest
from hub.store import Store
from tests.hub.kiosks import TOPICS, make_scan
from turnout.broker_url import BrokerURL
from turnout.local_broker import MOSQUITTO, free_port


class Client:
    """A paho client that records what it receives and whether it is connected."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None,
                 client_id: str | None = None, ca: str | None = None, tls: bool = False):
        self.received: list[tuple[str, bytes]] = []
        self.connected, self.refused, self.lost = threading.Event(), None, threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"t-{uuid.uuid4().hex[:8]}")
        if username:
            self.client.username_pw_set(username, password)
        if tls:
            self.client.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.lost.set()
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, m.payload))
        self.client.connect("localhost", port)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self.refused = reason_code
            self.lost.set()
        else:
            self.connected.set()

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(5)

    def publish(self, topic: str, payload: bytes = b"{}", retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def secured(tmp_path):
    """A broker from broker-config: plain on loopback, TLS with a self-made CA; kiosks A and B."""
    accounts = BrokerAccounts(tmp_path / "broker")
    tls = self_signed(accounts.dir / "tls", ["localhost", "127.0.0.1"])
    port, tls_port = free_port(), free_port()
    login = accounts.write_config(Listeners(port=port, bind="127.0.0.1", tls_port=tls_port,
                                            certfile=tls.cert, keyfile=tls.key),
                                  hub_broker=f"mqtt://127.0.0.1:{port}",
                                  kiosk_broker=f"mqtts://localhost:{tls_port}", kiosk_ca=str(tls.ca))
    passwords = {k: accounts.add_kiosk(k) for k in ("kiosk-a", "kiosk-b")}
    if os.geteuid() == 0:  # as root Mosquitto would become the mosquitto user, who cannot read the test's files
        with open(accounts.dir / "mosquitto.conf", "a") as conf:
            conf.write("user root\n")
    log = open(tmp_path / "mosquitto.log", "wb")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(accounts.dir / "mosquitto.conf")], stdout=log, stderr=log)
    probe = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "mosquitto.log").read_text()
        try:
            probe = Client(port, HUB_USER, login.password)
            if probe.connected.wait(1):
                break
        except OSError:
            time.sleep(0.1)
    probe.close()
    clients: list[Client] = []

    def connect(user: str | None, password: str | None = None, **kw) -> Client:
        c = Client(kw.pop("at", port), user, password if password is not None else passwords.get(user), **kw)
        clients.append(c)
        return c

    yield dict(accounts=accounts, port=port, tls_port=tls_port, ca=str(tls.ca), hub=login,
               passwords=passwords, connect=connect, log=tmp_path / "mosquitto.log")
    for c in clients:
        c.close()
    proc.terminate()
    proc.wait(10)


def refused(client: Client) -> bool:
    client.lost.wait(5)
    return client.refused is not None or not client.connected.is_set()


def test_anonymous_and_wrong_passwords_are_refused(secured):
    assert refused(secured["connect"](None))
    assert refused(secured["connect"]("kiosk-a", "not the password"))
    assert refused(secured["connect"]("nobody", "whatever-password"))
    assert secured["connect"]("kiosk-a").connected.wait(5)


def test_a_kiosk_speaks_only_for_itself(secured):
    connect = secured["connect"]
    hub = connect(HUB_USER, secured["hub"].password)
    assert hub.connected.wait(5)
    hub.subscribe(TOPICS.all_scans)
    hub.subscribe(TOPICS.all_statuses)
    b = connect("kiosk-b")
    assert b.connected.wait(5)
    for topic in (TOPICS.ack("kiosk-b"), TOPICS.config("kiosk-b"), TOPICS.hub_status):
        b.subscribe(topic)
    a = connect("kiosk-a")
    assert a.connected.wait(5)
    a.subscribe(TOPICS.ack("kiosk-b"))  # reading another kiosk's acks: allowed to ask, never delivered
    a.publish(TOPICS.scan("kiosk-b"), b'{"forged": "scan"}')
    a.publish(TOPICS.status("kiosk-b"), b'{"forged": "status"}')
    a.publish(TOPICS.ack("kiosk-b"), b'{"forged": "ack"}')  # would empty B's outbox
    a.publish(TOPICS.config("kiosk-b"), b'{"forged": "config"}', retain=True)
    a.publish(TOPICS.hub_status, b'{"forged": "hub status"}', retain=True)
    a.publish(TOPICS.scan("kiosk-a"), b'{"own": "scan"}')
    hub.publish(TOPICS.ack("kiosk-b"), b'{"real": "ack"}')
    time.sleep(1)
    assert hub.received == [(TOPICS.scan("kiosk-a"), b'{"own": "scan"}')]
    assert b.received == [(TOPICS.ack("kiosk-b"), b'{"real": "ack"}')]
    assert a.received == []


def test_a_kiosk_login_cannot_take_over_the_hubs_session(secured):
    hub = secured["connect"](HUB_USER, secured["hub"].password, client_id="turnout-hub")
    assert hub.connected.wait(5)
    thief = secured["connect"]("kiosk-a", client_id="turnout-hub")  # the hub's client id
    assert thief.connected.wait(5)
    assert not hub.lost.wait(1.5), "the hub was disconnected by a kiosk reusing its client id"


def test_kiosks_use_tls_and_pin_the_hubs_ca(secured):
    over_tls = secured["connect"]("kiosk-a", at=secured["tls_port"], tls=True, ca=secured["ca"])
    assert over_tls.connected.wait(5)
    with pytest.raises(ssl.SSLError):  # the system's CAs do not know the hub's own CA
        secured["connect"]("kiosk-a", at=secured["tls_port"], tls=True)


def test_logins_added_rotated_and_removed_apply_to_the_running_broker(secured):
    accounts, connect = secured["accounts"], secured["connect"]
    password = accounts.add_kiosk("kiosk-c")  # the broker reloads (SIGHUP)
    time.sleep(0.5)
    assert connect("kiosk-c", password).connected.wait(5)
    new = accounts.rotate_kiosk("kiosk-c")
    time.sleep(0.5)
    assert refused(connect("kiosk-c", password)) and connect("kiosk-c", new).connected.wait(5)
    accounts.remove_kiosk("kiosk-c")
    time.sleep(0.5)
    assert refused(connect("kiosk-c", new))
    assert "kiosk-c" not in (accounts.dir / "acl").read_text()
    with pytest.raises(ValueError):
        accounts.add_kiosk(HUB_USER)  # nobody gets the hub's own login


def test_the_hub_and_a_kiosk_work_end_to_end_with_their_logins(hub_db, secured, tmp_path):
    store = Store(hub_db)
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    login = secured["accounts"].hub_login()
    broker = BrokerURL.parse(login.broker)
    ingest = Ingest(store, BrokerURL(broker.host, broker.port, broker.tls, login.username, login.password)).start()
    try:
        assert ingest.connected.wait(10)
        kiosk = secured["connect"]("kiosk-a", at=secured["tls_port"], tls=True, ca=secured["ca"])
        assert kiosk.connected.wait(5)
        kiosk.subscribe(TOPICS.ack("kiosk-a"))
        scan = make_scan("kiosk-a", event.id, ada.badge)
        kiosk.publish(TOPICS.scan("kiosk-a"), scan.to_json())
        deadline = time.monotonic() + 10
        while not kiosk.received and time.monotonic() < deadline:
            time.sleep(0.05)
        [(topic, payload)] = kiosk.received
        assert json.loads(payload)["status"] == "accepted" and store.count_scans() == 1
    finally:
        ingest.stop()
        store.close()


def test_a_real_kiosk_set_up_from_its_printed_settings_or_its_login_card_syncs_over_tls(hub_db, secured, tmp_path):
    """The whole path an organiser takes: `kiosk add` prints the settings (and the card); a kiosk
    given either one logs in over TLS, pinning the hub's CA, and its scans reach the real hub."""
    from tests.hub.hubproc import cli
    from tests.kiosk.sim import KioskProcess, wait_for
    from turnout.codes import LoginCard, classify

    db = hub_db
    store = Store(db)
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", date.today().isoformat())
    login = secured["accounts"].hub_login()
    broker = BrokerURL.parse(login.broker)
    ingest = Ingest(store, BrokerURL(broker.host, broker.port, broker.tls, login.username, login.password)).start()
    kiosks = []
    try:
        assert ingest.connected.wait(10)
        broker_dir = str(secured["accounts"].dir)
        # 1. The printed settings, as /etc/turnout/kiosk.toml
        settings = cli(db, "--broker-dir", broker_dir, "kiosk", "add", "door-1").stdout
        assert "broker_password" in settings and "BEGIN CERTIFICATE" in settings
        (tmp_path / "kiosk.toml").write_text(settings)
        first = KioskProcess(None, tmp_path / "door-1", kiosk_id=None, event=event.id,
                             extra=["--config", str(tmp_path / "kiosk.toml"), "-v"])
        kiosks.append(first)
        first.wait_online()
        assert any("mqtts://door-1@localhost" in e for e in first.errors)
        first.type(ada.badge)
        first.expect_tone("ok")
        wait_for(lambda: store.count_scans() == 1, "door-1's scan at the hub")
        # 2. The login card, shown to a kiosk fresh out of the box (set-up mode at first boot)
        cli(db, "--broker-dir", broker_dir, "kiosk", "add", "door-2", "--card", str(tmp_path / "card.pdf"))
        card_text = _decoded_card(tmp_path / "card.pdf")
        assert isinstance(classify(card_text), LoginCard)
        fresh = KioskProcess(None, tmp_path / "door-2", kiosk_id=None, event=None, extra=["-v"])
        kiosks.append(fresh)
        fresh.type(card_text)
        fresh.expect_tone("ok")
        wait_for(lambda: any("online: connected to mqtts://door-2@localhost" in e for e in fresh.errors),
                 "the kiosk back as door-2, over TLS")
        assert not any("s3cret" in e or card_text[20:] in e for e in fresh.errors)  # no secret logged
        store.assign_kiosk("door-2", event.id)  # the hub tells it its event
        wait_for(lambda: any("config from hub" in e for e in fresh.errors), "door-2 configured by the hub")
        fresh.type(ada.badge)
        wait_for(lambda: store.count_scans() == 2, "door-2's scan at the hub")
        assert {s["kiosk"] for s in store.scans()} == {"door-1", "door-2"}
    finally:
        for k in kiosks:
            k.close()
        ingest.stop()
        store.close()


def _decoded_card(pdf) -> str:
    """The QR code on a printed card, read back as a camera or 2D scanner would."""
    import pypdfium2 as pdfium
    from pyzbar import pyzbar

    page = pdfium.PdfDocument(str(pdf))[0].render(scale=200 / 72).to_pil()
    [symbol] = [s for s in pyzbar.decode(page) if s.type == "QRCODE"]
    return symbol.data.decode()


def test_a_kiosk_whose_login_is_rotated_is_shown_offline_though_the_broker_sends_no_will(secured, tmp_path):
    """Mosquitto drops a client whose password a reload changed without sending its last will."""
    from hub.cli import main as hub_cli
    from turnout.mqtt import connect as mqtt_connect, make_client
    from turnout.protocol import KIOSK_SILENT_SECONDS

    db = tmp_path / "hub.sqlite"
    store = Store(db)
    login = secured["accounts"].hub_login()
    broker = BrokerURL.parse(login.broker)
    ingest = Ingest(store, BrokerURL(broker.host, broker.port, broker.tls, login.username, login.password)).start()
    kiosk = make_client("kiosk-a", BrokerURL("127.0.0.1", secured["port"]), TOPICS.status("kiosk-a"),
                        b'{"v":1,"state":"offline"}', "kiosk-a", secured["passwords"]["kiosk-a"])
    lost = threading.Event()
    kiosk.on_disconnect = lambda *a: lost.set()
    try:
        assert ingest.connected.wait(10)
        mqtt_connect(kiosk, BrokerURL("127.0.0.1", secured["port"]))
        kiosk.publish(TOPICS.status("kiosk-a"), b'{"v":1,"state":"online","queued":0}', qos=1, retain=True)
        deadline = time.monotonic() + 10
        while (store.kiosk("kiosk-a") is None or store.kiosk("kiosk-a").state != "online") \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.kiosk("kiosk-a").state == "online"
        assert hub_cli(["--db", str(db), "--broker-dir", str(secured["accounts"].dir),
                        "kiosk", "rotate", "kiosk-a"]) in (0, None)
        assert lost.wait(10)  # the broker dropped the kiosk on reload
        time.sleep(1)  # no last will arrives; the hub knows from the rotation itself
        assert store.kiosk("kiosk-a").state == "offline"
        assert "kiosk-a\toffline" in [line for line in _kiosk_list(db)][0]
    finally:
        kiosk.loop_stop()
        ingest.stop()
        store.close()
    # And a kiosk the hub has not heard from for KIOSK_SILENT_SECONDS is offline, whatever it said last.
    store = Store(db)
    try:
        heard = datetime.now(timezone.utc) - timedelta(seconds=KIOSK_SILENT_SECONDS + 1)
        store.record_kiosk_status("kiosk-b", "online", seen_at=heard.isoformat().replace("+00:00", "Z"))
        assert store.kiosk("kiosk-b").state == "offline"
        store.record_kiosk_status("kiosk-b", "online")
        assert store.kiosk("kiosk-b").state == "online"
    finally:
        store.close()


def _kiosk_list(db) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "hub.cli", "--db", str(db), "kiosk", "list"],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.splitlines()


@pytest.mark.skipif(os.geteuid() != 0, reason="Mosquitto changes user only when started as root")
def test_the_broker_starts_as_broker_config_says_even_as_root_and_reloads_new_logins():
    import pwd
    import shutil
    import tempfile
    from pathlib import Path
    try:
        pwd.getpwnam("mosquitto")
    except KeyError:
        pytest.skip("no mosquitto user (Debian's package makes it)")
    tmp_path = Path(tempfile.mkdtemp(prefix="turnout-broker-"))
    tmp_path.chmod(0o755)  # the mosquitto user must reach the directory, as it reaches /etc/turnout
    try:
        _start_as_printed(tmp_path)
    finally:
        shutil.rmtree(tmp_path)


def _start_as_printed(tmp_path):
    port, directory = free_port(), tmp_path / "broker"
    hub = [sys.executable, "-m", "hub.cli", "--db", str(tmp_path / "hub.sqlite")]
    said = subprocess.run([*hub, "broker-config", "--dir", str(directory), "--port", str(port), "--bind",
                           "127.0.0.1"], capture_output=True, text=True, timeout=60, check=True).stdout
    [command] = [line.split("run it with:", 1)[1].split("(")[0].split() for line in said.splitlines()
                 if "run it with:" in line]
    log = open(tmp_path / "mosquitto.log", "wb")
    proc = subprocess.Popen(command, stdout=log, stderr=log)  # exactly as printed, as root
    try:
        login = BrokerAccounts(directory).hub_login()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "mosquitto.log").read_text()
            try:
                if Client(port, HUB_USER, login.password).connected.wait(0.5):
                    break
            except OSError:
                time.sleep(0.1)  # not listening yet
        else:
            pytest.fail((tmp_path / "mosquitto.log").read_text())
        (tmp_path / "hub.toml").write_text(f'broker_dir = "{directory}"\n')
        added = subprocess.run([*hub, "--config", str(tmp_path / "hub.toml"), "kiosk", "add", "door-1"],
                               capture_output=True, text=True, timeout=60, check=True).stdout
        password = added.split('broker_password = "', 1)[1].split('"', 1)[0]
        time.sleep(0.5)  # the broker, now the mosquitto user, re-reads the logins (SIGHUP)
        assert Client(port, "door-1", password).connected.wait(5), (tmp_path / "mosquitto.log").read_text()
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_worker_login_takes_scans_in_the_shared_subscription_and_only_answers_them(secured):
    """`turnout-hub worker add` makes a login for `serve --worker`: it may read the scans
    through the hub's shared subscription and publish acks, but not speak for the hub."""
    from hub.broker.accounts import HubLogin

    login = HubLogin.load(secured["accounts"].add_worker("w1"))  # the broker reloads (SIGHUP)
    time.sleep(0.5)
    connect = secured["connect"]
    worker = connect(login.username, login.password)
    assert worker.connected.wait(5)
    worker.subscribe(f"$share/turnout-hub/{TOPICS.all_scans}")
    worker.subscribe(TOPICS.all_statuses)  # not the worker's business: never delivered
    b = connect("kiosk-b")
    assert b.connected.wait(5)
    for topic in (TOPICS.ack("kiosk-b"), TOPICS.config("kiosk-b"), TOPICS.hub_status):
        b.subscribe(topic)
    b.publish(TOPICS.scan("kiosk-b"), b'{"a": "scan"}')
    b.publish(TOPICS.status("kiosk-b"), b'{"a": "status"}')
    worker.publish(TOPICS.ack("kiosk-b"), b'{"an": "ack"}')
    worker.publish(TOPICS.config("kiosk-b"), b'{"forged": "config"}', retain=True)
    worker.publish(TOPICS.hub_status, b'{"forged": "hub status"}', retain=True)
    time.sleep(1)
    assert worker.received == [(TOPICS.scan("kiosk-b"), b'{"a": "scan"}')]
    assert b.received == [(TOPICS.ack("kiosk-b"), b'{"an": "ack"}')]
    assert secured["accounts"].kiosks() == ["kiosk-a", "kiosk-b"]
    assert secured["accounts"].workers() == ["w1"]


def test_a_worker_started_with_the_login_worker_add_wrote_answers_a_kiosk(secured, tmp_path):
    from tests.hub.hubproc import WorkerProcess, cli, last_token

    db = tmp_path / "hub.sqlite"
    store = Store(db)
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    store.close()
    made = cli(db, "--broker-dir", str(secured["accounts"].dir), "worker", "add", "w2")
    login = last_token(made)
    assert "--login" in made.stdout and (os.stat(login).st_mode & 0o777) == 0o600
    time.sleep(0.5)  # the broker reloads
    worker = WorkerProcess(db, f"mqtt://127.0.0.1:{secured['port']}", tmp_path / "worker.log",
                           "turnout-hub-w2", extra=("--login", login)).start()
    try:
        kiosk = secured["connect"]("kiosk-a")
        assert kiosk.connected.wait(5)
        kiosk.subscribe(TOPICS.ack("kiosk-a"))
        kiosk.publish(TOPICS.scan("kiosk-a"), make_scan("kiosk-a", event.id, ada.badge).to_json())
        deadline = time.monotonic() + 15
        while not kiosk.received and time.monotonic() < deadline:
            time.sleep(0.05)
        [(topic, payload)] = kiosk.received
        assert json.loads(payload)["status"] == "accepted"
    finally:
        worker.stop()
