"""The fault-injection soak (bench/soak.py), short: three real kiosk daemons scan while the
broker, the hub's processes and the kiosks are killed, paused and cut off at random; every scan
a kiosk committed reaches the hub exactly once and the totals equal a recomputation.
`make soak` runs the long one (10,000 scans, a kiosk cut off for minutes)."""

from bench.soak import KINDS, Soak


def test_a_short_soak_loses_nothing_and_counts_nothing_twice(tmp_path):
    said: list[str] = []
    report = Soak(tmp_path, scans=300, seconds=12, outage=5, seed=7, people=120, fault_every=1.2,
                  drain_limit=150, pause=(1, 3), say=said.append).run()
    summary = "\n".join(said + report.lines())
    assert report.exact, summary
    assert report.produced >= 250 and report.delivered == report.produced, summary
    assert set(report.faults) == set(KINDS), summary  # every kind of fault, at least once
