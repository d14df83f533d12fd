"""Read-only SQL behind the scan history and the scan estimate: past runs (and who started each), the
review log (who did what to which shipment, when), the last completed range, and what the database already
knows about a range's conversations.

Contract: only reads (`scan_run`, `review_log`, `shipment`, `conversation`); a resumed run is shown as one
row per part (see `RunView`); malformed JSON columns read as empty. No Qt. `desktop.store.views`
re-exports the names of runs and conversations; the review log's are used from here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from desktop.store.tables import database


@dataclass(frozen=True)
class RunView:
    """One row of the scan history: a run, or one part of a run that was stopped and resumed.

    `resumed`: this part continued an earlier one of the same run (same `id`); `resumed_later`: this part
    stopped (cancelled, failed, killed) and a later part took over. Each part has its own counts and
    times, so the time between a stop and its resume is in no part's `seconds`.
    """

    id: int
    started_at: float
    finished_at: float | None
    since: float
    until: float
    inboxes: tuple[str, ...]
    batch_size: int
    concurrent_batches: int
    extractor: str
    rescan: bool
    state: str
    counts: dict
    error: str | None
    resumed: bool = False
    resumed_later: bool = False
    #: Who started (or resumed) this part (`desktop.store.actor`); None for runs from before issue 16.
    started_by: str | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.finished_at is None else max(0.0, self.finished_at - self.started_at)


def runs(limit: int = 500) -> list[RunView]:
    """Past scan runs, newest first; a resumed run as one row per part (`store.scans.resume_run`)."""
    from desktop.store.scans import EARLIER_PARTS

    cursor = database.execute_sql(
        "SELECT id, started_at, finished_at, since, until, inboxes, batch_size, concurrent_batches, extractor, "
        "rescan, state, counts, error, started_by FROM scan_run ORDER BY started_at DESC, id DESC LIMIT ?",
        [limit])
    result: list[RunView] = []
    for r in cursor.fetchall():
        counts = _json(r[11], {})
        parts = [p for p in counts.pop(EARLIER_PARTS, None) or [] if isinstance(p, dict)]
        run = RunView(r[0], r[1], r[2], r[3], r[4], tuple(_json(r[5], [])), r[6], r[7], r[8], bool(r[9]), r[10],
                      counts, r[12], resumed=bool(parts), started_by=r[13])
        result.append(run)
        result.extend(_earlier_part(run, part, resumed=index > 0) for index, part in enumerate(parts))
    result.sort(key=lambda v: (v.started_at, v.id), reverse=True)
    return result[:limit]


def _earlier_part(run: RunView, part: dict, *, resumed: bool) -> RunView:
    """The history row of a part of `run` that stopped before a resume."""
    def number(name: str, default):
        value = part.get(name)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else default

    counts = part.get("counts")
    return RunView(run.id, number("started_at", run.started_at), number("finished_at", None), run.since,
                   run.until, run.inboxes, number("batch_size", run.batch_size),
                   number("concurrent_batches", run.concurrent_batches), str(part.get("extractor") or run.extractor),
                   run.rescan, str(part.get("state") or "interrupted"), counts if isinstance(counts, dict) else {},
                   part.get("error") if isinstance(part.get("error"), str) else None, resumed=resumed,
                   resumed_later=True,
                   started_by=part.get("started_by") if isinstance(part.get("started_by"), str) else None)


def _json(raw: str | None, default):
    try:
        value = json.loads(raw) if raw else default
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


@dataclass(frozen=True)
class ReviewAction:
    """One review action on one shipment (`desktop.store.reviewlog`): who did what, and when."""

    at: float
    actor: str
    action: str
    shipment_id: int
    tracking_number: str | None    # None when the shipment is gone
    note: str | None = None

    def to_json(self) -> dict:
        return {"at": self.at, "by": self.actor, "action": self.action, "shipment_id": self.shipment_id,
                "tracking_number": self.tracking_number, "note": self.note}


_REVIEW_SELECT = ("SELECT r.at, r.actor, r.action, r.shipment_id, s.tracking_number, r.note FROM review_log r "
                  "LEFT JOIN shipment s ON s.id = r.shipment_id")


def review_actions(limit: int = 500) -> list[ReviewAction]:
    """The latest review actions, newest first."""
    cursor = database.execute_sql(f"{_REVIEW_SELECT} ORDER BY r.id DESC LIMIT ?", [limit])
    return [ReviewAction(*row) for row in cursor.fetchall()]


def last_reviews(shipment_ids: Sequence[int]) -> dict[int, ReviewAction]:
    """shipment id -> its latest review action (shipments never reviewed by a person are absent)."""
    found: dict[int, ReviewAction] = {}
    ids = list(dict.fromkeys(shipment_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        cursor = database.execute_sql(
            f"{_REVIEW_SELECT} WHERE r.id IN (SELECT MAX(id) FROM review_log WHERE shipment_id IN "
            f"({','.join('?' * len(chunk))}) GROUP BY shipment_id)", chunk)
        found.update((row[3], ReviewAction(*row)) for row in cursor.fetchall())
    return found


def last_completed_scan_until() -> float | None:
    """End of the range of the newest completed run (the "since last completed scan" preset)."""
    row = database.execute_sql(
        "SELECT until FROM scan_run WHERE state = 'completed' ORDER BY finished_at DESC, id DESC LIMIT 1").fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class KnownConversations:
    """What the database already knows about conversations active in a range (for the estimate)."""

    known: int
    unchanged: int
    average_tokens: float | None


def known_conversations(since: float, until: float, inboxes: Sequence[str] = ()) -> KnownConversations:
    """Conversations seen in [since, until): how many are unchanged since their last successful scan.

    "Unchanged" uses the last listing's message id, so it is an estimate: the next listing may show new
    messages. `average_tokens` is the mean LLM input of scanned conversations (None when none has any).
    """
    inbox_clause, params = "", [since, until]
    if inboxes:
        inbox_clause = f" AND inbox_id IN ({','.join('?' * len(inboxes))})"
        params += list(inboxes)
    row = database.execute_sql(
        "SELECT COUNT(*), SUM(CASE WHEN scan_state IN ('ok', 'no_shipments') AND scanned_message_id IS NOT NULL "
        "AND scanned_message_id = last_message_id THEN 1 ELSE 0 END) FROM conversation "
        f"WHERE last_activity_at >= ? AND last_activity_at < ?{inbox_clause}", params).fetchone()
    tokens = database.execute_sql("SELECT AVG(tokens_in) FROM conversation WHERE tokens_in > 0").fetchone()[0]
    # float(): PostgreSQL's AVG of integers is a Decimal, SQLite's a float.
    return KnownConversations(known=int(row[0] or 0), unchanged=int(row[1] or 0),
                              average_tokens=float(tokens) if tokens is not None else None)
