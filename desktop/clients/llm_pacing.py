"""Pacing for `desktop.clients.llm`: OpenAI's request (RPM) and token (TPM) budgets, before any 429.

`LlmPacer` holds two `RateLimiter`s. `pace(cost)` waits until one request of `cost` tokens fits both.
`learn(headers)` reads the `x-ratelimit-*` headers of every answer (OpenAI sends them; Ollama and vLLM do
not): the announced limits set the limiters' rates, and when the remaining requests/tokens run low both
pause until enough of the budget is back. `pause(tier, seconds)` holds every caller after a 429.
Waits of a second or more are reported through `on_wait(seconds, reason)` (by the limiters).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from desktop.clients.ratelimit import RateLimiter

_UNLIMITED = 1_000_000.0          # per period: "no limit known yet"


def parse_duration(value: str | None) -> float | None:
    """Seconds in an `x-ratelimit-reset-*` value: Go-style ("12ms", "1s", "6m0s", "1h2m3.5s") or plain."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)", value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return sum(float(n) * units[u] for n, u in parts)


def retry_after_seconds(headers: Any) -> float | None:
    """The server's requested wait: `retry-after-ms`, else `retry-after` (seconds; HTTP dates ignored)."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw) * scale)
            except ValueError:
                continue
    return None


def int_header(headers: Any, name: str) -> int | None:
    try:
        return int(float(headers.get(name)))
    except (TypeError, ValueError):
        return None


class LlmPacer:
    """RPM and TPM limiters fed by the server's headers.

    Args:
        rpm, tpm: known budgets per `period` (None: unlimited until the headers say otherwise).
        period: the seconds the budgets cover (60 at OpenAI; tests scale the simulator's window).
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None, *, period: float = 60.0,
                 on_wait: Callable[[float, str], None] | None = None) -> None:
        self.period = period
        self.requests = RateLimiter(rpm or _UNLIMITED, period, burst=max(1.0, (rpm or _UNLIMITED) / 10),
                                    name="OpenAI requests", on_wait=on_wait)
        self.tokens = RateLimiter(tpm or _UNLIMITED, period, burst=tpm or _UNLIMITED,
                                  name="OpenAI tokens", on_wait=on_wait)
        self._token_bucket = float(tpm or _UNLIMITED)
        self._last_cost = 1000.0

    async def pace(self, cost: float) -> None:
        """Wait until one request costing `cost` tokens fits both budgets, then take it."""
        self._last_cost = float(cost)
        await self.requests.acquire(1.0)
        # A cost above the bucket would never fit: clamp it (the server would refuse such a request anyway).
        await self.tokens.acquire(min(float(cost), self._token_bucket))

    def pause(self, tier: str | None, seconds: float, reason: str) -> None:
        """Hold every caller of the `tier` ("tokens", else requests) budget for `seconds`."""
        (self.tokens if tier == "tokens" else self.requests).pause_for(seconds, reason)

    def learn(self, headers: Any) -> None:
        """Adopt the announced limits and pause before the budget runs out (x-ratelimit-* headers)."""
        if headers is None:
            return
        for limiter, unit, need in ((self.requests, "requests", 2.0), (self.tokens, "tokens", self._last_cost)):
            limit = int_header(headers, f"x-ratelimit-limit-{unit}")
            remaining = int_header(headers, f"x-ratelimit-remaining-{unit}")
            reset = parse_duration(headers.get(f"x-ratelimit-reset-{unit}"))
            if limit and limit > 0:
                burst = max(1.0, limit / 10) if unit == "requests" else float(limit)
                limiter.set_rate(limit, self.period, burst=burst)
                if unit == "tokens":
                    self._token_bucket = float(limit)
            if remaining is None or reset is None or remaining >= need:
                continue
            # Nothing left: wait for the reset (exact for a fixed window; for OpenAI's refilling bucket it is
            # cautious, but our own pacing never drains it, so other traffic did). Nearly nothing left (the
            # margin covers calls still in flight): the budget refills evenly until `reset`, so wait for
            # the share we lack.
            used = (limit - remaining) if limit and limit > remaining else None
            wait = reset if remaining <= 0 or not used else reset * min(1.0, (need - remaining) / used)
            limiter.pause_for(wait, f"OpenAI {unit} per minute nearly used up")

    @staticmethod
    def reset_wait(headers: Any, tier: str | None) -> float | None:
        """For a 429 without retry-after: the reset time of the exhausted limit (`tier` when known)."""
        if tier in ("requests", "tokens"):
            return parse_duration(headers.get(f"x-ratelimit-reset-{tier}"))
        waits = [parse_duration(headers.get(f"x-ratelimit-reset-{unit}")) for unit in ("requests", "tokens")
                 if int_header(headers, f"x-ratelimit-remaining-{unit}") == 0]
        waits = [w for w in waits if w is not None]
        return max(waits) if waits else None
