"""Pacing for Front: stay inside this app's share of the company budget BEFORE any 429.

Front counts requests per company (all integrations together) in a window and tells every response how
much is left: `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (epoch seconds at which
`remaining` refills). Search has its own counter at 40% of the company limit; some routes have short
per-resource ("tier") limits on top.

How we pace:
- Until the first answer tells us the limit, one request goes alone (a probe); the others wait for it.
- The company share: of `limit` per window we may use `budget_share` (default 80%); the rest is left to
  the company's other integrations. From every answer we compute what is still ours this window,
  `remaining - (1 - share) * limit - requests already in flight`, and spread it evenly over the time to
  the reset. When nothing is ours, every request waits for the reset.
- Search: its own limiter at `search_share * budget_share * limit` per window (never above 40%).
- A 429 with `remaining == 0` is the company limit: everything waits `retry-after` (at least 1 s).
  A 429 with `remaining > 0` (a tier/burst limit, `x-front-tier`) pauses only that resource.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from desktop.clients.ratelimit import RateLimiter, WaitCallback

#: Never wait less than this after a 429, whatever `retry-after` says (it may be 0 or fractional).
MIN_RETRY_AFTER = 1.0
#: Safety margin after a reset (clock granularity between us and the server).
RESET_MARGIN = 0.05
#: Before Front tells us anything: the smallest plan (50/min).
DEFAULT_LIMIT = 50
DEFAULT_WINDOW = 60.0


@dataclass(frozen=True, slots=True)
class BudgetHeaders:
    """The rate-limit headers of one answer (None where absent or unparsable)."""

    limit: int | None
    remaining: int | None
    reset: float | None          # epoch seconds
    retry_after: float | None    # seconds
    tier: str | None

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> BudgetHeaders:
        return cls(limit=_int(headers.get("x-ratelimit-limit")),
                   remaining=_int(headers.get("x-ratelimit-remaining")),
                   reset=_float(headers.get("x-ratelimit-reset")),
                   retry_after=_float(headers.get("retry-after")),
                   tier=headers.get("x-front-tier") or None)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


class _CompanyBudget:
    """The company counter: spread what is still ours in the window evenly over the time to its reset."""

    def __init__(self, share: float, on_wait: WaitCallback | None, clock: Callable[[], float]) -> None:
        self.share = share
        self.limit: int | None = None
        #: Window length, known once we saw `reset` move from one window to the next (None before).
        self.window: float | None = None
        self.reset: float | None = None
        self.limiter = RateLimiter(share * DEFAULT_LIMIT, DEFAULT_WINDOW, name="Front", on_wait=on_wait,
                                   clock=clock)
        self.inflight = 0
        self._low: int | None = None

    def learn(self, h: BudgetHeaders, now_wall: float) -> None:
        assert h.limit is not None
        self.limit = h.limit
        if h.remaining is None or h.reset is None:
            self.limiter.set_rate(self.share * h.limit, self.window or DEFAULT_WINDOW)
            return
        if self.reset is None or h.reset > self.reset:        # a new window
            if self.reset is not None:
                step = h.reset - self.reset
                self.window = step if self.window is None else min(self.window, step)
            self.reset, self._low = h.reset, h.remaining
        elif h.reset == self.reset:      # answers may arrive out of order: trust the lowest count
            self._low = min(self._low if self._low is not None else h.remaining, h.remaining)
        else:
            return                       # an answer from an earlier window, already superseded
        self._pace(self._low, max(self.reset - now_wall, 0.0))

    def _pace(self, remaining: int, time_left: float) -> None:
        limit = self.limit or DEFAULT_LIMIT
        ours = remaining - (1.0 - self.share) * limit - self.inflight
        if ours < 1.0:
            self.limiter.pause_for(time_left + RESET_MARGIN, "Front budget used up until the window resets")
            if self.window:
                self.limiter.set_rate(self.share * limit, self.window)
            return
        rate = ours / max(time_left, 0.05)
        if self.window:
            # Never faster than twice the nominal pace: leftovers at the end of a window must not turn
            # into a burst that a sliding window on the server would count against us.
            rate = min(rate, 2.0 * self.share * limit / self.window)
        # A small burst allowance (0.1 s worth) lets the pace catch up on the event loop's lateness instead
        # of losing it for good; the window total stays bounded by `remaining` above.
        self.limiter.set_rate(rate, 1.0, burst=max(1.0, min(rate * 0.1, 20.0)))


class _SearchBudget:
    """Search has its own counter at `search_share` of the company limit in the same window.

    Its answers carry only the company's headers, so we count our own searches per company window and
    hold them to `budget_share` of that proportional limit; when used up, search waits for the reset.
    """

    def __init__(self, share: float, search_share: float, wall: Callable[[], float],
                 on_wait: WaitCallback | None) -> None:
        self.share = share
        self.search_share = search_share
        self._wall = wall
        self._on_wait = on_wait
        self._reset: float | None = None
        self._count = 0

    def cap(self, company_limit: int | None) -> int:
        return max(1, math.floor(self.share * self.search_share * (company_limit or DEFAULT_LIMIT)))

    def pause_until(self, reset_wall: float) -> None:
        """A proportional 429: nothing more this window."""
        self._reset = max(self._reset or 0.0, reset_wall)
        self._count = 10**9

    async def acquire(self, company: _CompanyBudget) -> None:
        while True:
            now = self._wall()
            if self._reset is not None and now >= self._reset:
                self._count, self._reset = 0, None          # the window rolled over
            if self._reset is None and company.reset is not None and company.reset > now:
                self._reset = company.reset                   # the searches counted belong to this window
            if self._count < self.cap(company.limit):
                self._count += 1
                return
            delay = (self._reset - now + RESET_MARGIN) if self._reset is not None else 0.25
            if self._on_wait is not None and delay >= 1.0:
                self._on_wait(delay, "Front search budget used up until the window resets")
            await asyncio.sleep(max(delay, 0.01))


class FrontPacer:
    """Shared by all requests of one FrontClient: `await before(kind, resource)`, then `done(kind, headers)`."""

    def __init__(self, *, budget_share: float = 0.8, search_share: float = 0.4,
                 on_wait: WaitCallback | None = None, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        if not 0 < budget_share <= 1:
            raise ValueError("budget_share must be in (0, 1]")
        self.share = budget_share
        self._clock = clock
        self._wall = wall
        self._on_wait = on_wait
        self.company = _CompanyBudget(budget_share, on_wait, clock)
        self.search = _SearchBudget(budget_share, search_share, wall, on_wait)
        self._probe = asyncio.Lock()
        self._probe_task: asyncio.Task | None = None
        self._learned = False
        self._resource_until: dict[str, float] = {}

    async def before(self, kind: str, resource: str | None = None) -> None:
        """Wait until a request of `kind` ("search" or another route) on `resource` fits the budget."""
        if not self._learned:
            # The first request goes alone: its answer tells us the limit everybody else paces on.
            await self._probe.acquire()
            if self._learned:
                self._probe.release()
            else:
                self._probe_task = asyncio.current_task()
                self.company.inflight += 1
                return
        await self._wait_resource(resource)
        if kind == "search":
            await self.search.acquire(self.company)
        await self.company.limiter.acquire()
        self.company.inflight += 1

    def done(self, kind: str, headers: BudgetHeaders | None) -> None:
        """The request finished (any outcome, even an exception); learn from its headers if it had any."""
        self.company.inflight = max(0, self.company.inflight - 1)
        if headers is not None and headers.limit:
            self.company.learn(headers, self._wall())
        if self._probe_task is not None and self._probe_task is asyncio.current_task():
            self._probe_task = None
            self._learned = self._learned or (headers is not None and bool(headers.limit))
            self._probe.release()

    def rate_limited(self, kind: str, headers: BudgetHeaders, resource: str | None) -> float:
        """A 429 arrived: pause the right scope; returns the seconds to wait before retrying."""
        wait = max(MIN_RETRY_AFTER, headers.retry_after or 0.0)
        reason = f"Front rate limit (retry after {wait:.1f} s)"
        if headers.remaining is not None and headers.remaining > 0:
            # A burst/tier limit: the company budget still has room, so only this resource waits.
            if kind == "search":
                self.search.pause_until(self._wall() + wait)
            elif resource is not None:
                until = self._clock() + wait
                self._resource_until[resource] = max(self._resource_until.get(resource, 0.0), until)
            if self._on_wait is not None:
                self._on_wait(wait, f"{reason}, {resource or kind} only (tier {headers.tier or '?'})")
        else:
            self.company.limiter.pause_for(wait, reason)
            if self._on_wait is not None:
                self._on_wait(wait, reason)
        return wait

    async def _wait_resource(self, resource: str | None) -> None:
        while resource is not None:
            delay = self._resource_until.get(resource, 0.0) - self._clock()
            if delay <= 0:
                self._resource_until.pop(resource, None)
                return
            await asyncio.sleep(delay)
