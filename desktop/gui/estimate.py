"""The estimate shown before a scan starts: conversations, unchanged ones, LLM calls, tokens, cost, time.

One search page per selected inbox gives Front's `_total` for the range; the database says how many of
the conversations it knows there are unchanged since their last scan. The rest is arithmetic, in
`compute_estimate` (pure, tested without Qt or network), on the scan's own model: our share of Front's
window goes at once and then one share per window; meanwhile up to `concurrency` conversations are in
flight, each taking a Front answer and an LLM answer. The time is the larger of the two bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from desktop.clients.llm_params import REASONING_ALLOWANCE, is_reasoning
from desktop.core.storecalls import store_call
from desktop.store import views

#: USD per million tokens (input, output), OpenAI's standard API prices; unknown models show no cost
#: rather than a wrong one. The gpt-5.4 family (the app's default, gpt-5.4-mini) as published in 2026.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1-mini": (0.40, 1.60), "gpt-4.1": (2.00, 8.00), "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-5-mini": (0.25, 2.00), "gpt-5-nano": (0.05, 0.40),
    "gpt-5.4-mini": (0.75, 4.50), "gpt-5.4-nano": (0.20, 1.25), "gpt-5.4": (2.50, 15.00),
}
#: Mean input tokens per conversation before this database has measured any.
DEFAULT_TOKENS_IN = 1500
#: Output tokens of an answer (the shipments' JSON). A reasoning model also bills its reasoning as output:
#: from none to the allowance each call reserves for it, so its cost is shown as that range.
TOKENS_OUT = 150
#: Front's smallest plan allows 50 requests a minute; used until the client knows the real limit.
FRONT_MIN_LIMIT_PER_MINUTE = 50
SEARCH_PAGE = 100
#: Typical answer times (seconds) until this app has measured its own: Front, and an LLM extraction.
FRONT_ANSWER_SECONDS = 0.3
LLM_ANSWER_SECONDS = 2.0


@dataclass(frozen=True)
class Estimate:
    conversations: int
    unchanged: int
    to_scan: int
    llm_calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None
    front_requests: int
    front_rate_per_minute: float
    minutes: float
    #: Requests our share of one window allows at once (the first ones go without waiting).
    front_at_once: float = 0.0
    #: A reasoning model's cost with every call spending its whole reasoning allowance (else None).
    cost_high_usd: float | None = None

    def lines(self) -> list[str]:
        if self.cost_usd is None:
            cost = "cost unknown for this model"
        elif self.cost_high_usd is not None and self.cost_high_usd > self.cost_usd:
            cost = f"about ${self.cost_usd:.2f}–{self.cost_high_usd:.2f}, as much as the model reasons"
        else:
            cost = f"about ${self.cost_usd:.2f}"
        llm = (f"Up to {self.llm_calls:,} LLM calls, about {self.tokens_in + self.tokens_out:,} tokens ({cost})"
               if self.llm_calls else "No LLM calls (rules extractor, or nothing to read)")
        return [
            f"{self.conversations:,} conversations in range, {self.unchanged:,} unchanged since their last scan "
            f"→ {self.to_scan:,} to read",
            llm,
            f"About {self.front_requests:,} Front requests ({self.front_at_once:.0f} at once, then "
            f"{self.front_rate_per_minute:.0f} a minute): about {_duration(self.minutes)}",
        ]


def _duration(minutes: float) -> str:
    return f"{minutes * 60:.0f} s" if minutes < 1.5 else f"{minutes:.1f} min"


def compute_estimate(total: int, unchanged: int, *, extractor: str, model: str, average_tokens: float | None,
                     budget_share: float, limit_per_minute: float | None = None, window_seconds: float = 60.0,
                     concurrency: int = 150, searches: int = 1,
                     front_answer: float = FRONT_ANSWER_SECONDS, llm_answer: float = LLM_ANSWER_SECONDS
                     ) -> Estimate:
    """Arithmetic of the estimate; `limit_per_minute` is Front's company limit when known, `concurrency`
    the conversations in flight (batch size x batches at once), `searches` the inboxes searched (one
    listing each, so at least one search page each)."""
    unchanged = min(unchanged, total)
    to_scan = max(total - unchanged, 0)
    llm_calls = to_scan if extractor == "llm" else 0
    tokens_in = int(llm_calls * (average_tokens or DEFAULT_TOKENS_IN))
    tokens_out = llm_calls * TOKENS_OUT
    price = PRICES.get(model)
    cost: float | None = 0.0 if not llm_calls else None
    cost_high: float | None = None
    if llm_calls and price is not None:
        cost = (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000
        if is_reasoning(model):
            cost_high = cost + llm_calls * REASONING_ALLOWANCE * price[1] / 1_000_000
    pages = max(1, searches, math.ceil(total / SEARCH_PAGE))
    requests = pages + to_scan
    rate = max(1.0, (limit_per_minute or FRONT_MIN_LIMIT_PER_MINUTE) * budget_share)
    at_once = rate * window_seconds / 60.0                      # one window's share goes at once
    front_minutes = max(0.0, requests - at_once) / rate
    answers = to_scan * front_answer + llm_calls * llm_answer
    latency_minutes = (pages * front_answer + front_answer + (llm_answer if llm_calls else 0.0)
                       + answers / max(1, concurrency)) / 60.0
    return Estimate(total, unchanged, to_scan, llm_calls, tokens_in, tokens_out, cost, requests, rate,
                    max(front_minutes, latency_minutes), front_at_once=at_once, cost_high_usd=cost_high)


async def front_total(front, since: float, until: float, inboxes: tuple[str, ...]) -> int:
    """Conversations in range over EVERY selected inbox (all when none): one search page per inbox, see
    `FrontClient.count`. (It once read only the first inbox's page: two inboxes of 150 showed 150.)"""
    return int(await front.count(since, until, inboxes))


def front_budget(front) -> tuple[float | None, float]:
    """(Front's company limit per minute, its window in seconds) as the client learnt them from the answers.

    Reads `front.pacer.company.limit`/`.window`. The limit is None when unknown (the estimate then assumes
    Front's smallest plan); the window is a minute until the client has measured it. (A time-scaled
    simulator's window counts as a minute of its own: the demo's 200 per 6 s is shown as 2,000 a minute.)
    """
    company = getattr(getattr(front, "pacer", None), "company", None)
    limit, window = getattr(company, "limit", None), getattr(company, "window", None)
    if not isinstance(window, int | float) or window <= 0:
        window = 60.0
    if isinstance(limit, int | float) and limit > 0:
        return float(limit) * 60.0 / float(window), float(window)
    return None, float(window)


async def estimate_scan(front, settings, since: float, until: float, inboxes: tuple[str, ...],
                        extractor: str, concurrency: int | None = None) -> Estimate:
    total = await front_total(front, since, until, inboxes)
    # On the store's thread: with the database on a server, two round trips here froze the window 200 ms.
    known = await store_call(views.known_conversations, since, until, inboxes)
    concurrency = concurrency or settings.batch_size * settings.concurrent_batches
    limit_per_minute, window = front_budget(front)
    return compute_estimate(total, known.unchanged, extractor=extractor, model=settings.model,
                            average_tokens=known.average_tokens, budget_share=settings.front_budget_share,
                            limit_per_minute=limit_per_minute, window_seconds=window, concurrency=concurrency,
                            searches=max(1, len(inboxes)))
