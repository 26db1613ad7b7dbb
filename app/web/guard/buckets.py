"""Token buckets: how much of something each key may use per period, refilled steadily.

A bucket holds up to ``capacity`` units and refills at ``capacity`` per ``period`` seconds.
Work whose cost is known only afterwards (seconds of server time) is allowed while the
bucket is not empty and charged when done, so it may run into debt that later requests wait
out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: Keys kept before full buckets (those that would allow everything anyway) are dropped.
MAX_KEYS = 20_000


def now() -> float:
    """Seconds on the clock the limits run on (tests replace it)."""
    return time.monotonic()


class Buckets:
    """One bucket per key.

    Parameters
    ----------
    capacity : float
        Units a key may use at once; 0 means no limit.
    period : float
        Seconds in which an empty bucket fills up again.
    clock : callable, optional
        Seconds now (:func:`now` by default).

    Examples
    --------
    >>> now = [0.0]
    >>> b = Buckets(2, 60, clock=lambda: now[0])
    >>> b.wait("a", 1), b.take("a", 1), b.take("a", 1), b.wait("a", 1)
    (0.0, None, None, 30.0)
    >>> now[0] = 30.0
    >>> b.wait("a", 1)
    0.0
    """

    def __init__(
        self, capacity: float, period: float, clock: Callable[[], float] | None = None
    ) -> None:
        self.capacity = capacity
        self.rate = capacity / period if period else 0.0
        self.clock = clock or (lambda: now())
        self._levels: dict[str, tuple[float, float]] = {}  # key -> (level, when)
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        level, when = self._levels.get(key, (self.capacity, now))
        return min(self.capacity, level + (now - when) * self.rate)

    def wait(self, key: str, cost: float) -> float:
        """Seconds until ``key`` may use ``cost`` units (0.0: now). A cost of 0 asks only
        that the bucket be out of debt."""
        if not self.capacity:
            return 0.0
        with self._lock:
            level = self._level(key, self.clock())
        needed = min(cost, self.capacity) if cost else 1e-9
        return 0.0 if level >= needed else round((needed - level) / self.rate, 1)

    def take(self, key: str, cost: float) -> None:
        """Use ``cost`` units of ``key``'s bucket (it may go into debt)."""
        if not self.capacity:
            return
        with self._lock:
            now = self.clock()
            self._levels[key] = (self._level(key, now) - cost, now)
            if len(self._levels) > MAX_KEYS:
                self._drop_full(now)

    def _drop_full(self, now: float) -> None:
        for key in [k for k in self._levels if self._level(k, now) >= self.capacity]:
            del self._levels[key]
