from kiosk.outbox import SendTimes, StatusThrottle

IDS = [f"s{i}" for i in range(10)]


def test_everything_pending_is_due_at_first_oldest_first():
    assert SendTimes().due(IDS, now=0) == IDS


def test_in_flight_is_bounded():
    times = SendTimes()
    first = times.due(IDS, now=0, max_in_flight=3)
    assert first == ["s0", "s1", "s2"]
    for i in first:
        times.sent(i, 0)
    assert times.due(IDS, now=1, max_in_flight=3) == []
    times.answered("s0")
    assert times.due(IDS[1:], now=1, max_in_flight=3) == ["s3"]


def test_unanswered_scans_are_resent_after_30_seconds_only():
    times = SendTimes()
    times.sent("s0", 0)
    assert times.due(["s0"], now=29.9) == []
    assert times.due(["s0"], now=30) == ["s0"]


def test_reconnect_makes_everything_due_again():
    times = SendTimes()
    for i in IDS:
        times.sent(i, 0)
    assert times.due(IDS, now=1) == []
    times.reconnected()
    assert times.due(IDS, now=1) == IDS


def test_status_throttle_publishes_changes_at_most_once_a_second():
    throttle = StatusThrottle()
    assert throttle.should_publish((1, "e"), now=0)
    assert not throttle.should_publish((1, "e"), now=5)
    assert not throttle.should_publish((2, "e"), now=0.5)
    assert throttle.should_publish((2, "e"), now=1.0)
    assert throttle.should_publish((2, "e"), now=1.1, force=True)
