"""The scan benchmark's LLM-in-flight ceiling (an ideal client's figure): the model behind a printed
ratio must itself be right, or the ratio means nothing."""

from __future__ import annotations

import random

import pytest

from tests.benchmarks import bench_scan
from tests.benchmarks.bench_scan import SCENARIOS, Scenario, _ideal_run, llm_in_flight_ceiling


def _scenario(**changes) -> Scenario:
    return Scenario(**{**SCENARIOS["llm"].__dict__, **changes})


def test_without_fetches_or_listing_every_slot_holds_a_call(monkeypatch):
    """No fetch time, one listing page ahead of everything: an ideal client keeps the whole window in
    LLM calls until the last conversation starts."""
    monkeypatch.setattr(bench_scan, "PAGE_SIZE", 10_000)
    figure = _ideal_run(_scenario(front_ms=0.0), 1.0, random.Random(1))
    assert figure == pytest.approx(150, abs=0.5)


def test_the_fetches_and_the_spared_conversations_lower_it():
    """Each conversation's fetch holds its slot, and conversations without a call hold slots with none:
    the ceiling falls with both, and stays in the range the issue's scenario implies."""
    all_asked = llm_in_flight_ceiling(SCENARIOS["llm"], 1.0, draws=30)
    most_asked = llm_in_flight_ceiling(SCENARIOS["llm"], 0.63, draws=30)
    slow_fetches = llm_in_flight_ceiling(_scenario(front_ms=600.0), 0.63, draws=30)
    assert 150 > all_asked > most_asked > slow_fetches > 60
    assert 115 < most_asked < 135


def test_no_call_no_calls_in_flight():
    assert _ideal_run(SCENARIOS["llm"], 0.0, random.Random(2)) == 0.0


def test_no_ceiling_where_a_budget_binds():
    """The ideal client knows answer times, not budgets: a Front-bound run gets no ceiling to be weighed by."""
    summary = {"conversations_listed": 2000, "llm_calls": 1300,
               "concurrency": {"llm_calls_in_flight_avg_while_remaining": 13.6}}
    front_bound = {"front_bound": 119.1, "latency_bound": 30.0, "bound": 119.1}
    latency_bound = {"front_bound": 0.0, "latency_bound": 23.6, "bound": 23.6}
    assert bench_scan.ceiling_figures(SCENARIOS["front"], summary, front_bound) == {}
    assert bench_scan.ceiling_figures(SCENARIOS["llm"], {**summary, "conversations_listed": 600, "llm_calls": 380},
                                      latency_bound)["llm_in_flight_ceiling"] > 100
