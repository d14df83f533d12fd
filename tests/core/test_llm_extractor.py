"""LlmExtractor on the simulator's seed-7 workspace, scored against its ground truth.

The OpenAI simulator invents numbers and names wrong carriers in 5% of its answers: no invented number may
be kept. Precision, recall and the tokens sent per conversation are printed (figures, not asserts).
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics

import openai
import pytest

from desktop.clients.llm import LlmClient
from desktop.core.llm_extractor import (LlmExtractor, ShipmentItem, courier_code_for, couriers_agree,
                                        user_message)
from desktop.core.textprep import prepare
from desktop.domain import Conversation, ConversationRef, Message
from desktop.errors import ExtractionFailed
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import SimConversation, generate_workspace

CONCURRENCY = 8


def to_domain(sim: SimConversation) -> Conversation:
    """A domain Conversation from a simulator conversation (what the Front client would build)."""
    messages = tuple(
        Message(id=m.id, conversation_id=sim.id, created_at=m.created_at, is_inbound=m.is_inbound,
                sender=f"{m.from_name} <{m.from_handle}>", subject=m.subject, body_html=m.body_html,
                text=m.text, blurb=m.blurb)
        for m in sim.messages)
    ref = ConversationRef(id=sim.id, subject=sim.subject, status=sim.status, inbox_ids=tuple(sim.inbox_ids),
                          last_message_id=sim.messages[-1].id if sim.messages else None,
                          last_activity_at=sim.last_activity_at, customer=sim.customer_handle or None)
    return Conversation(ref=ref, messages=messages)


@pytest.fixture(scope="module")
def workspace():
    return generate_workspace(seed=7, conversations=300)


@pytest.fixture(scope="module")
def conversations(workspace):
    return [to_domain(c) for c in workspace.conversations if c.messages and not c.merged_into]


@pytest.fixture(scope="module")
def sims(workspace):
    cfg = SimConfig.for_tests()
    cfg.openai.rate_limits = False          # pacing is tested in tests/clients/test_llm.py
    cfg.openai.invented_number_rate = 0.05
    cfg.openai.wrong_carrier_rate = 0.05
    with start_simulators(workspace, cfg) as running:
        yield running


class Capture:
    """Records the JSON bodies the SDK sends (to read back what text went to the LLM)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []

    async def __call__(self, request) -> None:
        self.bodies.append(json.loads(request.content))

    def user_texts(self) -> list[str]:
        texts = []
        for body in self.bodies:
            if "messages" in body:
                texts.append(next(m["content"] for m in body["messages"] if m["role"] == "user"))
            else:
                texts.append(body["input"])
        return texts


def make_client(sims, capture: Capture | None = None, **kwargs) -> LlmClient:
    hooks = {"request": [capture]} if capture else {}
    http = openai.DefaultAsyncHttpx2Client(trust_env=False, event_hooks=hooks)
    return LlmClient(sims.openai_url, DEMO_KEYS["openai"], "gpt-test", http_client=http,
                     **{"max_retries": 4, "backoff_base": 0.01, "backoff_max": 0.05, **kwargs})


async def run_all(extractor: LlmExtractor, conversations: list[Conversation]) -> dict:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(conv: Conversation):
        async with gate:
            return conv.ref.id, await extractor.extract(conv)

    try:
        return dict(await asyncio.gather(*(one(c) for c in conversations)))
    finally:
        await extractor.llm.aclose()


def score(workspace, results: dict) -> dict:
    truth_all = workspace.truth_by_number
    kept = correct = truth_total = 0
    strays: list[str] = []
    for cid, result in results.items():
        truth = {s.tracking_number for s in workspace.truth[cid]}
        truth_total += len(truth)
        for shipment in result.shipments:
            kept += 1
            if shipment.tracking_number in truth:
                correct += 1
            if shipment.tracking_number not in truth_all:
                strays.append(f"{cid}: {shipment.tracking_number} {shipment.flags}")
    called = [r for r in results.values() if not r.skipped_llm]
    tokens = [r.tokens_in for r in called]
    return {
        "kept": kept, "correct": correct, "truth": truth_total, "strays": strays,
        "precision": correct / kept if kept else 1.0, "recall": correct / truth_total if truth_total else 1.0,
        "invented_dropped": sum(r.invented for r in results.values()),
        "llm_calls": sum(r.llm_calls for r in results.values()), "skipped": len(results) - len(called),
        "tokens_mean": statistics.mean(tokens) if tokens else 0, "tokens_max": max(tokens, default=0),
        "tokens_median": statistics.median(tokens) if tokens else 0,
        "tokens_out": sum(r.tokens_out for r in results.values()),
        "truncated": sum(r.truncated for r in results.values()),
    }


def report(label: str, figures: dict) -> None:
    print(f"\n[{label}] precision {figures['precision']:.4f}  recall {figures['recall']:.4f}  "
          f"(kept {figures['kept']}, correct {figures['correct']}, truth {figures['truth']})\n"
          f"  invented/unconfirmed dropped {figures['invented_dropped']}, invented kept {len(figures['strays'])}, "
          f"LLM calls {figures['llm_calls']}, skipped by pre-filter {figures['skipped']}, "
          f"truncated {figures['truncated']}\n"
          f"  tokens sent per LLM conversation: mean {figures['tokens_mean']:.0f}, "
          f"median {figures['tokens_median']:.0f}, max {figures['tokens_max']}; tokens out total "
          f"{figures['tokens_out']}")


@pytest.mark.slow
def test_no_invented_number_is_kept_on_the_seed7_workspace(sims, workspace, conversations):
    extractor = LlmExtractor(make_client(sims))
    results = asyncio.run(run_all(extractor, conversations))
    figures = score(workspace, results)
    report("llm, pre-filter on, 5% invented + 5% wrong carriers", figures)
    assert figures["strays"] == []                       # NO invented number is kept
    assert figures["invented_dropped"] > 0               # ...and the simulator did invent some
    assert figures["precision"] >= 0.99
    assert figures["recall"] >= 0.95
    # wrong carriers never change the courier: the engine decides
    for cid, result in results.items():
        truth = {s.tracking_number: s for s in workspace.truth[cid]}
        for shipment in result.shipments:
            if shipment.tracking_number in truth:
                assert couriers_agree(shipment.courier, truth[shipment.tracking_number].courier) or \
                    "carrier_disagrees" in shipment.flags or not shipment.validated


@pytest.mark.slow
def test_prefilter_effect_on_recall_is_measured(sims, workspace, conversations):
    extractor = LlmExtractor(make_client(sims), prefilter=False)
    figures = score(workspace, asyncio.run(run_all(extractor, conversations)))
    report("llm, pre-filter off", figures)
    assert figures["strays"] == []


def _count(number: str, text: str) -> int:
    squashed = re.sub(r"[\s\-\u200b]", "", text).upper()
    return squashed.count(number)


def _quoted_case(workspace, conversations):
    """A conversation where a shipment's number appears in more than one message (a quoted reply)."""
    by_id = {c.ref.id: c for c in conversations}
    for cid, shipments in workspace.truth.items():
        conv = by_id.get(cid)
        for shipment in shipments if conv else ():
            holders = [m for m in conv.messages if _count(shipment.tracking_number, m.text or "") > 0]
            if len(holders) >= 2:
                return conv, shipment.tracking_number
    return None, None


def test_quoted_history_is_not_sent_twice(sims, workspace, conversations):
    conv, number = _quoted_case(workspace, conversations)
    if conv is None:
        pytest.skip("the workspace has no quoted reply repeating a tracking number")
    capture = Capture()
    extractor = LlmExtractor(make_client(sims, capture), prefilter=False)
    result = asyncio.run(run_all(extractor, [conv]))[conv.ref.id]
    sent = capture.user_texts()
    assert len(sent) == 1 and result.llm_calls == 1
    assert _count(number, sent[0]) == 1, "the quoted number must reach the LLM once"
    assert sent[0] == user_message(prepare(conv))
    assert number in {s.tracking_number for s in result.shipments}
    print(f"\n{conv.ref.id}: {len(conv.messages)} messages, {result.tokens_in} tokens sent, number sent once")


def test_prefilter_skips_the_llm_without_candidates(sims, conversations, workspace):
    empty = next((c for c in conversations if not workspace.truth[c.ref.id]
                  and not any(re.search(r"\d{8,}", m.text or "") for m in c.messages)), None)
    if empty is None:
        pytest.skip("no conversation without digits")
    capture = Capture()
    result = asyncio.run(run_all(LlmExtractor(make_client(sims, capture)), [empty]))[empty.ref.id]
    assert result.skipped_llm and result.llm_calls == 0 and result.tokens_in == 0
    assert capture.bodies == [] and result.shipments == ()


def test_failure_after_retries_raises_extraction_failed(sims, workspace, conversations):
    conv = next(c for c in conversations if workspace.truth[c.ref.id])
    sims.openai.config.faults.error_5xx_rate = 1.0
    try:
        extractor = LlmExtractor(make_client(sims, max_retries=2))
        with pytest.raises(ExtractionFailed) as caught:
            asyncio.run(run_all(extractor, [conv]))
    finally:
        sims.openai.config.faults.error_5xx_rate = 0.0
    assert caught.value.llm_calls == 3 and "after 3 attempt" in caught.value.reason
    assert "HTTP 5" in caught.value.reason


def test_fallback_returns_the_engine_shipments(sims, workspace, conversations):
    conv = next(c for c in conversations if workspace.truth[c.ref.id])
    sims.openai.config.refusal_rate = 1.0
    try:
        extractor = LlmExtractor(make_client(sims, max_retries=1), fallback=True)
        result = asyncio.run(run_all(extractor, [conv]))[conv.ref.id]
    finally:
        sims.openai.config.refusal_rate = 0.0
    assert result.llm_calls == 2 and result.notes and result.notes[0].startswith("rules fallback")


def test_courier_names_map_to_engine_codes():
    assert courier_code_for("FedEx Ground") == "fedex"
    assert courier_code_for("United States Postal Service") == "usps"
    assert courier_code_for("USPS") == "usps"
    assert courier_code_for("UPS") == "ups"
    assert courier_code_for("DHL eCommerce") == "dhl"
    assert courier_code_for("Royal Mail") == "s10"
    assert courier_code_for("Canada Post") == "canada_post"
    assert courier_code_for("Amazon Logistics") == "amazon"
    assert courier_code_for("Old Dominion Freight Line") == "old_dominion"
    assert courier_code_for(None) is None and courier_code_for("a van") is None
    assert couriers_agree("ontrac", "lasership") and not couriers_agree("ups", "fedex")


def _item(number: str, carrier: str | None = None, **kw) -> ShipmentItem:
    fields = {"order_number": None, "supplier": None, "shipped_date": None, "destination_country": None,
              "destination_postcode": None, "confidence": 0.9, "evidence": "", "message_id": None}
    return ShipmentItem(tracking_number=number, carrier=carrier, **{**fields, **kw})
