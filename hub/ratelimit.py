"""How much one client may ask of the hub's JSON API: a token bucket per client address. Pure.

Each address may make ``burst`` requests at once, then ``per_second`` more each second; past
that it is told how long to wait. Bounded: past ``max_clients`` addresses, those whose buckets
have filled up again are forgotten first (they have nothing to remember), then the oldest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimit:
    burst: int = 60
    per_second: float = 10.0
    clock: Callable[[], float] = time.monotonic
    max_clients: int = 10_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # key: (tokens, when)

    def _tokens(self, key: str, now: float) -> float:
        tokens, when = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - when) * self.per_second)

    def take(self, key: str) -> float:
        """0 when this request may go ahead (and it is counted), else the seconds to wait."""
        now = self.clock()
        tokens = self._tokens(key, now)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.per_second
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > self.max_clients:
            self._forget(now)
        return 0.0

    def _forget(self, now: float) -> None:
        for key in [k for k in self._buckets if self._tokens(k, now) >= self.burst]:
            del self._buckets[key]
        excess = len(self._buckets) - self.max_clients * 9 // 10
        if excess > 0:
            for key in sorted(self._buckets, key=lambda k: self._buckets[k][1])[:excess]:
                del self._buckets[key]
