"""The scan's ETA, fed by a simulated run on a fake clock: the window's slots, answer times drawn from a
log-normal, and optionally a budget that lets only so many start per window (Front-bound)."""

from __future__ import annotations

import heapq
import random

from desktop.core.eta import Eta


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def simulate(n: int, slots: int, median: float, sigma: float, per_window: int | None = None,
             window: float = 6.0, seed: int = 1, spared: float = 0.0, tell_asked: bool = True
             ) -> list[tuple[float, float]]:
    """Run n conversations; returns (fraction done, predicted total) at every finish, then the real total.

    `spared`: the share of conversations the pre-filter spares the LLM (their fetch and the engine take 0.3 of the median answer);
    `tell_asked`: whether the ETA is told which ones waited for an answer."""
    rng = random.Random(seed)
    clock = Clock()
    eta = Eta(clock)
    running: list[tuple[float, int]] = []
    started = done = 0
    window_start, in_window = 0.0, 0
    predictions = []

    def start_more():
        nonlocal started, window_start, in_window
        while started < n and len(running) < slots:
            if per_window is not None:
                if clock.now >= window_start + window:
                    window_start, in_window = clock.now - (clock.now - window_start) % window, 0
                if in_window >= per_window:
                    return
                in_window += 1
            eta.conversation_started(str(started))
            asked = rng.random() >= spared
            took = median * rng.lognormvariate(0.0, sigma) if asked else median * 0.3
            heapq.heappush(running, (clock.now + took, started, asked))
            started += 1

    start_more()
    while running or started < n:
        next_window = window_start + window if per_window is not None and started < n else float("inf")
        end, key, asked = running[0] if running else (float("inf"), -1, False)
        if next_window < end and len(running) < slots:
            clock.now = next_window
            start_more()
            continue
        heapq.heappop(running)
        clock.now = end
        eta.conversation_finished(str(key), asked=asked and tell_asked)
        done += 1
        start_more()
        left = eta.seconds_left(n)
        if left is not None:
            predictions.append((done / n, clock.now + left))
    return [(f, p / clock.now) for f, p in predictions]


def worst_after(predictions, fraction=0.2) -> float:
    return max(abs(ratio - 1.0) for f, ratio in predictions if f >= fraction)


def test_steady_answers():
    assert worst_after(simulate(600, 150, 1.5, 0.35)) <= 0.25


def test_front_bound_bursts():
    assert worst_after(simulate(2000, 150, 1.2, 0.35, per_window=96)) <= 0.25


def test_conversations_spared_the_llm_do_not_read_as_a_heavy_tail():
    """A third of the conversations need no LLM answer and end in a fraction of the time. Fitted together
    with the others, the two humps read as one wide log-normal with a long tail (the week benchmark's ETA
    said 18 s for a 6 s scan); fitted to the answered ones, the ETA holds within 25% from 20% done. The
    control (the ETA not told which conversations were answered) shows the test can fail."""
    told = [worst_after(simulate(600, 150, 1.2, 0.35, spared=0.35, seed=seed)) for seed in range(1, 5)]
    blind = [worst_after(simulate(600, 150, 1.2, 0.35, spared=0.35, seed=seed, tell_asked=False))
             for seed in range(1, 5)]
    assert max(told) <= 0.25 < min(blind)


def test_a_short_scan_refits_as_answers_come_in():
    """120 conversations in a window of 150, all started at once: the end is the slowest of them, and the
    whole scan lasts a few seconds, so a fit renewed only every REFIT_EVERY seconds is stale most of the
    time. Renewed as answers come in (REFIT_GROWTH), the median worst error from half-way on over 12 runs
    stays within 25% (measured 0.225; with time-based refits alone 0.29)."""
    import statistics

    errors = [worst_after(simulate(120, 150, 1.2, 0.35, seed=seed), 0.5) for seed in range(1, 13)]
    assert statistics.median(errors) <= 0.25


def test_heavy_tail_is_anticipated_as_well_as_it_can_be():
    """Answers with sigma 1.0: the end is the slowest of ~500 answers, a random extreme that no estimator
    foresees within 25% every time, and the ETA never promises more than 3x the longest answer seen so far
    (so a mix of quick and slow conversations cannot make it cry wolf). Over 12 runs the median worst error
    from half-way on stays under 55% (measured: 50%); the app's former `left / rate` was off by 63-89%
    there, median 77%: it never sees the tail coming."""
    import statistics

    errors = [worst_after(simulate(600, 150, 1.5, 1.0, seed=seed), 0.5) for seed in range(1, 13)]
    print(f"heavy tail, worst error from 50% per run: {[round(e, 2) for e in errors]}")
    assert statistics.median(errors) <= 0.55


def test_censored_fit_recovers_a_normal_from_its_quick_half():
    """Only values under 0 were seen whole; the rest are known to be above their age so far."""
    from desktop.core.eta import censored_fit

    rng = random.Random(7)
    draws = [rng.gauss(1.0, 2.0) for _ in range(4000)]
    exact = [d for d in draws if d < 0.0]
    censored = [0.0 for d in draws if d >= 0.0]
    mu, sigma = censored_fit(exact, censored)
    assert abs(mu - 1.0) < 0.15 and abs(sigma - 2.0) < 0.15


def simulate_budget_in_slot(n: int, slots: int, per_window: int, window: float, *, median: float = 1.2,
                            sigma: float = 0.35, fetch: float = 0.15, told: bool = True, seed: int = 1
                            ) -> list[tuple[float, float]]:
    """As the pipeline runs a Front-bound scan: a conversation takes its slot at once and waits inside it
    for Front's budget (`per_window` requests a window, first come first served), then its fetch and its
    answer. `told`: the ETA hears when each one is served and asks the budget how long it keeps the
    waiting ones (as `FrontPacer.time_for` answers); otherwise it sees starts and ends only."""
    rng = random.Random(seed)
    clock = Clock()
    eta = Eta(clock)
    queue: list[int] = []                  # waiting for the budget, in order
    events: list[tuple[float, int, str]] = []
    state = {"started": 0, "done": 0, "running": 0, "window": 0, "sent": 0}

    def budget_wait(more: int) -> float:
        need = len(queue) + more - (per_window - state["sent"])
        if need <= 0:
            return 0.0
        return (state["window"] + 1) * window - clock.now + (-(-need // per_window) - 1) * window

    if told:
        eta.budget_wait = budget_wait

    def admit() -> None:
        while state["started"] < n and state["running"] < slots:
            key = state["started"]
            state["started"] += 1
            state["running"] += 1
            eta.conversation_started(str(key), waiting=told)
            queue.append(key)
        while queue and state["sent"] < per_window:
            key = queue.pop(0)
            state["sent"] += 1
            heapq.heappush(events, (clock.now + fetch, key, "served"))

    admit()
    predictions = []
    while state["done"] < n:
        next_window = (state["window"] + 1) * window
        if queue and (not events or next_window < events[0][0]):
            clock.now, state["window"], state["sent"] = next_window, state["window"] + 1, 0
            admit()
            continue
        clock.now, key, what = heapq.heappop(events)
        if what == "served":
            if told:
                eta.conversation_served(str(key))
            heapq.heappush(events, (clock.now + median * rng.lognormvariate(0.0, sigma), key, "done"))
            continue
        eta.conversation_finished(str(key), asked=True)
        state["done"] += 1
        state["running"] -= 1
        admit()
        left = eta.seconds_left(n)
        if left is not None:
            predictions.append((state["done"] / n, clock.now + left))
    return [(f, p / clock.now) for f, p in predictions]


def test_conversations_waiting_for_the_budget_inside_their_slot_are_not_slow_answers():
    """The demo's scan: 300 conversations, 150 slots, Front's share 160 a 6 s window. Half of them hold
    their slot for seconds while the budget keeps them; seen as answers, those waits read as a tail of
    seconds (the ETA said 15 s left 0.1 s before the end). Told when each is served and how long the
    budget keeps them, the ETA holds within 25% from 20% done; the control (not told) shows the test can
    fail."""
    told = [worst_after(simulate_budget_in_slot(300, 150, 160, 6.0, seed=seed)) for seed in range(1, 5)]
    blind = [worst_after(simulate_budget_in_slot(300, 150, 160, 6.0, told=False, seed=seed))
             for seed in range(1, 5)]
    print(f"budget inside the slot: told {[round(e, 2) for e in told]}, not told {[round(e, 2) for e in blind]}")
    assert max(told) <= 0.25 < min(blind)


def test_a_front_bound_scan_with_the_budget_inside_the_slot():
    """2,000 conversations at 96 a 6 s window, the budget waited for inside the slots (the benchmark's
    Front-bound scenario, as the pipeline runs it)."""
    assert worst_after(simulate_budget_in_slot(2000, 150, 96, 6.0)) <= 0.25
