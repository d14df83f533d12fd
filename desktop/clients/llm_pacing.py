"""Pacing for `desktop.clients.llm`: OpenAI's request (RPM) and token (TPM) budgets, before any 429.

OpenAI's limits are buckets that refill continuously; every answer states them in
`x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (the reset is the time until the bucket is full,
which also gives its refill rate). `LlmPacer` mirrors both with `desktop.clients.budget.Budget` buckets:
while both have room, calls go at once; then as fast as they refill. Before the first answer at most
`BLIND_REQUESTS` calls and `BLIND_TOKENS` tokens go (the smallest paid tier fits them); a server that
announces no limits at all (Ollama, vLLM) is then not paced. `pause(tier, seconds)` holds every caller
after a 429. Waits of a second or more are reported through `on_wait(seconds, reason)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop.clients.budget import Budget, Ticket
from desktop.clients.headers import duration, openai_budget
from desktop.clients.headers import retry_after as retry_after_seconds

#: What may go before the first answer tells the limits: a tenth of the requests and half of the tokens
#: a full bucket holds on OpenAI's smallest paid tier (tier 1: 500 RPM; 200k TPM for the small chat
#: models, more for the newer ones). The buckets refill continuously, so even one that another program
#: drew on lately holds that much; at 20 and 40k a first scan kept only ~15 calls in flight for its first
#: answer time (the LLM-bound benchmark: 26-50 of 150 in its first second).
BLIND_REQUESTS = 40.0
BLIND_TOKENS = 100_000.0

__all__ = ["BLIND_REQUESTS", "BLIND_TOKENS", "LlmPacer", "LlmTicket", "retry_after_seconds"]


@dataclass(slots=True)
class LlmTicket:
    requests: Ticket
    tokens: Ticket


class LlmPacer:
    """RPM and TPM budgets fed by the server's headers.

    Args:
        rpm, tpm: known budgets per `period` (None: learnt from the first answer's headers).
        period: the seconds a budget takes to refill from empty (60 at OpenAI; learnt from the headers too).
        start_level: the share of known budgets assumed left at the start (`llm_limits`).
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None, *, period: float = 60.0,
                 on_wait: Callable[[float, str], None] | None = None, start_level: float = 1.0) -> None:
        self.requests = Budget("OpenAI requests per minute", model="bucket", window=period, limit=rpm,
                               probe=BLIND_REQUESTS, on_wait=on_wait, start_level=start_level)
        self.tokens = Budget("OpenAI tokens per minute", model="bucket", window=period, limit=tpm,
                             probe=BLIND_TOKENS, on_wait=on_wait, start_level=start_level)

    async def pace(self, cost: float) -> LlmTicket:
        """Wait until one request costing `cost` tokens fits both budgets, then take it."""
        requests = await self.requests.acquire(1.0)
        return LlmTicket(requests, await self.tokens.acquire(float(cost)))

    def learn(self, ticket: LlmTicket, headers: Mapping[str, str] | None) -> None:
        """Adopt what an answer (a success or an error) says about both budgets."""
        if headers is None:
            return
        stated = False
        for budget, unit, claim in ((self.requests, "requests", ticket.requests),
                                    (self.tokens, "tokens", ticket.tokens)):
            state = openai_budget(headers, unit)
            if state.limit and state.limit > 0:
                stated = True
                budget.observe(claim, state.remaining, limit=state.limit, refill=state.until_full)
        if not stated:
            self.requests.no_budget_headers()
            self.tokens.no_budget_headers()

    def settle(self, ticket: LlmTicket) -> None:
        self.requests.settle(ticket.requests)
        self.tokens.settle(ticket.tokens)

    def pause(self, tier: str | None, seconds: float, reason: str) -> None:
        """Hold every caller of the `tier` ("tokens", else requests) budget for `seconds`."""
        (self.tokens if tier == "tokens" else self.requests).pause_for(seconds, reason)

    @staticmethod
    def reset_wait(headers: Any, tier: str | None) -> float | None:
        """For a 429 without retry-after: the reset time of the exhausted limit (`tier` when known)."""
        if tier in ("requests", "tokens"):
            return duration(headers.get(f"x-ratelimit-reset-{tier}"))
        waits = [openai_budget(headers, unit).until_full for unit in ("requests", "tokens")
                 if openai_budget(headers, unit).remaining == 0]
        waits = [w for w in waits if w is not None]
        return max(waits) if waits else None
