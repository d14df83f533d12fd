"""The one budget design of the three clients, on a fake clock: what goes at once, what waits and how long."""

from __future__ import annotations

import asyncio

import pytest

from desktop.clients.budget import RESET_MARGIN, Budget
from desktop.clients.headers import ServerClock


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def front_like(clock: FakeClock) -> Budget:
    return Budget("Front budget", model="window", window=60.0, share=0.8, probe=1.0, blind=0.5, clock=clock)


def take(budget: Budget, n: int) -> list:
    """Take `n` units that must go without waiting."""
    tickets = []
    for _ in range(n):
        assert budget.delay() == 0.0, f"unit {len(tickets) + 1} had to wait"
        tickets.append(budget._take(1.0))
    return tickets


def answer(budget: Budget, tickets: list, remaining: float, **headers) -> None:
    """The answers to `tickets` come back; the first says `remaining` (with `headers`)."""
    budget.observe(tickets[0], remaining, **headers)
    for ticket in tickets:
        budget.settle(ticket)


def test_the_whole_share_goes_at_once_then_waits_for_the_reset():
    clock = FakeClock()
    budget = front_like(clock)
    probe = take(budget, 1)
    assert budget.delay() is None                      # the limit is unknown until the probe's answer
    answer(budget, probe, 99, limit=100, reset_in=30.0, key=5000.0)
    take(budget, 79)                                   # our 80 of the 100, the probe included
    assert budget.delay() == pytest.approx(30.0 + RESET_MARGIN)
    clock.now += 30.0 + RESET_MARGIN
    take(budget, 40)                                   # a new window: half our share before its first answer
    assert budget.delay() is None


def test_the_first_answer_of_a_new_window_releases_the_rest():
    clock = FakeClock()
    budget = front_like(clock)
    answer(budget, take(budget, 1), 99, limit=100, reset_in=10.0, key=5000.0)
    answer(budget, take(budget, 79), 20, reset_in=9.0, key=5000.0)
    clock.now += 10.1
    blind = take(budget, 40)
    assert budget.delay() is None                             # the rest waits for this window's first answer
    budget.observe(blind[0], 119, reset_in=60.0, key=5060.0)  # the server counted one of them so far
    take(budget, 80 - 40)
    assert budget.delay() == pytest.approx(60.0 + RESET_MARGIN, abs=0.2)
    assert budget.window == 60.0                              # learnt from the step between two resets


def test_late_answers_from_an_old_window_change_nothing():
    clock = FakeClock()
    budget = front_like(clock)
    answer(budget, take(budget, 1), 99, limit=100, reset_in=5.0, key=5000.0)
    old = take(budget, 10)
    clock.now += 5.1
    take(budget, 40)
    budget.observe(old[0], 0, reset_in=0.0, key=5000.0)     # the old window's count, answered late
    assert budget.delay() is None                           # still waiting for the new window's first answer
    budget.observe(old[1], 1, reset_in=0.0, key=4940.0)     # even older
    assert budget.available() == pytest.approx(0.0)


def test_other_integrations_using_the_budget_lower_ours():
    clock = FakeClock()
    budget = front_like(clock)
    answer(budget, take(budget, 1), 99, limit=100, reset_in=50.0, key=5000.0)
    sent = take(budget, 10)
    budget.observe(sent[0], 50, reset_in=49.0, key=5000.0)  # someone else spent 40 meanwhile
    # 50 left, 20 kept for the others, 10 of ours in flight (counted or not): 20 more are ours.
    assert budget.available() == pytest.approx(20.0)
    for ticket in sent:
        budget.settle(ticket)
    assert budget.available() == pytest.approx(30.0)


def test_requests_counted_in_any_order_never_pass_the_limit():
    """Concurrent requests reach the server in any order and their answers come back in any order: the
    lowest count stated, minus what is still in flight, keeps the server's count within its limit."""
    import random

    rng = random.Random(3)
    for _ in range(300):
        clock = FakeClock()
        budget = Budget("Ship24 create", model="window", window=1.0, limit=10, blind=0.5, clock=clock)
        answer(budget, take(budget, 1), 9, limit=10, reset_in=0.9, key=77.0)
        counted, unprocessed, processed = 1, [], []
        for _step in range(30):
            while budget.delay() == 0.0:
                unprocessed.append(budget._take(1.0))
            rng.shuffle(unprocessed)
            for _ in range(rng.randint(0, len(unprocessed))):      # the server counts some, in any order
                counted += 1
                processed.append((unprocessed.pop(), 10 - counted))
            assert counted <= 10
            rng.shuffle(processed)
            for _ in range(rng.randint(0, len(processed))):        # some answers come back, in any order
                ticket, remaining = processed.pop()
                budget.observe(ticket, remaining, reset_in=0.9, key=77.0)
                budget.settle(ticket)
        assert counted >= 8, "the budget should still be spent, not hoarded"


def test_a_wrong_reset_never_holds_longer_than_the_window():
    clock = FakeClock()
    budget = front_like(clock)
    budget.window = 6.0
    budget.observe(take(budget, 1)[0], 0, limit=100, reset_in=180.0, key=5000.0)  # a clock 3 min off
    assert budget.delay() == pytest.approx(6.0 + RESET_MARGIN)


def test_time_for_says_how_many_windows_a_need_spans():
    """What a scan's ETA asks (`Budget.time_for`): the units still ours go now, the rest at the reset and
    at each window after it; the waiting callers count before the asked ones (`FrontPacer.time_for`)."""
    clock = FakeClock()
    budget = front_like(clock)
    assert budget.time_for(10) is None                 # no limit known before the probe's answer
    answer(budget, take(budget, 1), 99, limit=100, reset_in=30.0, key=5000.0)
    assert budget.time_for(79) == 0.0                  # our 80, less the probe
    assert budget.time_for(80) == pytest.approx(30.0)  # one more: at the reset
    assert budget.time_for(79 + 160) == pytest.approx(30.0 + 60.0)
    assert budget.time_for(79 + 161) == pytest.approx(30.0 + 120.0)
    bucket = Budget("OpenAI requests", model="bucket", window=60.0, limit=600, clock=clock)
    take(bucket, 600)
    assert bucket.time_for(30) == pytest.approx(3.0)   # refills 10 a second


def test_callers_waiting_in_acquire_are_counted_until_they_go():
    clock = FakeClock()
    budget = front_like(clock)
    answer(budget, take(budget, 1), 99, limit=100, reset_in=30.0, key=5000.0)
    take(budget, 79)

    async def main() -> None:
        waiter = asyncio.create_task(budget.acquire())
        await asyncio.sleep(0)
        assert budget.waiting == 1.0
        clock.now += 30.0 + RESET_MARGIN
        budget.set_limit(100)                           # wakes the waiter: a new window
        await asyncio.wait_for(waiter, 1.0)
        assert budget.waiting == 0.0

    asyncio.run(main())


def test_a_probe_answered_without_budget_headers_waits_one_window_at_most():
    """Ship24's bulk budget (3/s, half of it before a window's first answer). The probe's answer carried no
    budget headers (a 5xx, a proxy's 429), so the client adopts the documented limit and no answer names the
    window. The next request waits for the end of the window the probe opened: it once waited for an answer
    that no request in flight could bring, for ever (the registration worker stuck in drain_once)."""
    clock = FakeClock()
    budget = Budget("Ship24 bulk budget", model="window", window=1.0, blind=0.5, clock=clock)
    probe = take(budget, 1)[0]
    budget.settle(probe)
    budget.set_limit(3.0)            # what `Ship24Client._observe_limits` does without headers
    budget.observe(probe, None)
    clock.now += 0.2
    assert budget.delay() == pytest.approx(0.8 + RESET_MARGIN)
    clock.now += 0.8 + RESET_MARGIN
    take(budget, 1)


def test_bucket_spends_what_is_there_then_goes_at_the_refill_rate():
    clock = FakeClock()
    budget = Budget("OpenAI requests", model="bucket", window=60.0, limit=600, clock=clock)
    take(budget, 600)
    assert budget.delay() == pytest.approx(0.1)             # 600 a minute refill: one every 0.1 s
    clock.now += 1.0
    take(budget, 10)


def test_bucket_learns_its_refill_period_and_others_usage_from_the_headers():
    clock = FakeClock()
    budget = Budget("OpenAI tokens", model="bucket", window=60.0, probe=100.0, clock=clock)
    ticket = budget._take(50.0)
    # 1,000 a period; 400 left; full again in 3 s: 600 refill in 3 s, so the period is 5 s.
    budget.observe(ticket, 400, limit=1000, refill=3.0)
    assert budget.window == pytest.approx(5.0)
    assert budget.available() == pytest.approx(400.0)
    clock.now += 1.0
    assert budget.available() == pytest.approx(600.0)


def test_a_remembered_bucket_starts_at_its_guess_and_the_first_answer_replaces_it():
    """Limits remembered from an earlier run: half the bucket may go before any answer; the first answer's
    `remaining` then sets the level, up as well as down (less what is still in flight); later answers only
    lower it, as usual."""
    clock = FakeClock()
    budget = Budget("OpenAI tokens", model="bucket", window=60.0, limit=1000, start_level=0.5, clock=clock)
    assert budget.available() == pytest.approx(500.0)
    first, second = budget._take(100.0), budget._take(100.0)
    budget.settle(first)
    budget.observe(first, 900, limit=1000)                 # the server had room: up, less `second`
    assert budget.available() == pytest.approx(800.0)
    budget.settle(second)
    budget.observe(second, 950, limit=1000)                # later answers never raise it
    assert budget.available() == pytest.approx(800.0)
    budget.observe(budget._take(10.0), 300, limit=1000)    # ...but lower it
    assert budget.available() == pytest.approx(300.0)


def test_a_server_without_budget_headers_is_not_paced():
    budget = Budget("OpenAI requests", model="bucket", window=60.0, probe=2.0, clock=FakeClock())
    take(budget, 2)
    assert budget.delay() is None
    budget.no_budget_headers()
    take(budget, 100)


def test_pause_holds_everyone_and_never_shortens():
    clock = FakeClock()
    budget = Budget("Ship24 create", model="window", window=1.0, limit=10, clock=clock)
    budget.pause_for(5, "asked to slow down")
    budget.pause_for(1)
    assert budget.delay() == pytest.approx(5.0)
    assert "asked to slow down" in budget._reason()


def test_waiters_go_in_order_as_soon_as_the_probe_answers():
    async def main():
        budget = Budget("Front", model="window", window=60.0, share=0.8, probe=1.0, blind=0.5)
        probe = await budget.acquire()
        order = []

        async def request(i):
            await budget.acquire()
            order.append(i)
        waiters = [asyncio.create_task(request(i)) for i in range(5)]
        await asyncio.sleep(0.05)
        assert order == []                                   # all wait for the probe's answer
        budget.observe(probe, 99, limit=100, reset_in=30.0, key=9000.0)
        await asyncio.wait_for(asyncio.gather(*waiters), 1.0)
        return order
    assert asyncio.run(main()) == [0, 1, 2, 3, 4]


def test_server_clock_is_a_lower_bound_that_converges():
    wall = FakeClock()
    clock = ServerClock(wall)
    # The server is 180.4 s ahead; its Date truncates to the second.
    for fraction in (0.0, 0.3, 0.55, 0.61, 0.9):
        wall.now = 1000.0 + fraction
        server = wall.now + 180.4
        clock.learn({"date": _http_date(int(server))}, received_at=wall.now)
        assert clock.offset <= 180.4
    assert clock.offset == pytest.approx(180.4, abs=0.1)
    assert clock.seconds_until(wall.now + 180.4 + 10) >= 10


def test_server_clock_follows_a_clock_being_set():
    wall = FakeClock()
    clock = ServerClock(wall)
    clock.learn({"date": _http_date(int(wall.now + 100))}, received_at=wall.now)
    clock.learn({"date": _http_date(int(wall.now - 60))}, received_at=wall.now)
    assert clock.offset == pytest.approx(-60, abs=1)


def _http_date(epoch: float) -> str:
    import email.utils
    return email.utils.formatdate(epoch, usegmt=True)
