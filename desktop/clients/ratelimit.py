"""Client-side pacing so requests stay inside a service's budget before any 429.

`RateLimiter` spaces acquisitions evenly (a GCRA / virtual-clock limiter): at most `rate` units per
`period` seconds, with up to `burst` units at once. Costs may be weighted (tokens for OpenAI's TPM).
`pause_for` holds every caller back after a 429 or a server-announced reset. Waits longer than
`report_after` seconds are reported through `on_wait(seconds, reason)` so the UI can show them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

WaitCallback = Callable[[float, str], None]


class RateLimiter:
    """At most `rate` units per `period` seconds, `burst` at once; fair (FIFO) across tasks."""

    def __init__(self, rate: float, period: float = 1.0, *, burst: float = 1.0, name: str = "",
                 on_wait: WaitCallback | None = None, report_after: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or period <= 0:
            raise ValueError("rate and period must be positive")
        self.name = name
        self._interval = period / rate      # seconds per unit
        self._burst = max(1.0, burst)
        self._clock = clock
        self._tat = clock()                 # theoretical arrival time of the next unit
        self._paused_until = 0.0
        self._pause_reason = ""
        self._lock = asyncio.Lock()
        self._on_wait = on_wait
        self._report_after = report_after
        self.waited_seconds = 0.0

    @property
    def rate_per_second(self) -> float:
        return 1.0 / self._interval

    def set_rate(self, rate: float, period: float = 1.0, burst: float | None = None) -> None:
        """Change the budget (e.g. when the server announces a different limit)."""
        if rate > 0 and period > 0:
            self._interval = period / rate
        if burst is not None:
            self._burst = max(1.0, burst)

    def pause_for(self, seconds: float, reason: str = "") -> None:
        """Hold every acquisition until `seconds` from now (extends, never shortens, a pause)."""
        until = self._clock() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until = until
            self._pause_reason = reason

    def delay_for(self, cost: float = 1.0) -> float:
        """How long an acquisition of `cost` would wait now (0 if it could go at once)."""
        return self._delay_and_reason(cost)[0]

    def _delay_and_reason(self, cost: float) -> tuple[float, str]:
        now = self._clock()
        tat = max(self._tat, now)
        allowance = self._interval * self._burst
        pacing = tat + cost * self._interval - allowance - now
        paused = self._paused_until - now
        if paused > 0 and paused >= pacing:
            return paused, self._pause_reason or f"{self.name} budget"
        return max(0.0, pacing), f"{self.name} budget"

    async def acquire(self, cost: float = 1.0) -> float:
        """Wait until `cost` units fit the budget, then take them; returns the seconds waited."""
        waited = 0.0
        async with self._lock:
            while True:
                delay, reason = self._delay_and_reason(cost)
                if delay <= 0:
                    break
                if delay >= self._report_after and self._on_wait is not None:
                    self._on_wait(delay, reason)
                await asyncio.sleep(delay)
                waited += delay
            now = self._clock()
            self._tat = max(self._tat, now) + cost * self._interval
        self.waited_seconds += waited
        return waited
