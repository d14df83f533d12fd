"""Counters and batch records of one scan run (plain data; no I/O).

`RunCounts.summary(...)` builds the run summary: the object `shipscan scan --json` prints, the GUI's
"last run" figures and `RunFinished.summary`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from desktop.domain import ConversationRef


@dataclass
class Batch:
    """A slice of the listing, as users see it: its conversations start in order in the rolling window;
    it opens with the first and closes with the last (`started` is None until it opens)."""

    number: int
    refs: list[ConversationRef]
    started: float | None = None
    scanned: int = 0
    unchanged: int = 0
    failed: int = 0
    shipments: int = 0
    new_shipments: int = 0
    claimed_elsewhere: int = 0   # skipped: another scan (another desktop) was working on them

    @property
    def done(self) -> int:
        return self.scanned + self.unchanged + self.failed + self.claimed_elsewhere

    def record(self, *, started: float, seconds: float, state: str) -> dict:
        """The row stored on the run and printed in the summary's `batches`."""
        return {"batch": self.number, "size": len(self.refs), "done": self.done, "scanned": self.scanned,
                "unchanged": self.unchanged, "failed": self.failed, "shipments": self.shipments,
                "new_shipments": self.new_shipments, "claimed_elsewhere": self.claimed_elsewhere,
                "started_at": round(started, 3),
                "seconds": round(seconds, 3), "state": state}


@dataclass
class RunCounts:
    listed: int = 0
    total_reported: int | None = None
    listing_complete: bool = False
    scanned: int = 0
    unchanged: int = 0
    failed: int = 0
    shipments_found: int = 0
    shipments_new: int = 0
    registrations_queued: int = 0
    registrations_waiting_approval: int = 0
    llm_calls: int = 0
    llm_tokens_in: int = 0
    llm_tokens_out: int = 0
    llm_skipped: int = 0
    invented_dropped: int = 0
    truncated: int = 0          # conversations whose text was cut to the LLM token budget
    claimed_elsewhere: int = 0  # skipped: another scan held their claim (issue 16); its scan commits them
    batches: list[dict] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.scanned + self.unchanged + self.failed + self.claimed_elsewhere

    def summary(self, *, run_id: int, state: str, resumed: bool, extractor: str, seconds: float,
                front: dict[str, int], llm_429s: int = 0, error: str | None = None) -> dict:
        data = asdict(self)
        batches = sorted(data.pop("batches"), key=lambda row: row["batch"])  # they finish out of order
        return {
            "run_id": run_id, "state": state, "resumed": resumed, "extractor": extractor,
            "conversations_listed": self.listed, "conversations_total_reported": self.total_reported,
            "conversations_scanned": self.scanned, "conversations_unchanged": self.unchanged,
            "conversations_failed": self.failed, "conversations_truncated": self.truncated,
            "claimed_elsewhere": self.claimed_elsewhere,
            "shipments_found": self.shipments_found, "shipments_new": self.shipments_new,
            "registrations_queued": self.registrations_queued,
            "registrations_waiting_approval": self.registrations_waiting_approval,
            "llm_calls": self.llm_calls, "llm_tokens_in": self.llm_tokens_in,
            "llm_tokens_out": self.llm_tokens_out, "llm_skipped_by_prefilter": self.llm_skipped,
            "invented_numbers_dropped": self.invented_dropped,
            "front_requests": front.get("requests", 0), "front_message_fetches": front.get("message_fetches", 0),
            "front_search_requests": front.get("search_requests", 0),
            "front_429s": front.get("rate_limited", 0), "llm_429s": llm_429s,
            "rate_limited_429s": front.get("rate_limited", 0) + llm_429s,
            "seconds": round(seconds, 3), "error": error, "batches": batches,
        }


def stats_delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """Per-run figures from a client's cumulative counters."""
    return {key: value - before.get(key, 0) for key, value in after.items()}
