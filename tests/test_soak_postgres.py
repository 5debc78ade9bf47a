"""The short fault-injection soak again with the hub on PostgreSQL (bench/soak.py --postgres): a
cluster of the soak's own, killed (SIGKILL, then started again) and paused (SIGSTOP/SIGCONT)
among the other faults; the hub's processes reconnect and nothing is lost or counted twice.
In a file of its own so pytest-xdist runs it beside the SQLite soak. `make soak-postgres` runs
the long one."""

import pytest

from bench.soak import KINDS, POSTGRES_KINDS, Soak
from tests.postgres import PostgresUnavailable


def test_a_short_soak_on_postgresql_survives_the_database_crashing_and_freezing(tmp_path):
    said: list[str] = []
    soak = Soak(tmp_path, scans=240, seconds=10, outage=4, seed=11, people=120, fault_every=1.0,
                drain_limit=150, pause=(1, 3), say=said.append, postgres=True)
    try:
        report = soak.run()
    except PostgresUnavailable as exc:  # no initdb here (apt-get install postgresql), or no psycopg
        pytest.skip(f"no PostgreSQL cluster of its own for the soak: {exc}")
    summary = "\n".join(said + report.lines())
    assert not soak.database.alive(), summary  # its own server, stopped at the end
    assert report.exact, summary
    assert report.produced >= 200 and report.delivered == report.produced, summary
    assert set(report.faults) == set(KINDS + POSTGRES_KINDS), summary
