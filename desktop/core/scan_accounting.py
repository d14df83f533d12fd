"""Per-conversation accounting of a scan run: what one conversation adds to the run's and batch's counts, and the
run's progress after it.

Contract: these functions only add to the `RunCounts` and `Batch` they are given and report events through
`emit` (in the order a sink sees them: the conversation's error, each shipment found, then the conversation
finished); they do no I/O and never raise for a sink (the caller's `emit` guards that).
`desktop.core.pipeline.Scanner` calls them once per conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop.core.batching import Batch, RunCounts
from desktop.core.eta import Eta
from desktop.core.events import ConversationFinished, ErrorReported, Progress, ShipmentFound
from desktop.domain import ConversationRef, ExtractionResult
from desktop.store import scans


def count_extraction(counts: RunCounts, result: ExtractionResult) -> None:
    """Add a successful extraction's LLM use and findings to `counts`."""
    counts.llm_calls += result.llm_calls
    counts.llm_tokens_in += result.tokens_in
    counts.llm_tokens_out += result.tokens_out
    counts.llm_skipped += int(result.skipped_llm)
    counts.truncated += int(result.truncated)
    counts.invented_dropped += result.invented


def count_spent(counts: RunCounts, exc: Any) -> None:
    """Add what a failed extraction still cost (`llm_calls`, `tokens_in` when the error carries them)."""
    counts.llm_calls += getattr(exc, "llm_calls", 0)
    counts.llm_tokens_in += getattr(exc, "tokens_in", 0)


def account_conversation(counts: RunCounts, batch: Batch, ref: ConversationRef, outcome: scans.CommitOutcome,
                         error: str | None, emit: Callable[[Any], None]) -> None:
    """Count one committed conversation (scanned or failed, its shipments) and emit its events."""
    if error is not None:
        batch.failed += 1
        counts.failed += 1
        emit(ErrorReported(f"conversation {ref.id}", error))
    else:
        batch.scanned += 1
        counts.scanned += 1
    for shipment in outcome.shipments:
        batch.shipments += 1
        counts.shipments_found += 1
        if shipment.new:
            batch.new_shipments += 1
            counts.shipments_new += 1
            if shipment.registration_state == "queued":
                counts.registrations_queued += 1
            elif shipment.registration_state == "waiting_approval":
                counts.registrations_waiting_approval += 1
        emit(ShipmentFound(shipment.shipment_id, ref.id, shipment.tracking_number,
                           shipment.courier or None, shipment.new))
    emit(ConversationFinished(ref.id, batch.number, outcome.state, len(outcome.shipments), error))


def account_elsewhere(counts: RunCounts, batch: Batch, ref: ConversationRef, emit: Callable[[Any], None]) -> None:
    """Count a conversation skipped because another live scan holds its claim (issue 16), and emit it."""
    batch.claimed_elsewhere += 1
    counts.claimed_elsewhere += 1
    emit(ConversationFinished(ref.id, batch.number, "claimed_elsewhere", 0))


def progress_event(counts: RunCounts, elapsed: float, eta: Eta | None, checks: list[dict]) -> Progress:
    """The run's Progress event after a conversation; the ETA's prediction at each 5% of the conversations
    done is appended to `checks` (the summary's `eta_checks`, which bench_scan.py weighs)."""
    expected = counts.listed if counts.listing_complete else max(counts.listed, counts.total_reported or 0)
    left = eta.seconds_left(expected) if eta is not None else None
    if left is not None and expected and counts.done * 20 // expected > len(checks):
        checks.append({"done_fraction": round(counts.done / expected, 3), "elapsed": round(elapsed, 3),
                       "predicted_total": round(elapsed + left, 3)})
    return Progress(counts.listed, counts.done, counts.scanned, counts.unchanged, counts.failed,
                    counts.shipments_found, counts.listing_complete, elapsed, left, counts.claimed_elsewhere)
