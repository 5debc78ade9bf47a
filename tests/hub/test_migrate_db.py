"""``turnout-hub migrate-db``: a SQLite hub moved to PostgreSQL whole, and only into an empty one."""

from datetime import date

from hub.cli import main
from hub.reports import Reports
from hub.sample import seed_sample
from hub.store import Store


def table_rows(store: Store) -> dict[str, list[tuple]]:
    return {table: sorted(tuple(r) for r in store.db.execute(f"SELECT * FROM {table}"))
            for table in store.db.tables()}


def test_a_sqlite_hub_moves_to_postgresql_with_every_row_and_goes_on_from_there(tmp_path, postgres, capsys):
    path = tmp_path / "hub.sqlite"
    old = Store(path)
    seed_sample(old, people=30, events=4, start=date(2025, 1, 10))
    event = old.events()[0].id
    old.add_outcome(event, "project", "A bus timetable app")
    old.add_outcome(event, "service", "Library opens on Sundays")
    old.delete_outcome(1)  # ids with a gap, as a real hub has them
    old.request_privacy(old.people()[0].badge, note="please forget me")
    old.quarantine("turnout/kiosk/hall-1/scan", b"not json \x00 at all", "not JSON", "2025-01-10T10:00:00Z")
    old.start_session("hash", 1_700_000_000.123456, keep=5)
    before, board = table_rows(old), Reports(old).leaderboard(limit=100)
    old.close()
    target = postgres.empty_database()

    assert main(["migrate-db", "--from", f"sqlite:{path}", "--to", target]) == 0
    out = capsys.readouterr().out
    moved = Store(target)
    after = table_rows(moved)
    assert after.keys() == before.keys()
    for table, rows in before.items():
        if table == "quarantine":  # the NUL PostgreSQL cannot keep in text, and only that, differs
            rows = [tuple(v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in r) for r in rows]
        assert after[table] == rows, table
        assert f"{table} " in out and f" {len(rows)}\n" in out.split(f"{table} ", 1)[1].split("\n", 1)[0] + "\n"
    assert f"Copied {sum(map(len, before.values()))} rows" in out
    assert Reports(moved).leaderboard(limit=100) == board
    assert moved.session_times("hash") == (1_700_000_000.123456, 1_700_000_000.123456)
    highest = max(row[0] for row in before["outcomes"])
    assert moved.add_outcome(event, "other", "A new one").id == highest + 1  # the sequence went on
    assert moved.add_person("Grace Hopper").number == max(p.number for p in moved.people(claimed=None))
    moved.close()

    assert main(["migrate-db", "--from", str(path), "--to", target]) == 1  # it holds a hub now
    err = capsys.readouterr().err
    assert "already holds a hub's data" in err and "--replace" in err
    assert main(["migrate-db", "--from", str(path), "--to", target, "--replace"]) == 0
    assert table_rows(Store(target))["outcomes"] == before["outcomes"]  # the new one is gone


def test_a_missing_source_is_refused_rather_than_created(tmp_path, postgres, capsys):
    assert main(["migrate-db", "--from", f"sqlite:{tmp_path}/typo.sqlite", "--to", postgres.url()]) == 1
    assert "no hub database at" in capsys.readouterr().err
    assert not (tmp_path / "typo.sqlite").exists()
