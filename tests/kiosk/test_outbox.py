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


def test_the_outbox_is_worth_reading_when_half_the_room_in_flight_is_free_or_a_send_is_overdue():
    times = SendTimes()
    assert times.worth_looking(now=0, max_in_flight=4)  # nothing in flight
    for i in IDS[:4]:
        times.sent(i, 0)
    assert not times.worth_looking(now=1, max_in_flight=4)  # full: reading would find nothing
    times.answered("s0")
    assert not times.worth_looking(now=1, max_in_flight=4)  # one ack: wait for more room
    times.answered("s1")
    assert times.worth_looking(now=1, max_in_flight=4)  # half free: refill
    times.sent("s0", 0)
    times.sent("s1", 0)
    assert not times.worth_looking(now=29.9, max_in_flight=4)
    assert times.worth_looking(now=30, max_in_flight=4)  # unanswered for 30 s: re-send


def test_status_throttle_publishes_changes_at_most_once_a_second():
    throttle = StatusThrottle()
    assert throttle.should_publish((1, "e"), now=0)
    assert not throttle.should_publish((1, "e"), now=5)
    assert not throttle.should_publish((2, "e"), now=0.5)
    assert throttle.should_publish((2, "e"), now=1.0)
    assert throttle.should_publish((2, "e"), now=1.1, force=True)


def test_status_is_republished_unchanged_as_a_heartbeat():
    throttle = StatusThrottle(heartbeat=60)
    assert throttle.should_publish((0, "e"), now=0)
    assert not throttle.should_publish((0, "e"), now=59)
    assert throttle.should_publish((0, "e"), now=60)  # the hub hears from a quiet kiosk
    assert not throttle.should_publish((0, "e"), now=61)
