import sqlite3
from pathlib import Path

from kiosk.store import ScanStore
from turnout.protocol import KioskConfig, Scan


def scan(n, badge="T5724", role="attend", annuls=None):
    return Scan(id=f"00000000-0000-4000-8000-{n:012d}", kiosk="k1", event="e1", badge=badge,
                role=role, ts="2026-11-23T10:00:00.000Z", seq=n, clock_ok=True, annuls=annuls)


def test_scans_are_committed_durably_in_wal_with_full_sync(tmp_path):
    store = ScanStore(tmp_path / "kiosk.db")
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("pragma synchronous").fetchone()[0] == 2  # FULL
    store.add(scan(1))
    # another connection (as after a power cut and reboot) sees the committed row
    other = sqlite3.connect(tmp_path / "kiosk.db")
    assert other.execute("select badge from scans").fetchall() == [("T5724",)]


def test_pending_until_acked_then_gone_from_the_outbox(tmp_path):
    store = ScanStore(tmp_path / "kiosk.db")
    for n in (3, 1, 2):
        store.add(scan(n))
    assert [s.seq for s in store.pending()] == [1, 2, 3]
    assert store.mark_acked(scan(2).id, "accepted")
    assert not store.mark_acked(scan(2).id, "accepted"), "a second ack changes nothing"
    assert [s.seq for s in store.pending()] == [1, 3]
    assert store.queued_count() == 2
    assert store.get(scan(2).id) == scan(2), "acked scans stay as the kiosk's record"


def test_sequence_survives_reopening(tmp_path):
    store = ScanStore(tmp_path / "kiosk.db")
    store.add(scan(1))
    store.add(scan(2))
    store.mark_acked(scan(2).id, "accepted")
    store.close()
    assert ScanStore(tmp_path / "kiosk.db").next_seq() == 3


def test_seen_keys_leave_out_annulled_scans(tmp_path):
    store = ScanStore(tmp_path / "kiosk.db")
    store.add(scan(1, badge="T5724"))
    store.add(scan(2, badge="T10019", role="cake"))
    store.add(scan(3, badge="T10019", role="cake", annuls=scan(2).id))
    assert store.seen_keys() == {("e1", "T5724", "attend")}


def test_config_is_kept(tmp_path):
    store = ScanStore(tmp_path / "kiosk.db")
    assert store.load_config() is None
    cfg = KioskConfig("e2", "Autumn", ("attend", "cake"))
    store.save_config(cfg)
    assert ScanStore(tmp_path / "kiosk.db").load_config() == cfg


def test_the_store_does_not_load_numpy_for_sqlite_utils_but_leaves_it_importable():
    # numpy is installed here (camera decoding); sqlite-utils would load it for nothing.
    import subprocess
    import sys
    code = ("import sys, kiosk.store; loaded = 'numpy' in sys.modules; import numpy; "
            "print(loaded, numpy.zeros(2).sum())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "0.0"]


# --- When the card fills up or the database is damaged ---------------------------------------

import hashlib  # noqa: E402
import os  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import pytest  # noqa: E402

from kiosk.store import CORRUPT_SUFFIX, read_old_store  # noqa: E402


def test_a_full_disk_fails_the_one_write_and_keeps_everything_committed(tmp_path):
    """SQLite's own limit on pages makes the database really 'full' (no mount needed)."""
    store = ScanStore(tmp_path / "kiosk.db")
    pages = store.db.execute("pragma page_count").fetchone()[0]
    store.db.execute(f"pragma max_page_count = {pages + 1}")
    stored = 0
    with pytest.raises(sqlite3.OperationalError, match="full"):
        for n in range(1, 500):
            store.add(scan(n, badge=f"T{5724 if n % 2 else 10019}"))
            stored = n
    assert 0 < stored < 499
    assert store.queued_count() == stored and store.get(scan(stored + 1).id) is None
    store.db.execute("pragma max_page_count = 1000000")  # room again: the same scan goes in
    store.add(scan(stored + 1))
    assert store.queued_count() == stored + 1


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def filled_store(path, n, acked=()):
    store = ScanStore(path)
    for i in range(1, n + 1):
        store.add(Scan(id=f"00000000-0000-4000-8000-{i:012d}", kiosk="k1", event="e1", badge="T5724",
                       role="attend", ts=f"2026-11-23T10:00:00.{i:03d}Z", seq=i, clock_ok=True))
    for i in acked:
        store.mark_acked(f"00000000-0000-4000-8000-{i:012d}", "accepted")
    store.save_config(KioskConfig("e1", "Autumn", ("attend", "cake")))
    store.db.execute("pragma wal_checkpoint(TRUNCATE)")
    page_size = store.db.execute("pragma page_size").fetchone()[0]
    store.close()
    return page_size


def damage_page_holding(path, text, page_size):
    """Overwrite the one database page whose bytes hold ``text`` (a row of the scans table)."""
    data = bytearray(path.read_bytes())
    page = data.index(text.encode()) // page_size
    data[page * page_size:(page + 1) * page_size] = os.urandom(page_size)
    path.write_bytes(bytes(data))


def test_a_store_with_a_garbled_header_is_moved_aside_whole_and_a_fresh_one_started(tmp_path):
    path = tmp_path / "kiosk.db"
    filled_store(path, 5)
    Path(f"{path}-wal").write_bytes(b"a journal to keep with it")
    with open(path, "r+b") as fh:
        fh.write(b"this is not SQLite any more" * 4)
    before = sha(path)
    store = ScanStore.open(path, now=datetime(2026, 11, 23, 10, 0, 5, tzinfo=timezone.utc))
    moved = tmp_path / f"kiosk.db{CORRUPT_SUFFIX}20261123T100005Z"
    assert sha(moved) == before, "moved aside untouched, never deleted"
    assert (tmp_path / f"{moved.name}-wal").read_bytes() == b"a journal to keep with it"
    assert store.reset_from == str(moved)
    assert store.queued_count() == 0 and store.next_seq() == 1  # nothing readable: the hub keys on id
    store.add(scan(1))
    store.close()
    assert ScanStore.open(path).reset_from == str(moved), "still said after a restart"
    assert read_old_store(moved).error and read_old_store(moved).unsent == []


def test_a_damaged_page_loses_only_its_rows_and_seq_carries_on_past_the_old_ones(tmp_path):
    path = tmp_path / "kiosk.db"
    page_size = filled_store(path, 400, acked=range(1, 101))
    damage_page_holding(path, "2026-11-23T10:00:00.250Z", page_size)
    store = ScanStore.open(path)
    assert store.reset_from and store.load_config() == KioskConfig("e1", "Autumn", ("attend", "cake"))
    assert store.next_seq() == 401, "new scans never reuse an old seq that could be read"
    old = read_old_store(store.reset_from)
    assert old.max_seq == 400 and old.unreadable_rows > 0
    assert 0 < len(old.unsent) < 300 and len(old.unsent) + old.sent + old.unreadable_rows == 400
    assert all(s.seq > 100 for s in old.unsent), "only scans the hub never answered"
    assert not any(s.ts == "2026-11-23T10:00:00.250Z" for s in old.unsent)


def test_requeued_scans_keep_their_ids_and_a_taken_seq_is_renumbered(tmp_path):
    store = ScanStore(tmp_path / "kiosk.db")
    store.add(scan(1))
    done = store.requeue([scan(1), Scan(**{**scan(2).__dict__, "seq": 1}), scan(3)])
    assert (done.added, done.already_here, done.renumbered) == (2, 1, 1)
    assert {s.id for s in store.pending()} == {scan(1).id, scan(2).id, scan(3).id}
    assert store.get(scan(2).id).seq == 2  # the next free one then
    assert sorted(s.seq for s in store.pending()) == [1, 2, 3]


def test_a_store_that_cannot_be_opened_for_other_reasons_is_left_where_it_is(tmp_path):
    (tmp_path / "kiosk.db").mkdir()  # not damage: nothing to move aside
    with pytest.raises(sqlite3.OperationalError):
        ScanStore.open(tmp_path / "kiosk.db")
    assert [p.name for p in tmp_path.iterdir()] == ["kiosk.db"]
