"""Pacing for Front: spend this app's share of the company budget at once, and never more.

Front counts requests per company (all integrations together) in a window and tells every answer how
much is left: `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (the epoch, on Front's
clock, at which the window resets). Search has its own counter at 40% of the company limit; some routes
have short per-resource ("tier") limits on top.

How we pace (`desktop.clients.budget` does the accounting):
- The first request goes alone (a probe): its answer tells the limit everybody else paces on.
- The company share: of `limit` per window we may use `budget_share` (default 80%); the rest stays for the
  company's other integrations. While the window has some of our share left, requests go as fast as
  answers come (bounded by what the caller keeps in flight); when it is spent they wait for the reset.
  In a new window half our share goes before the first answer confirms what is left.
- The reset is an epoch on Front's clock: `ServerClock` turns it into a wait from the `Date` header of the
  answers, so a PC clock minutes off neither stalls a scan nor causes a 429; every wait is capped at the
  window.
- Search: at most `search_share * budget_share * limit` per window, counted here (its answers carry only
  the company's headers).
- A 429 with `remaining == 0` is the company limit: everything waits `retry-after` (at least 1 s). A 429
  with `remaining > 0` (a tier/burst limit, `x-front-tier`) pauses only that resource, or that route when
  it names no resource (e.g. `GET /inboxes`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from desktop.clients.budget import Budget, Ticket, WaitCallback
from desktop.clients.headers import FrontBudget, ServerClock

#: Never wait less than this after a 429, whatever `retry-after` says (it may be 0 or fractional).
MIN_RETRY_AFTER = 1.0
#: Before Front tells us anything: the smallest plan (50/min).
DEFAULT_LIMIT = 50
DEFAULT_WINDOW = 60.0

__all__ = ["DEFAULT_LIMIT", "DEFAULT_WINDOW", "MIN_RETRY_AFTER", "FrontBudget", "FrontPacer", "FrontTicket"]


@dataclass(slots=True)
class FrontTicket:
    """The claims one request holds: on the company budget and, for a search, on the search share."""

    kind: str
    resource: str | None
    company: Ticket
    search: Ticket | None = None


class FrontPacer:
    """Shared by all requests of one FrontClient: `ticket = await before(kind, resource)`, then
    `done(ticket, headers)` when the answer (or the failure) is in."""

    def __init__(self, *, budget_share: float = 0.8, search_share: float = 0.4,
                 on_wait: WaitCallback | None = None, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        if not 0 < budget_share <= 1:
            raise ValueError("budget_share must be in (0, 1]")
        self.share = budget_share
        self.search_share = min(search_share, 0.4)
        self._clock = clock
        self._on_wait = on_wait
        self.server_clock = ServerClock(wall)
        self.company = Budget("Front budget", model="window", window=DEFAULT_WINDOW, share=budget_share,
                              probe=1.0, blind=0.5, on_wait=on_wait, clock=clock)
        # Search answers say nothing about the search counter: all of our share of it may go in a window.
        self.search = Budget("Front search budget", model="window", window=DEFAULT_WINDOW, share=budget_share,
                             probe=1.0, blind=1.0, on_wait=on_wait, clock=clock)
        self._resource_until: dict[str, float] = {}

    async def before(self, kind: str, resource: str | None = None) -> FrontTicket:
        """Wait until a request of `kind` ("search" or another route) on `resource` fits the budget."""
        await self._wait_resource(resource or kind)
        search = await self.search.acquire() if kind == "search" else None
        return FrontTicket(kind, resource, await self.company.acquire(), search)

    def time_for(self, more: int) -> float | None:
        """Seconds until the requests now waiting for the company budget and `more` after them could all
        have gone (None while Front has not told the limit): the budget's part of a scan's time left."""
        return self.company.time_for(self.company.waiting + more)

    def done(self, ticket: FrontTicket, headers: Mapping[str, str] | None, received_at: float | None = None
             ) -> None:
        """The request finished (any outcome, even an exception); learn from its headers if it had any."""
        if headers is not None:
            self.server_clock.learn(headers, received_at)
            budget = FrontBudget.parse(headers)
            if budget.limit:
                self._learn(ticket, budget)
            else:
                self.company.set_limit(self.company.limit or DEFAULT_LIMIT)
        self.company.settle(ticket.company)
        if ticket.search is not None:
            self.search.settle(ticket.search)

    def _learn(self, ticket: FrontTicket, budget: FrontBudget) -> None:
        assert budget.limit is not None
        reset_in = self.server_clock.seconds_until(budget.reset) if budget.reset is not None else None
        self.company.observe(ticket.company, budget.remaining, limit=budget.limit, reset_in=reset_in,
                             key=budget.reset)
        self.search.set_limit(self.search_share * budget.limit, self.company.window)
        if ticket.search is not None:
            self.search.observe(ticket.search, None, reset_in=reset_in, key=budget.reset)

    def rate_limited(self, kind: str, headers: FrontBudget, resource: str | None) -> float:
        """A 429 arrived: pause the right scope; returns the seconds to wait before retrying."""
        wait = max(MIN_RETRY_AFTER, headers.retry_after or 0.0)
        reason = f"Front rate limit (retry after {wait:.1f} s)"
        if headers.remaining is not None and headers.remaining > 0:
            # A burst/tier limit: the company budget still has room, so only this scope waits.
            scope = resource or kind
            if kind == "search":
                self.search.pause_for(wait, reason)
            else:
                until = self._clock() + wait
                self._resource_until[scope] = max(self._resource_until.get(scope, 0.0), until)
            if self._on_wait is not None:
                self._on_wait(wait, f"{reason}, {scope} only (tier {headers.tier or '?'})")
        else:
            self.company.pause_for(wait, reason)
            if self._on_wait is not None:
                self._on_wait(wait, reason)
        return wait

    def resource_wait(self, scope: str) -> float:
        """Seconds `scope` (a resource, or a route without one) is still held back by a tier 429."""
        return max(0.0, self._resource_until.get(scope, 0.0) - self._clock())

    async def _wait_resource(self, scope: str) -> None:
        while (delay := self.resource_wait(scope)) > 0:
            await asyncio.sleep(delay)
        self._resource_until.pop(scope, None)
