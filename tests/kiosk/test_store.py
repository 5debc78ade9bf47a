import sqlite3

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
