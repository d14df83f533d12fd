"""The one parser of rate-limit headers for Front, OpenAI and Ship24, and the server's clock.

Each service announces its budget differently:

- Front: `x-ratelimit-limit`, `x-ratelimit-remaining`, `x-ratelimit-reset` (an epoch on FRONT's clock),
  `retry-after` (seconds, maybe fractional or 0) and `x-front-tier` on burst/tier 429s.
- OpenAI: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as Go durations ("6m0s",
  "12ms": the time until the budget is full again), `retry-after-ms` and `retry-after` on 429s.
- Ship24: `RateLimit-Limit/-Remaining/-Reset` (seconds until the reset) and the legacy
  `X-RateLimit-*` (reset as an epoch on Ship24's clock), `Retry-After` in seconds.

Epochs are on the server's clock, which may be minutes away from this PC's. `ServerClock` learns the
offset from every answer's `Date` header, as a lower bound, so a wait computed from it is never too short;
callers cap waits at the known window, so a wrong clock never stalls a scan either.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


def number(value: Any) -> float | None:
    """A header value as a float, or None when absent or not a number."""
    if value is None:
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def integer(value: Any) -> int | None:
    found = number(value)
    return int(found) if found is not None else None


_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def duration(value: str | None) -> float | None:
    """Seconds in a Go-style duration ("12ms", "1s", "6m0s", "1h2m3.5s") or a plain number."""
    if not value:
        return None
    value = value.strip()
    plain = number(value)
    if plain is not None:
        return max(0.0, plain)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)", value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return sum(float(n) * _GO_UNITS[u] for n, u in parts)


def http_date(value: str | None) -> float | None:
    """Epoch seconds of an HTTP date ("Sun, 06 Dec 2026 02:32:41 GMT"), or None."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """The server's requested wait in seconds: `retry-after-ms`, else `retry-after` as seconds (fractions
    and 0 allowed) or as an HTTP date (relative to the answer's own `Date`, so the clocks need not agree)."""
    if headers is None:
        return None
    millis = number(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000.0)
    raw = headers.get("retry-after")
    seconds = number(raw)
    if seconds is not None:
        return max(0.0, seconds)
    when, now = http_date(raw), http_date(headers.get("date"))
    if when is not None:
        return max(0.0, when - (now if now is not None else time.time()))
    return None


@dataclass(frozen=True, slots=True)
class FrontBudget:
    """Front's company budget as one answer states it (None where absent or unparsable)."""

    limit: int | None
    remaining: int | None
    reset: float | None          # epoch seconds on Front's clock
    retry_after: float | None    # seconds
    tier: str | None

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> FrontBudget:
        return cls(limit=integer(headers.get("x-ratelimit-limit")),
                   remaining=integer(headers.get("x-ratelimit-remaining")),
                   reset=number(headers.get("x-ratelimit-reset")),
                   retry_after=retry_after(headers),
                   tier=headers.get("x-front-tier") or None)


@dataclass(frozen=True, slots=True)
class UnitBudget:
    """One of OpenAI's budgets ("requests" or "tokens") as an answer states it."""

    limit: int | None
    remaining: int | None
    until_full: float | None     # seconds until the budget is full again


def openai_budget(headers: Mapping[str, str], unit: str) -> UnitBudget:
    return UnitBudget(limit=integer(headers.get(f"x-ratelimit-limit-{unit}")),
                      remaining=integer(headers.get(f"x-ratelimit-remaining-{unit}")),
                      until_full=duration(headers.get(f"x-ratelimit-reset-{unit}")))


@dataclass(frozen=True, slots=True)
class WindowBudget:
    """Ship24's per-endpoint window as an answer states it; `reset_in` in seconds from now."""

    limit: float | None
    remaining: float | None
    reset_in: float | None


def ship24_budget(headers: Mapping[str, str], clock: ServerClock | None = None) -> WindowBudget:
    limit = number(headers.get("ratelimit-limit") or headers.get("x-ratelimit-limit"))
    remaining = number(headers.get("ratelimit-remaining") or headers.get("x-ratelimit-remaining"))
    reset_in = number(headers.get("ratelimit-reset"))
    if reset_in is None:
        epoch = number(headers.get("x-ratelimit-reset"))
        if epoch is not None:
            reset_in = (clock or ServerClock()).seconds_until(epoch)
    return WindowBudget(limit, remaining, reset_in)


#: A change of the offset larger than this is a clock being set, not the second's truncation.
CLOCK_JUMP = 2.0


class ServerClock:
    """The server's time as seen from here, learnt from the `Date` header of every answer.

    `Date` is the server's time truncated to the second, stamped before the answer left, so
    `Date - (our wall time when the answer arrived)` is a LOWER bound of `server - local`; the largest of
    these bounds converges on the true offset within the answer time. Using the lower bound means a reset
    is never thought to be earlier than it is: waits err on the long side by less than a second, never
    into a 429. Without any `Date`, the local clock is used (and callers' caps on every wait keep a wrong
    clock from stalling anything).
    """

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self.offset: float | None = None    # server minus local, seconds (a lower bound)

    def learn(self, headers: Mapping[str, str], received_at: float | None = None) -> None:
        stamped = http_date(headers.get("date"))
        if stamped is None:
            return
        bound = stamped - (received_at if received_at is not None else self._wall())
        # A bound far below the one we hold means one of the clocks was set meanwhile: start again from it.
        if self.offset is None or bound > self.offset or bound < self.offset - CLOCK_JUMP:
            self.offset = bound

    def now(self) -> float:
        """The server's current time (never ahead of it, as far as the answers tell)."""
        return self._wall() + (self.offset or 0.0)

    def seconds_until(self, server_epoch: float) -> float:
        return max(0.0, server_epoch - self.now())
