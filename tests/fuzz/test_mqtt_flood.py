"""Random and mutated MQTT payloads at a running hub (`turnout-hub serve` in a process of its
own, on a real Mosquitto): it does not crash, its memory stays bounded, every scan message
that carries a usable id is answered on its kiosk's ack topic, and it still counts a good scan
afterwards. 1,000 messages in `make test`; 10,000 under `make fuzz`, with a table of what was
sent and what the hub did with it."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.store import Store
from tests.fuzz.hostile import BIG, NASTY_CHARACTERS, usable_id
from tests.hub.hubproc import HubProcess
from turnout.codes import badge_code
from turnout.local_broker import MAX_PACKET_SIZE
from turnout.protocol import MAX_PAYLOAD_BYTES, Scan, Topics, is_kiosk_id

MESSAGES = 10_000 if BIG else 1_000
TOPICS = Topics()
KIOSKS = ["fuzz-1", "fuzz-2", "fuzz-3", "fuzz-4"]
EVENT_DAY = "2025-03-14"
MB = 1024 * 1024
# What the hub's processes may grow by over the run, and by how much more in the second half
# than in the first (a leak grows with every message; a cache fills once).
GROWTH_LIMIT, SECOND_HALF_MARGIN = 50 * MB, 10 * MB
HOSTILE_VALUES = [None, True, False, -1, 0.5, 2**64, -(2**63) - 1, "", [], {}, [[[[]]]], {"a": {"b": 1}},
                  "x" * 3000, "\u202eevil", "T5724\n", "\x00", "\ud800", "9" * 400]
HOSTILE_LITERALS = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-0", b"1" + b"0" * 4000, b"0x10", b"01"]


@dataclass
class Sent:
    kind: str
    topic: str
    payload: bytes
    qos: int

    @property
    def kiosk(self) -> str | None:
        where = TOPICS.kiosk_of(self.topic)
        return where[0] if where and where[1] == "scan" and is_kiosk_id(where[0]) else None

    @property
    def answer_due(self) -> tuple[str, str] | None:
        """(kiosk, id) of the ack the protocol promises for this message, if any."""
        scan_id = usable_id(self.payload) if self.kiosk else None
        return (self.kiosk, scan_id) if scan_id else None


class Payloads:
    """Seeded generator of every kind of message, good and bad, around real scans."""

    def __init__(self, rng: random.Random, badges: list[str], event: str):
        self.rng, self.badges, self.event = rng, badges, event
        self.seq = 0
        self.good: list[Sent] = []

    def scan(self, kiosk: str, **changes) -> dict:
        self.seq += 1
        scan = Scan(id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), kiosk=kiosk,
                    event=self.event, badge=self.rng.choice(self.badges),
                    role=self.rng.choice(["attend", "attend", "cake", "pitch"]),
                    ts=f"{EVENT_DAY}T10:00:00Z", seq=self.seq, clock_ok=True)
        return {**scan.to_dict(), **changes}

    def make(self, kind: str) -> Sent:
        rng = self.rng
        kiosk = rng.choice(KIOSKS)
        topic, qos = TOPICS.scan(kiosk), rng.choice([0, 1, 1])
        body = getattr(self, "_" + kind.replace(" ", "_").replace("-", "_"))(kiosk)
        if isinstance(body, tuple):
            topic, body = body
        sent = Sent(kind, topic, body, qos)
        if kind == "good scan":
            self.good.append(sent)
        return sent

    # -- the kinds --

    def _good_scan(self, kiosk):
        return json.dumps(self.scan(kiosk)).encode()

    def _re_sent(self, kiosk):
        if not self.good:
            return self._good_scan(kiosk)
        earlier = self.rng.choice(self.good)
        return earlier.topic, earlier.payload

    def _spoofed_kiosk(self, kiosk):
        return json.dumps(self.scan(self.rng.choice([k for k in KIOSKS if k != kiosk]))).encode()

    def _unknown_badge(self, kiosk):
        badge = self.rng.choice([badge_code(self.rng.randrange(10**6, 10**9)), "T5725", "T13"])
        return json.dumps(self.scan(kiosk, badge=badge, event=self.rng.choice([self.event, "no-such-event", None]))).encode()

    def _mutated(self, kiosk):
        data = bytearray(json.dumps(self.scan(kiosk)).encode())
        for _ in range(self.rng.randint(1, 6)):
            at = self.rng.randrange(len(data) + 1)
            how = self.rng.choice(["flip", "insert", "delete", "truncate", "repeat"])
            if how == "flip" and at < len(data):
                data[at] ^= 1 << self.rng.randrange(8)
            elif how == "insert":
                data[at:at] = self.rng.choice([b"\xff", b"\xed\xa0\x80", b"\\u0000", b"\\ud800", b"[", b'"', b",", b"}",
                                               bytes(self.rng.getrandbits(8) for _ in range(4))])
            elif how == "delete":
                del data[at:at + self.rng.randint(1, 6)]
            elif how == "truncate":
                del data[at:]
            elif how == "repeat":
                data[at:at] = data[max(0, at - 12):at] * self.rng.randint(1, 40)
        return bytes(data)

    def _wrong_type(self, kiosk):
        data = self.scan(kiosk)
        key = self.rng.choice(sorted(data))
        if self.rng.random() < 0.3:  # a literal json.dumps would not write
            text = json.dumps({**data, key: "@@"}).encode()
            return text.replace(b'"@@"', self.rng.choice(HOSTILE_LITERALS))
        data[key] = self.rng.choice(HOSTILE_VALUES)
        return json.dumps(data, ensure_ascii=self.rng.random() < 0.5).encode("utf-8", "surrogatepass")

    def _extra_fields(self, kiosk):
        data = self.scan(kiosk)
        for _ in range(self.rng.randint(1, 5)):
            data[self.rng.choice(["extra", "", "__proto__", "v2", "id ", "x" * 200])] = self.rng.choice(HOSTILE_VALUES)
        if self.rng.random() < 0.3:
            del data[self.rng.choice(sorted(data))]
        return json.dumps(data).encode("utf-8", "surrogatepass")

    def _nasty_text(self, kiosk):
        data = self.scan(kiosk)
        key = self.rng.choice(["badge", "role", "ts", "event", "kiosk", "annuls"])
        chars = "".join(self.rng.choice(NASTY_CHARACTERS) for _ in range(self.rng.randint(1, 4)))
        data[key] = str(data.get(key) or "")[:5] + chars
        return json.dumps(data, ensure_ascii=self.rng.random() < 0.5).encode("utf-8", "surrogatepass")

    def _deep_nesting(self, kiosk):
        depth = self.rng.choice([self.rng.randint(900, 2000), self.rng.randint(2000, 7000)])
        inner = b"[" * depth + (b"]" * depth if self.rng.random() < 0.5 else b"")
        if self.rng.random() < 0.7:
            return b'{"v":1,"id":"' + str(uuid.uuid4()).encode() + b'","x":' + inner + b"}"
        return inner

    def _oversize(self, kiosk):
        data = self.scan(kiosk, note="x" * self.rng.randint(MAX_PAYLOAD_BYTES, MAX_PACKET_SIZE - 1000))
        return json.dumps(data).encode()

    def _invalid_utf_8(self, kiosk):
        data = json.dumps(self.scan(kiosk), separators=(",", ":")).encode()
        at = data.index(b'"badge":"') + 9
        return data[:at] + self.rng.choice([b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]) + data[at:]

    def _random_bytes(self, kiosk):
        return bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(0, 300)))

    def _not_an_object(self, kiosk):
        return self.rng.choice([b"null", b"[]", b"1", b'"x"', b"true", b"", b'[{"v":1,"id":"x"}]',
                                json.dumps([self.scan(kiosk)]).encode()])

    def _kiosk_status(self, kiosk):
        status = {"v": 1, "state": self.rng.choice(["online", "offline", "lost", 1]),
                  "version": self.rng.choice(["0.1.0", "\u202e", "x" * 100, None]),
                  "queued": self.rng.choice([0, 3, 3.0, -1, 2**64, "3", None]),
                  "event": self.rng.choice([self.event, None, "bad event", 7])}
        body = self.rng.choice([json.dumps(status).encode(), self._mutated(kiosk), self._random_bytes(kiosk)])
        return TOPICS.status(self.rng.choice(KIOSKS + ["bad kiosk!", "k" * 40])), body

    def _bad_kiosk_topic(self, kiosk):
        bad = self.rng.choice(["bad kiosk!", "k" * 40, "ø", "a.b", "\u202e"])
        return TOPICS.scan(bad), json.dumps(self.scan(kiosk)).encode()

    def _stray_topic(self, kiosk):
        topic = self.rng.choice([TOPICS.ack(kiosk), TOPICS.config(kiosk), f"turnout/kiosk/{kiosk}/scan/x",
                                 "turnout/kiosk//scan", "turnout/kiosk", "turnout/anything",
                                 f"turnout/{uuid.uuid4().hex}"])
        return topic, self._good_scan(kiosk)


KINDS = {  # kind -> weight in the mix
    "good scan": 10, "re-sent": 5, "spoofed kiosk": 3, "unknown badge": 3, "mutated": 20,
    "wrong type": 14, "extra fields": 4, "nasty text": 6, "deep nesting": 5, "oversize": 3,
    "invalid utf-8": 5, "random bytes": 5, "not an object": 3, "kiosk status": 7,
    "bad kiosk topic": 3, "stray topic": 4,
}


class AckListener:
    """Subscribes to every kiosk's ack topic and records each (kiosk, id) and its ack."""

    def __init__(self, port: int):
        self.acks: dict[tuple[str, str], dict] = {}
        self.count = 0
        self._cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fuzz-acks-{uuid.uuid4().hex[:6]}")
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(TOPICS.ack("+"), qos=1)
        assert subscribed.wait(5)

    def _on_message(self, client, userdata, msg):
        kiosk = TOPICS.kiosk_of(msg.topic)[0]
        data = json.loads(msg.payload)
        with self._cond:
            self.acks[(kiosk, data["id"])] = data
            self.count += 1
            self._cond.notify_all()

    def wait_for(self, due: set, timeout: float) -> set:
        """The answers still missing once all have come or ``timeout`` (a safety net) passed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not due <= self.acks.keys() and time.monotonic() < deadline:
                self._cond.wait(0.5)
            return due - self.acks.keys()

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def rss(pid: int) -> tuple[int, int]:
    """Resident memory, in bytes, of a process and all its descendants (the intake worker),
    and how many processes that was."""
    total, stack, seen = 0, [pid], 0
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except FileNotFoundError:
            continue
        seen += 1
        total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) * 1024
        for task in tasks:
            stack += [int(c) for c in (task / "children").read_text().split()]
    return total, seen


def publish_all(clients: dict[str, mqtt.Client], messages: list[Sent]) -> None:
    last = {}
    for n, sent in enumerate(messages):
        client = clients[sent.kiosk or "other"]
        last[id(client)] = client.publish(sent.topic, sent.payload, qos=sent.qos)
        if n % 200 == 199:  # let paho's threads write; the hub's back-pressure does the rest
            time.sleep(0.001)
    for info in last.values():
        info.wait_for_publish(60)


def table(messages: list[Sent], listener: AckListener) -> str:
    rows = defaultdict(lambda: {"sent": 0, "due": 0, "answered": 0, "what": Counter()})
    for sent in messages:
        row = rows[sent.kind]
        row["sent"] += 1
        due = sent.answer_due
        if due is None:
            continue
        row["due"] += 1
        ack = listener.acks.get(due)
        if ack is not None:
            row["answered"] += 1
            row["what"][ack["status"] if ack["status"] != "rejected" else (ack["reason"] or "").split(":")[0]] += 1
    by_qos = {q: [s for s in messages if s.answer_due and s.qos == q] for q in (0, 1)}
    answered = {q: sum(s.answer_due in listener.acks for s in sent) for q, sent in by_qos.items()}
    lines = [f"with an id: QoS 0 {answered[0]} of {len(by_qos[0])} answered, "
             f"QoS 1 {answered[1]} of {len(by_qos[1])}",
             f"{'kind of payload':<16} {'sent':>6} {'with id':>8} {'answered':>9}  what the hub said"]
    for kind in KINDS:
        row = rows[kind]
        said = ", ".join(f"{what} {n}" for what, n in row["what"].most_common(4)) or "-"
        lines.append(f"{kind:<16} {row['sent']:>6} {row['due']:>8} {row['answered']:>9}  {said}")
    return "\n".join(lines)


@pytest.fixture
def flood_hub(hub_db):
    db = hub_db
    store = Store(db)
    event = store.add_event("Fuzz camp", EVENT_DAY)
    badges = [store.add_person(f"Person {n}").badge for n in range(40)]
    store.close()
    return db, event.id, badges


@pytest.mark.slow
def test_a_flood_of_random_and_mutated_payloads(tmp_path, own_broker, flood_hub, capsys):
    db, event, badges = flood_hub
    rng = random.Random(2025)
    payloads = Payloads(rng, badges, event)
    kinds, weights = zip(*KINDS.items())
    messages = [payloads.make(kind) for kind in rng.choices(kinds, weights, k=MESSAGES)]
    halves = messages[:MESSAGES // 2], messages[MESSAGES // 2:]

    hub = HubProcess(db, own_broker.url, tmp_path / "hub.log").start()
    listener = AckListener(own_broker.port)
    clients = {}
    for name in KIOSKS + ["other"]:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fuzz-{name}-{uuid.uuid4().hex[:6]}")
        client.max_inflight_messages_set(0)
        client.connect("127.0.0.1", own_broker.port)
        client.loop_start()
        clients[name] = client
    try:
        warm_up = [payloads.make("good scan") for _ in range(20)]
        publish_all(clients, warm_up)
        assert not listener.wait_for({s.answer_due for s in warm_up}, 30)
        memory, processes = [rss(hub.proc.pid)[0]], rss(hub.proc.pid)[1]
        assert processes >= 2, "the intake worker process was not found"
        for half in halves:
            publish_all(clients, half)
            due = {s.answer_due for s in half if s.answer_due}
            missing = listener.wait_for(due, 120 if BIG else 60)
            assert hub.proc.poll() is None, f"the hub died: {hub.log.read_text()[-3000:]}"
            assert not missing, f"{len(missing)} messages with an id never answered, e.g. {sorted(missing)[:3]}"
            memory.append(rss(hub.proc.pid)[0])

        # After all that, a message over the broker's packet limit (its sender is cut off) and
        # a good scan from a fresh kiosk: still counted.
        over = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fuzz-over")
        over.connect("127.0.0.1", own_broker.port)
        over.loop_start()
        over.publish(TOPICS.scan("fuzz-1"), b"x" * (MAX_PACKET_SIZE + 10), qos=1)
        time.sleep(0.2)
        over.loop_stop()
        last = payloads.make("good scan")
        publish_all(clients, [last])
        assert not listener.wait_for({last.answer_due}, 30), "the hub no longer answers"
        assert listener.acks[last.answer_due]["status"] in ("accepted", "duplicate")
        assert hub.proc.poll() is None
    finally:
        for client in clients.values():
            client.disconnect()
            client.loop_stop()
        listener.close()
        hub.stop()

    log = hub.log.read_text()
    first, second = memory[1] - memory[0], memory[2] - memory[1]
    with capsys.disabled():
        print(f"\n{MESSAGES} messages at the hub; every one with a usable id answered")
        print(table(messages, listener))
        print(f"RSS of the hub's {processes} processes: {memory[0] / MB:.1f} MB at the start, +{first / MB:.1f} MB after "
              f"the first half, +{second / MB:.1f} MB after the second")
    assert "Traceback" not in log, log[log.index("Traceback") - 500:][:3000]
    assert memory[2] - memory[0] < GROWTH_LIMIT
    assert second <= first + SECOND_HALF_MARGIN
