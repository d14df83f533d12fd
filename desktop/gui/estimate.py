"""The estimate shown before a scan starts: conversations, unchanged ones, LLM calls, tokens, cost, Front time.

One search page gives Front's `_total` for the range (one request); the database says how many of the
conversations it knows there are unchanged since their last scan. The rest is arithmetic, in
`compute_estimate` (pure, tested without Qt or network).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from desktop.store import views

#: USD per million tokens (input, output); unknown models show no cost rather than a wrong one.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1-mini": (0.40, 1.60), "gpt-4.1": (2.00, 8.00), "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-5-mini": (0.25, 2.00), "gpt-5-nano": (0.05, 0.40),
}
#: Mean input tokens per conversation before this database has measured any.
DEFAULT_TOKENS_IN = 1500
TOKENS_OUT = 150
#: Front's smallest plan allows 50 requests a minute; used until the client knows the real limit.
FRONT_MIN_LIMIT_PER_MINUTE = 50
SEARCH_PAGE = 100


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

    def lines(self) -> list[str]:
        cost = f"about ${self.cost_usd:.2f}" if self.cost_usd is not None else "cost unknown for this model"
        llm = (f"Up to {self.llm_calls:,} LLM calls, about {self.tokens_in + self.tokens_out:,} tokens ({cost})"
               if self.llm_calls else "No LLM calls (rules extractor, or nothing to read)")
        return [
            f"{self.conversations:,} conversations in range, {self.unchanged:,} unchanged since their last scan "
            f"→ {self.to_scan:,} to read",
            llm,
            f"About {self.front_requests:,} Front requests: {self.minutes:.1f} min at "
            f"{self.front_rate_per_minute:.0f} requests/min",
        ]


def compute_estimate(total: int, unchanged: int, *, extractor: str, model: str, average_tokens: float | None,
                     budget_share: float, limit_per_minute: float | None = None) -> Estimate:
    """Arithmetic of the estimate; `limit_per_minute` is Front's company limit when known."""
    unchanged = min(unchanged, total)
    to_scan = max(total - unchanged, 0)
    llm_calls = to_scan if extractor == "llm" else 0
    tokens_in = int(llm_calls * (average_tokens or DEFAULT_TOKENS_IN))
    tokens_out = llm_calls * TOKENS_OUT
    price = PRICES.get(model)
    if not llm_calls:
        cost: float | None = 0.0
    else:
        cost = None if price is None else (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000
    requests = max(1, math.ceil(total / SEARCH_PAGE)) + to_scan
    rate = max(1.0, (limit_per_minute or FRONT_MIN_LIMIT_PER_MINUTE) * budget_share)
    return Estimate(total, unchanged, to_scan, llm_calls, tokens_in, tokens_out, cost, requests, rate,
                    requests / rate)


async def front_total(front, since: float, until: float, inboxes: tuple[str, ...]) -> int:
    """Conversations in range from ONE search page: Front's `_total`, else the page's length."""
    pages = front.search(since, until, inboxes)
    try:
        first = await anext(pages, [])
    finally:
        await pages.aclose()
    total = getattr(front, "last_total", None)
    return int(total) if total is not None else len(first)


def front_limit(front) -> float | None:
    """Front's company limit per minute as the client learnt it from the last answer's headers.

    Reads `front.pacer.company.limit`/`.window` (requests per window of seconds); None when unknown, and
    the estimate then assumes Front's smallest plan.
    """
    company = getattr(getattr(front, "pacer", None), "company", None)
    limit, window = getattr(company, "limit", None), getattr(company, "window", None)
    if not isinstance(window, int | float) or window <= 0:
        window = 60.0  # Front's limits are per minute until the client has measured the window
    if isinstance(limit, int | float) and limit > 0:
        return float(limit) * 60.0 / float(window)
    return None


async def estimate_scan(front, settings, since: float, until: float, inboxes: tuple[str, ...],
                        extractor: str) -> Estimate:
    total = await front_total(front, since, until, inboxes)
    known = views.known_conversations(since, until, inboxes)
    return compute_estimate(total, known.unchanged, extractor=extractor, model=settings.model,
                            average_tokens=known.average_tokens, budget_share=settings.front_budget_share,
                            limit_per_minute=front_limit(front))
