"""Retry timing for temporary failures: exponential backoff with jitter, a cap, and a maximum of attempts.

The one backoff of the project: the Front and OpenAI clients wait `delay(n)` between attempts of one
request; the registration worker schedules an outbox row's next attempt with `next_attempt_at`.
Pure: no clock and no I/O. `Backoff.delay(n)` is the wait after the n-th consecutive failure (1-based);
`next_attempt_at(now, n)` is when to try again, or None once `max_attempts` failures have happened (the item
then waits as failed/temporary for a person to press Retry).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """`base * factor**(n-1)` seconds, at most `cap`, with the top `jitter` share randomised.

    Jitter spreads retries of many items failed together (e.g. one 5xx on a bulk call) so they do not all
    come back in the same second.
    """

    base: float = 10.0
    factor: float = 2.0
    cap: float = 1800.0
    max_attempts: int = 8
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.cap < self.base or self.max_attempts < 1:
            raise ValueError("invalid backoff parameters")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be within 0..1")

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after `failures` consecutive failures (>= 1)."""
        exponent = max(0, failures - 1)
        # Cap the exponent before computing the power so huge attempt counts cannot overflow.
        raw = self.cap if exponent > 64 else min(self.cap, self.base * self.factor ** exponent)
        return raw * (1 - self.jitter) + raw * self.jitter * rand()

    def exhausted(self, failures: int) -> bool:
        """True once `failures` consecutive failures reached the maximum: stop retrying by itself."""
        return failures >= self.max_attempts

    def next_attempt_at(self, now: float, failures: int, *, retry_after: float | None = None,
                        rand: Callable[[], float] = random.random) -> float | None:
        """When to try again after `failures` failures, never sooner than the server's `retry_after`;
        None when the attempts are exhausted."""
        if self.exhausted(failures):
            return None
        wait = self.delay(failures, rand)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return now + wait
