"""The rules extractor: behaviour on small conversations, and its score on the simulator's workspace.

The scoring test builds domain.Conversation objects straight from the generated SimConversations (no HTTP)
and compares with the workspace's ground truth. It asserts precision >= 0.99 and recall >= 0.97 and prints
the figures, plus how many truth shipments sit in conversations the LLM pre-filter would skip.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from desktop.core.extractor import Extractor, make_extractor
from desktop.core.rules_extractor import RulesExtractor, has_plausible_candidate
from desktop.core.textprep import prepare
from desktop.domain import Conversation, ConversationRef, Message

UPS = "1Z5R89390357567127"
FEDEX = "986578788855"


def conversation(*texts: str, subject: str = "Order status") -> Conversation:
    messages = tuple(Message(id=f"msg_{i}", conversation_id="cnv_t", created_at=1_780_000_000 + i, is_inbound=True,
                             sender="Ann <ann@example.com>", subject=subject, body_html="", text=text)
                     for i, text in enumerate(texts))
    return Conversation(ConversationRef("cnv_t", subject, "open", (), messages[-1].id, messages[-1].created_at),
                        messages)


def from_sim(sim) -> Conversation:
    """A domain.Conversation from a desktop.sim SimConversation, as the Front client would build it."""
    messages = tuple(Message(id=m.id, conversation_id=sim.id, created_at=m.created_at, is_inbound=m.is_inbound,
                             sender=f"{m.from_name} <{m.from_handle}>", subject=m.subject, body_html=m.body_html,
                             text=m.text, blurb=m.blurb) for m in sim.messages)
    ref = ConversationRef(sim.id, sim.subject, sim.status, tuple(sim.inbox_ids),
                          messages[-1].id if messages else None, sim.last_activity_at)
    return Conversation(ref, messages)


def extract(conv: Conversation):
    return asyncio.run(RulesExtractor().extract(conv))


def test_one_shipment_per_number_attributed_to_the_first_message():
    result = extract(conversation(f"Your UPS tracking number is {UPS}.", "Thanks!",
                                  f"> Your UPS tracking number is {UPS}.\nStill waiting."))
    assert result.extractor == "rules" and result.llm_calls == 0
    [shipment] = result.shipments
    assert (shipment.tracking_number, shipment.courier, shipment.carrier, shipment.courier_code) == \
        (UPS, "ups", "UPS", "ups")
    assert shipment.message_id == "msg_0" and shipment.validated
    assert UPS in shipment.evidence


def test_a_number_labelled_as_an_order_elsewhere_is_not_taken_on_weak_evidence():
    result = extract(conversation(f"Order #{FEDEX} received.", f"About FedEx: {FEDEX}"))
    assert result.shipments == ()


def test_flags_say_why_a_person_should_look():
    result = extract(conversation("Tracking number: 287809468872", "Amazon tracking TBA010000000000"))
    flags = {s.tracking_number: s.flags for s in result.shipments}
    assert "ambiguous_format" in flags["287809468872"]
    assert "no_check_digit" in flags["TBA010000000000"]


def test_number_in_the_subject_is_found():
    result = extract(conversation("see subject", subject=f"UPS {UPS} delayed"))
    assert [s.tracking_number for s in result.shipments] == [UPS]


def test_prefilter_is_generous_but_skips_empty_conversations():
    assert has_plausible_candidate(prepare(conversation(f"see {FEDEX}")))          # weak, yet plausible
    assert not has_plausible_candidate(prepare(conversation("Where is my order 4711? Call 555-0199.")))


def test_make_extractor():
    rules = make_extractor("rules")
    assert isinstance(rules, Extractor) and rules.name == "rules"
    with pytest.raises(ValueError):
        make_extractor("magic")
    with pytest.raises(ValueError):
        make_extractor("llm")


def test_score_against_the_simulator_workspace():
    workspace_module = pytest.importorskip("desktop.sim.workspace")
    workspace = workspace_module.generate_workspace(seed=7, conversations=300)
    extractor = RulesExtractor()
    tp = fp = fn = wrong_courier = 0
    skipped_conversations = skipped_truth = 0
    mistakes: list[str] = []
    started = time.perf_counter()
    for sim in workspace.conversations:
        if sim.merged_into:
            continue
        conv = from_sim(sim)
        truth = {t.tracking_number: t for t in workspace.truth.get(sim.id, [])}
        found = {s.tracking_number: s for s in extractor.extract_sync(conv).shipments}
        for number, shipment in found.items():
            if number in truth:
                tp += 1
                wrong_courier += shipment.courier != truth[number].courier
            else:
                fp += 1
                mistakes.append(f"false positive {sim.id} {number} ({shipment.courier}): {shipment.evidence}")
        for number in truth.keys() - found.keys():
            fn += 1
            mistakes.append(f"missed {sim.id} {number} ({truth[number].courier})")
        if not has_plausible_candidate(prepare(conv)):
            skipped_conversations += 1
            skipped_truth += len(truth)
    elapsed = time.perf_counter() - started
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    total_truth = tp + fn
    print(f"\nrules extractor on workspace(seed=7, 300): precision {precision:.4f} recall {recall:.4f} "
          f"(tp {tp}, fp {fp}, fn {fn}, wrong courier {wrong_courier}) in {elapsed:.2f} s")
    print(f"pre-filter: would skip {skipped_conversations} conversations holding {skipped_truth} of "
          f"{total_truth} truth shipments (recall lost to the pre-filter: {skipped_truth / max(1, total_truth):.4f})")
    for line in mistakes[:20]:
        print("  " + line)
    assert precision >= 0.99
    assert recall >= 0.97
    # Stricter than the bar on purpose: on this seed the engine makes no false positive, and the
    # workspace holds mistyped spaced numbers that a regression would turn into one or two (0.991).
    assert fp == 0, mistakes
