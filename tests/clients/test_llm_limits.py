"""Remembered OpenAI limits (`desktop.clients.llm_limits`): a run that knows the account's limits from an
earlier one does not wait for its first answer before sending more than the blind few; one that does not
know them still does. Against the OpenAI simulator over loopback, with the real SDK."""

from __future__ import annotations

import asyncio

import pytest

from desktop.clients import llm_limits
from desktop.clients.llm import LlmClient
from desktop.core.llm_extractor import ShipmentList, load_prompt
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import generate_workspace

CALLS = 60


@pytest.fixture(scope="module")
def sims():
    cfg = SimConfig.for_tests()
    cfg.openai.latency.median_ms, cfg.openai.latency.tail_probability = 300.0, 0.0
    cfg.openai.requests_per_minute, cfg.openai.tokens_per_minute = 10_000, 50_000_000
    with start_simulators(generate_workspace(seed=7, conversations=5), cfg) as running:
        yield running


def peak_in_flight(sims, limits_file) -> int:
    """Send CALLS calls at once; the most that were on the wire together."""
    async def main() -> int:
        client = LlmClient(sims.openai_url, DEMO_KEYS["openai"], "gpt-test", limits_file=limits_file)
        prompt = load_prompt()
        await asyncio.gather(*(client.parse(prompt, f"Order {i}: nothing shipped yet.", ShipmentList)
                               for i in range(CALLS)))
        await client.aclose()
        return client.stats.in_flight.peak
    return asyncio.run(main())


def test_a_second_run_starts_from_the_limits_the_first_one_was_told(sims, tmp_path):
    limits_file = tmp_path / "openai-limits.json"
    # Nothing known: the blind few, and the rest only once the first answer came back (so never all).
    assert peak_in_flight(sims, limits_file) < CALLS
    remembered = llm_limits.load(limits_file, sims.openai_url, "gpt-test")
    assert remembered is not None and remembered[:2] == (10_000, 50_000_000)
    assert peak_in_flight(sims, limits_file) == CALLS   # known (half of it is 5,000): all at once


def test_without_a_file_nothing_is_remembered(sims):
    assert peak_in_flight(sims, None) < CALLS and peak_in_flight(sims, None) < CALLS


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"x": 1}', '{"http://a gpt-test": {"requests": -1}}'])
def test_an_unreadable_memory_is_no_memory(tmp_path, content):
    path = tmp_path / "limits.json"
    path.write_text(content, encoding="utf-8")
    assert llm_limits.load(path, "http://a", "gpt-test") is None
    llm_limits.save(path, "http://a", "gpt-test", 500, 200_000, 60)
    assert llm_limits.load(path, "http://a/", "gpt-test") == (500, 200_000, 60)
