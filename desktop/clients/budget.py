"""Client-side budgets: spend at once what a service's limit still allows us, and never more.

One design for the three clients. A `Budget` mirrors one server-side limit and is corrected by every
answer's rate-limit headers (parsed by `desktop.clients.headers`):

- model "window": a fixed window (Front's company budget per minute, Ship24's per-endpoint seconds).
  Everything still ours in the window may go at once; when it is spent, requests wait for the reset.
- model "bucket": a bucket that refills continuously (OpenAI's requests and tokens per minute).
  Everything in the bucket may go at once; then requests go as fast as it refills.

So requests go as fast as answers come, bounded only by what the caller keeps in flight, until the
budget is spent; waiting starts only when the need exceeds what is left.

Accounting. Every request takes a `Ticket` (`acquire(cost)`) and is charged at once; an answer never
un-charges it. Answers correct the mirror downwards only, by what the server says is left:
- a window: the lowest `remaining` any answer of this window stated, minus what we still have in flight
  and minus the others' part.
  Concurrent requests reach the server in any order, but every request it counted after the one that
  stated the lowest count is still unanswered, so this never lets the server's count pass its limit
  (other clients of the same account included, up to the moment of that count).
- a bucket: the last `remaining` stated (what is in flight was charged here already; subtracting it again
  would count it twice).
Time raises the mirror: the reset, the refill. `share` is our part of the server's limit: Front's
company budget is shared by all integrations, so we use 80% of it and leave the rest.

Before the first answer the limit is unknown: at most `probe` units go (Front: one request, whose answer
tells the limit). In a new window, before any answer from it, `blind` of our share goes at once and the
rest once the first answer confirms what is left (another integration may have used the window already).
Every wait is capped at one window, so a wrong clock or a wrong header never stalls for longer.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

WaitCallback = Callable[[float, str], None]

#: Wait this much past an announced reset: the server's clock ticks in whole seconds.
RESET_MARGIN = 0.05
_INF = math.inf


@dataclass(slots=True)
class Ticket:
    """One request's claim on a budget: its cost, and in which of our windows it was taken."""

    cost: float
    window: int


class Budget:
    """One server-side limit, mirrored here; see the module docstring. Not thread-safe (one event loop)."""

    def __init__(self, name: str, *, model: str, window: float, limit: float | None = None,
                 share: float = 1.0, probe: float = 1.0, blind: float = 1.0,
                 on_wait: WaitCallback | None = None, report_after: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, start_level: float = 1.0) -> None:
        if model not in ("window", "bucket"):
            raise ValueError(f"model must be 'window' or 'bucket', not {model!r}")
        if not 0 < share <= 1 or window <= 0:
            raise ValueError("share must be in (0, 1] and window positive")
        self.name = name
        self.model = model
        #: Window length (window model) or the time the bucket takes to refill from empty (bucket model).
        self.window = float(window)
        self.share = share
        self.limit: float | None = None
        self._probe = probe
        self._blind = blind
        self._on_wait = on_wait
        self._report_after = report_after
        self._clock = clock
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self.in_flight = 0.0             # cost sent and not yet settled
        self.waiting = 0.0               # cost of the callers waiting in `acquire`
        self._paused_until = 0.0
        self._pause_reason = ""
        # window model
        self._window_no = 0
        self._window_end: float | None = None
        self._window_key: float | None = None     # the server's name of the current window (its reset)
        self._last_key: float | None = None       # the newest window the server has named
        self._window_learnt = False               # the window length was seen between two resets
        self._window_sent = 0.0
        self._low = _INF                  # the lowest `remaining` an answer of this window stated
        # bucket model
        self._level = 0.0
        self._level_at = clock()
        self.unlimited = False
        if limit:
            self.set_limit(limit)
            # A bucket whose limit was known beforehand (remembered from an earlier run) may be partly
            # spent by others: it starts at `start_level` of its capacity, the first answer tells the rest.
            self._level = self.capacity * max(0.0, min(1.0, start_level))
        self._guessed = bool(limit) and model == "bucket" and start_level < 1.0

    # -- what the server told us ------------------------------------------------------------------------
    @property
    def capacity(self) -> float:
        """Our share of the limit per window (or the bucket's size); the probe while the limit is unknown."""
        return self.share * self.limit if self.limit else self._probe

    @property
    def reserve(self) -> float:
        return (1.0 - self.share) * self.limit if self.limit else 0.0

    @property
    def rate(self) -> float:
        """Units per second over a whole window or refill period."""
        return self.capacity / self.window

    def set_limit(self, limit: float, window: float | None = None) -> None:
        """Adopt the server's limit (and its window or refill period, when known)."""
        if limit <= 0:
            return
        first = self.limit is None
        if window and window > 0:
            self.window = float(window)
        self.limit = float(limit)
        if first and self.model == "bucket":
            self._level, self._level_at = self.capacity - self.in_flight, self._clock()
        self._changed.set()

    def observe(self, ticket: Ticket, remaining: float | None, *, limit: float | None = None,
                reset_in: float | None = None, key: float | None = None, refill: float | None = None) -> None:
        """An answer to `ticket` said `remaining` (and maybe the `limit`, the seconds to the reset or to a
        full bucket, and the window's `key`: the server's reset epoch, which names the window).

        `remaining=None` only moves the window along (a budget the server reports nothing about, such as
        Front's search share, follows the company window's key and reset)."""
        if limit:
            self.set_limit(limit)
        if not self.limit:
            return
        now = self._clock()
        if self.model == "bucket":
            if remaining is not None:
                self._observe_bucket(remaining, refill, now)
        else:
            self._observe_window(ticket, remaining, reset_in, key, now)
        self._changed.set()

    def no_budget_headers(self) -> None:
        """An answer carried no rate-limit headers: this server announces no limit (e.g. a local model)."""
        if self.limit is None:
            self.unlimited = True
            self._changed.set()

    def settle(self, ticket: Ticket) -> None:
        """The request of `ticket` ended (any outcome)."""
        self.in_flight = max(0.0, self.in_flight - ticket.cost)
        self._changed.set()

    def pause_for(self, seconds: float, reason: str = "") -> None:
        """Hold every acquisition until `seconds` from now (extends, never shortens, a pause)."""
        until = self._clock() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until, self._pause_reason = until, reason
            self._changed.set()

    # -- the mirror -------------------------------------------------------------------------------------
    def available(self, now: float | None = None) -> float:
        """Units that may be sent now without waiting."""
        now = self._clock() if now is None else now
        if self.unlimited:
            return _INF
        if not self.limit:
            return self._probe - self.in_flight
        if self.model == "bucket":
            self._refill(now)
            return self._level
        self._roll(now)
        if math.isinf(self._low):              # no answer from this window yet
            blind = max(self.capacity * self._blind, min(self.capacity, 1.0))   # at least one request
            return blind - self._window_sent
        return min(self.capacity - self._window_sent, self._low - self.reserve - self.in_flight)

    def delay(self, cost: float = 1.0) -> float | None:
        """Seconds until `cost` could go (0: now); None when only an answer can tell (no limit known)."""
        now = self._clock()
        paused = self._paused_until - now
        if paused > 0:
            return paused
        if self.unlimited:
            return 0.0
        cost = min(cost, self.capacity) if self.limit else cost
        lacking = cost - self.available(now)
        if lacking <= 1e-9:
            return 0.0
        if not self.limit:
            return None
        if self.model == "bucket":
            return min(lacking / self.rate, self.window)
        # Once anything was sent our window has an end (`_take`, `_new_window`): with no answer to come, the
        # wait is for that end, never for an answer that nothing in flight can bring.
        if self._window_end is None or (math.isinf(self._low) and self.in_flight > 0):
            return None                     # the answers in flight will say what this window has left
        return min(max(self._window_end - now, 0.0) + RESET_MARGIN, self.window + RESET_MARGIN)

    def time_for(self, cost: float) -> float | None:
        """Seconds until `cost` more units could all have gone (0: now), assuming nobody else spends any;
        None while only an answer can tell (no limit or window known yet). For a scan's time left."""
        now = self._clock()
        paused = max(0.0, self._paused_until - now)
        if self.unlimited or cost <= 0:
            return paused
        if not self.limit:
            return None
        lacking = cost - max(0.0, self.available(now))
        if lacking <= 1e-9:
            return paused
        if self.model == "bucket":
            return max(paused, lacking / self.rate)
        if self._window_end is None:
            return None
        windows = math.ceil(lacking / self.capacity - 1e-9)
        return max(paused, max(self._window_end - now, 0.0) + (windows - 1) * self.window)

    async def acquire(self, cost: float = 1.0) -> Ticket:
        """Wait (first come, first served) until `cost` fits, then take it."""
        self.waiting += cost
        try:
            return await self._acquire(cost)
        finally:
            self.waiting -= cost

    async def _acquire(self, cost: float) -> Ticket:
        async with self._lock:
            reported = 0.0
            while (wait := self.delay(cost)) != 0.0:
                if wait is not None and wait >= self._report_after and abs(wait - reported) >= 1.0:
                    reported = wait
                    if self._on_wait is not None:
                        self._on_wait(wait, self._reason())
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), wait if wait is not None else self.window)
                except TimeoutError:
                    pass
            return self._take(cost)

    # -- internals --------------------------------------------------------------------------------------
    def _take(self, cost: float) -> Ticket:
        now = self._clock()
        self.in_flight += cost
        if self.model == "bucket" and self.limit:
            self._refill(now)
            self._level -= cost
        self._window_sent += cost
        if self.model == "window" and self._window_end is None:
            # No answer has named the server's window yet: ours starts now, so it cannot end before theirs.
            # Also for the probe, sent while the limit is unknown: its answer may teach the limit without
            # naming the window (a 5xx or a proxy's 429 carries no budget headers), and a window that never
            # started would hold the next request for an answer that nothing in flight can bring.
            self._window_end = now + self.window
        return Ticket(cost, self._window_no)

    def _reason(self) -> str:
        if self._paused_until > self._clock():
            return self._pause_reason or f"{self.name}: waiting"
        return f"{self.name} used up until it resets" if self.model == "window" else \
            f"{self.name} used up; it refills as time passes"

    def _refill(self, now: float) -> None:
        self._level = min(self.capacity, self._level + (now - self._level_at) * self.rate)
        self._level_at = now

    def _observe_bucket(self, remaining: float, refill: float | None, now: float) -> None:
        assert self.limit is not None
        if refill and remaining < self.limit:
            # The seconds until full, for what is missing, give the refill rate (so the period too).
            period = refill * self.limit / (self.limit - remaining)
            if 1.0 <= period <= 3600.0:
                self.window = period
        self._refill(now)
        if self._guessed:
            # The start level was a guess (limits remembered from an earlier run): the first answer
            # replaces it, up or down; what is still in flight may not be in its count yet.
            self._guessed = False
            self._level = min(self.capacity, remaining - self.reserve - self.in_flight)
        else:
            self._level = min(self._level, remaining - self.reserve)

    def _roll(self, now: float) -> None:
        """Start a new window when ours has ended by our clock (before any answer says so)."""
        if self._window_end is None or now < self._window_end:
            return
        skipped = max(1, math.ceil((now - self._window_end) / self.window))
        self._new_window(self._window_end + skipped * self.window, key=None)

    def _new_window(self, end: float | None, key: float | None) -> None:
        self._window_no += 1
        # A window named without its end ends within one window from now: the end stays known (see `delay`).
        self._window_end = end if end is not None else self._clock() + self.window
        self._window_key = key
        self._window_sent = 0.0
        self._low = _INF

    def _observe_window(self, ticket: Ticket, remaining: float | None, reset_in: float | None, key: float | None,
                        now: float) -> None:
        ends = now + min(max(reset_in, 0.0), self.window) if reset_in is not None else None
        if key is not None:
            if self._last_key is not None and key < self._last_key:
                return                              # an answer from a window that is over
            if self._last_key is None or key > self._last_key:
                self._server_rolled(key, ends, remaining)
            elif self._window_key is None:
                return                              # we already rolled over; the server answered late
        elif ticket.window != self._window_no:
            return                                  # sent in an earlier window of ours: tells nothing now
        if ends is not None and self._window_end is not None:
            self._window_end = min(self._window_end, ends)  # the clock estimate only gets better
        elif ends is not None:
            self._window_end = ends
        if remaining is not None:
            self._low = min(self._low, remaining)

    def _server_rolled(self, key: float, ends: float | None, remaining: float | None) -> None:
        """The server names a window newer than any seen: confirm our own roll-over, or start it (then
        what it counted so far, whoever sent it, counts against our share: we cannot tell ours apart)."""
        if self._last_key is not None:
            step = key - self._last_key
            if 0 < step <= 3600:        # several windows may pass between two answers: keep the smallest
                self.window = step if not self._window_learnt else min(self.window, step)
                self._window_learnt = True
        if self._window_key is None and self._last_key is not None:
            self._window_key = key                  # our roll-over opened this window: it stands
            self._window_end = ends if ends is not None else self._window_end
        else:
            self._new_window(ends, key)
            if remaining is not None and self.limit:
                self._window_sent = max(0.0, self.limit - remaining)
        self._last_key = key
