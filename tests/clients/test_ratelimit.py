"""The pacing limiter, driven by a fake clock so nothing depends on the machine's speed."""

from __future__ import annotations

import asyncio

from desktop.clients.ratelimit import RateLimiter


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_burst_then_even_spacing():
    clock = FakeClock()
    limiter = RateLimiter(10, 1.0, burst=2, clock=clock)
    assert limiter.delay_for() == 0
    limiter._tat = clock.now + 0.2  # two units taken at once
    assert abs(limiter.delay_for() - 0.1) < 1e-9


def test_pause_holds_everyone_and_is_reported():
    clock = FakeClock()
    waits = []
    limiter = RateLimiter(100, 1.0, clock=clock, on_wait=lambda s, r: waits.append((s, r)))
    limiter.pause_for(5, "Front budget")
    assert abs(limiter.delay_for() - 5) < 1e-9
    limiter.pause_for(1, "shorter")  # never shortens a pause
    assert abs(limiter.delay_for() - 5) < 1e-9


def test_acquire_waits_and_reports(monkeypatch):
    waits = []
    limiter = RateLimiter(1000, 1.0, on_wait=lambda s, r: waits.append(r), report_after=0.0)
    limiter.pause_for(0.05, "server asked")

    async def go():
        return await limiter.acquire()

    waited = asyncio.run(go())
    assert waited > 0 and waits == ["server asked"]


def test_weighted_costs_use_more_budget():
    clock = FakeClock()
    limiter = RateLimiter(1000, 60.0, burst=1000, clock=clock)  # 1000 tokens a minute
    limiter._tat = clock.now + 60.0  # the whole minute's budget is used
    assert abs(limiter.delay_for(500) - 30.0) < 1e-6
