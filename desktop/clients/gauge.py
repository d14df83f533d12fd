"""A count that goes up and down (requests in flight), with its time-weighted average and its peak.

The clients keep one for their requests in flight and the pipeline one for its conversations, so a scan
can report how much of the allowed concurrency it really used (`shipscan scan --json`, bench_scan.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Gauge:
    """`add(+1)` when something starts, `add(-1)` when it ends; `reading()` marks a moment, and
    `average(a, b)` is the mean value between two readings."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.value = 0
        self.peak = 0
        self._area = 0.0
        self._since = clock()

    def add(self, n: int) -> None:
        self._integrate()
        self.value += n
        self.peak = max(self.peak, self.value)

    def reading(self) -> tuple[float, float]:
        """(now, the integral of the value up to now)."""
        self._integrate()
        return self._since, self._area

    @staticmethod
    def average(start: tuple[float, float], end: tuple[float, float]) -> float:
        """The time-weighted mean between two readings (0 for an empty interval)."""
        seconds = end[0] - start[0]
        return (end[1] - start[1]) / seconds if seconds > 0 else 0.0

    def _integrate(self) -> None:
        now = self._clock()
        self._area += self.value * (now - self._since)
        self._since = now
