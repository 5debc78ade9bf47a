"""The backup and restore in docs/operating.md, run as written: `sqlite3 .backup` while a hub has
the database open (with writes still in its write-ahead log), then a restore into a fresh hub,
which must hold the same people, events, kiosks, roles, scans, standings and milestones."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.intake import Intake
from hub.store import Store
from tests.hub.kiosks import make_scan
from turnout.protocol import Topics

REPO = Path(__file__).parents[2]
TURNOUT_HUB = str(Path(sys.executable).parent / "turnout-hub")


def doc_commands(name: str) -> list[str]:
    """The command lines of the ```sh block marked `<!-- tested: NAME … -->` in operating.md."""
    text = (REPO / "docs/operating.md").read_text()
    match = re.search(rf"<!-- tested: {name}\b.*?-->\n```sh\n(.*?)\n```", text, re.S)
    assert match, f"no block marked 'tested: {name}' in docs/operating.md"
    return [line for line in match.group(1).splitlines() if line.strip() and not line.startswith("#")]


def run_as_written(lines: list[str], places: dict[str, Path]) -> list[str]:
    """Each line as the docs give it, here: no sudo or systemd (the hub 'stops' by closing its
    store), no turnout user to own files, the docs' directories mapped to the test's own."""
    outputs = []
    for line in lines:
        if line.startswith("sudo systemctl "):
            continue
        line = re.sub(r"^sudo (-u turnout )?", "", line).replace("-o turnout -g turnout ", "")
        line = line.replace("/opt/turnout/.venv/bin/turnout-hub", TURNOUT_HUB)
        for doc_path, here in places.items():
            line = line.replace(doc_path, str(here))
        done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        outputs.append(done.stdout)
    return outputs


def hub_cli(db: Path, *args: str) -> str:
    return subprocess.run([TURNOUT_HUB, "--db", str(db), *args], capture_output=True, text=True, check=True,
                          timeout=120).stdout


def sql(db: Path, query: str) -> str:
    return subprocess.run(["sqlite3", "-readonly", str(db), query], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def what_the_hub_holds(db: Path) -> dict[str, str]:
    """Everything an organiser would miss, read through the real CLI and sqlite3."""
    people = hub_cli(db, "person", "list", "--all")
    busiest = sql(db, "select badge from standings order by points desc, badge limit 5").split()
    return {
        "people": people,
        "events": hub_cli(db, "event", "list"),
        "kiosks": hub_cli(db, "kiosk", "list"),
        "roles": hub_cli(db, "role", "list"),
        "people shown": "".join(hub_cli(db, "person", "show", badge) for badge in busiest),
        "scans": sql(db, "select count(*), count(distinct badge), sum(annulled) from scans"),
        "scan ids": sql(db, "select id, kiosk, event, badge, role, status from scans order by id"),
        "standings": sql(db, "select * from standings order by badge"),
        "milestones": sql(db, "select * from milestones order by badge, name"),
        "quarantine": sql(db, "select count(*) from quarantine"),
    }


@pytest.fixture
def sqlite3_cli():
    if not shutil.which("sqlite3"):
        pytest.skip("the sqlite3 command is not installed (Debian package sqlite3)")


def test_a_backup_made_as_documented_restores_into_a_fresh_hub(tmp_path, sqlite3_cli):
    live, backups, fresh = tmp_path / "live", tmp_path / "backups", tmp_path / "fresh"
    live.mkdir()
    db = live / "hub.db"
    hub_cli(db, "seed-sample")
    event = hub_cli(db, "event", "list").splitlines()[-1].split("\t")[0]

    hub = Store(db)  # the running hub: what it writes now sits in the write-ahead log
    ada = hub.add_person("Ada Lovelace", org="Leeds City Council")
    answer = Intake(hub).receive(Topics().scan("door-1"), make_scan("door-1", event, ada.badge, role="cake").to_json())
    assert answer.ack.status == "accepted"
    assert (live / "hub.db-wal").stat().st_size > 0
    before = what_the_hub_holds(db)
    assert "Ada Lovelace" in before["people"]

    out = run_as_written(doc_commands("backup"), {"/var/lib/turnout": live, "/var/backups/turnout": backups})
    assert out[2].strip() == "ok"  # pragma integrity_check

    hub.add_person("After The Backup")  # not in the backup
    hub.close()

    out = run_as_written(doc_commands("restore"), {"/var/lib/turnout": fresh, "/var/backups/turnout": backups})
    assert "ok\n" in out  # pragma integrity_check
    assert out[-1] == "".join(before["people"].splitlines(keepends=True)[:3])  # person list | head -n 3

    restored = fresh / "hub.db"
    after = what_the_hub_holds(restored)
    for what in before:
        assert after[what] == before[what], what
    assert "After The Backup" not in after["people"]
    assert "attended: 1  volunteered: 1" in hub_cli(restored, "person", "show", ada.badge)

    # the restored hub carries on: its standings agree with its scans, and it takes new people
    hub_cli(restored, "recompute")
    assert sql(restored, "select * from standings order by badge") == before["standings"]
    assert "Grace Hopper" in hub_cli(restored, "person", "add", "Grace Hopper")
