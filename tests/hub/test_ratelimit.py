"""The JSON API's allowance per client address (hub.ratelimit), with a clock moved by hand."""

from hub.ratelimit import RateLimit


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_steady_rate_then_a_wait():
    clock = Clock()
    limit = RateLimit(burst=3, per_second=2.0, clock=clock)
    assert [limit.take("a") for _ in range(3)] == [0, 0, 0]
    assert limit.take("a") == 0.5, "half a second until the next token"
    assert limit.take("b") == 0, "another address has its own allowance"
    clock.now += 0.5
    assert limit.take("a") == 0
    assert limit.take("a") > 0
    clock.now += 10
    assert [limit.take("a") for _ in range(4)][:3] == [0, 0, 0], "refilled to the burst, no more"


def test_refused_requests_do_not_dig_a_deeper_hole():
    clock = Clock()
    limit = RateLimit(burst=1, per_second=1.0, clock=clock)
    limit.take("a")
    waits = [limit.take("a") for _ in range(50)]
    assert max(waits) == 1.0, "hammering while refused does not push the wait further out"
    clock.now += 1
    assert limit.take("a") == 0


def test_it_remembers_a_bounded_number_of_addresses():
    clock = Clock()
    limit = RateLimit(burst=2, per_second=1.0, clock=clock, max_clients=100)
    for n in range(1000):
        limit.take(f"10.0.{n // 256}.{n % 256}")
        clock.now += 0.001
    assert len(limit._buckets) <= 100
    busy = "192.0.2.1"
    limit.take(busy), limit.take(busy)
    assert limit.take(busy) > 0, "the newest addresses are the ones kept"
