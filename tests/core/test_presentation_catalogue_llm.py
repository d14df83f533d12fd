"""The LLM extractor over the presentation catalogue, answered by the OpenAI simulator.

The simulator reads each text with its own detector (desktop.sim.numbers, independent of the engine), and
here also misses 10 % of the numbers, names a wrong carrier 10 % of the time and invents a number in 20 %
of its answers. Whatever it says, the product must keep exactly what the engine finds: every catalogue
number (with the engine's courier) and no decoy, no invented number.

Sampled, not the full cross product (each call is an HTTP round trip): every number twice and every decoy
once, each time in another presentation, so every presentation is used (about 490 texts).
"""

from __future__ import annotations

import asyncio
from collections import Counter

import openai
import pytest

from desktop.clients.llm import LlmClient
from desktop.core.llm_extractor import LlmExtractor
from desktop.core.rules_extractor import RulesExtractor
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import generate_workspace
from tests.helpers.catalogue import PRESENTATIONS, conversation, render
from tests.helpers.catalogue_items import check_digit_decoys, decoy_items, load_numbers, tracking_item

CONCURRENCY = 8


@pytest.fixture(scope="module")
def sims():
    cfg = SimConfig.for_tests()
    cfg.openai.rate_limits = False
    cfg.openai.requests_per_minute, cfg.openai.tokens_per_minute = 1_000_000, 1_000_000_000
    cfg.openai.missed_number_rate = 0.10
    cfg.openai.wrong_carrier_rate = 0.10
    cfg.openai.invented_number_rate = 0.20
    with start_simulators(generate_workspace(seed=7, conversations=10), cfg) as running:
        yield running


def _client(sims) -> LlmClient:
    http = openai.DefaultAsyncHttpx2Client(trust_env=False)
    return LlmClient(sims.openai_url, DEMO_KEYS["openai"], "gpt-test", http_client=http, max_retries=4,
                     backoff_base=0.01, backoff_max=0.05)


def _sample() -> list[tuple[str, str, bool, set[str] | None]]:
    """(case id, text, is_html, the catalogue number or None for a decoy)."""
    numbers = load_numbers()
    count = len(PRESENTATIONS)
    cases = []
    for index, entry in enumerate(numbers):
        for where in {index % count, (index * 7 + 3) % count}:
            presentation = PRESENTATIONS[where]
            item = tracking_item(entry, index, named=presentation.names_carrier)
            cases.append((f"cnv_n{index}_{where}", render(presentation, item, index, entry), presentation.html,
                          {entry.number}))
    for index, item in enumerate(decoy_items() + check_digit_decoys(numbers)):
        presentation = PRESENTATIONS[index % count]
        cases.append((f"cnv_d{index}", render(presentation, item, index), presentation.html, None))
    return cases


async def _run_all(extractor: LlmExtractor, cases) -> dict:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(cid: str, text: str, is_html: bool):
        async with gate:
            return cid, await extractor.extract(conversation(text, is_html=is_html, cid=cid))

    try:
        return dict(await asyncio.gather(*(one(cid, text, is_html) for cid, text, is_html, _ in cases)))
    finally:
        await extractor.llm.aclose()


@pytest.mark.slow
def test_the_llm_path_keeps_what_the_engine_finds_and_nothing_else(sims):
    cases = _sample()
    results = asyncio.run(_run_all(LlmExtractor(_client(sims)), cases))
    rules = RulesExtractor()
    wrong: list[str] = []
    flags: Counter[str] = Counter()
    for cid, text, is_html, expected in cases:
        result = results[cid]
        engine = {(s.tracking_number, s.courier) for s in rules.extract_sync(conversation(text, is_html=is_html))
                  .shipments}
        kept = {(s.tracking_number, s.courier) for s in result.shipments}
        flags.update(f for s in result.shipments for f in s.flags)
        if kept != engine or {n for n, _ in kept} != (expected or set()):
            wrong.append(f"{cid} {text[:100]!r}: llm path {sorted(kept)}, engine {sorted(engine)}")
    calls = sum(r.llm_calls for r in results.values())
    dropped = sum(r.invented for r in results.values())
    skipped = sum(r.skipped_llm for r in results.values())
    print(f"\nllm path over {len(cases)} catalogue texts: {len(wrong)} differ from the engine; LLM calls {calls}, "
          f"skipped by the pre-filter {skipped}, proposals dropped {dropped}, flags {dict(flags)}")
    assert wrong == [], "\n".join(wrong[:20])
    assert dropped > 0 and flags["llm_missed"] > 0     # the simulator did invent and miss numbers
