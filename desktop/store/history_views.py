"""Read-only SQL behind the scan history and the scan estimate: past runs, the last completed range, and
what the database already knows about a range's conversations.

Contract: only reads (`scan_run`, `conversation`); a resumed run is shown as one row per part (see
`RunView`); malformed JSON columns read as empty. No Qt. `desktop.store.views` re-exports every public name.
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

    @property
    def seconds(self) -> float | None:
        return None if self.finished_at is None else max(0.0, self.finished_at - self.started_at)


def runs(limit: int = 500) -> list[RunView]:
    """Past scan runs, newest first; a resumed run as one row per part (`store.scans.resume_run`)."""
    from desktop.store.scans import EARLIER_PARTS

    cursor = database.execute_sql(
        "SELECT id, started_at, finished_at, since, until, inboxes, batch_size, concurrent_batches, extractor, "
        "rescan, state, counts, error FROM scan_run ORDER BY started_at DESC, id DESC LIMIT ?", [limit])
    result: list[RunView] = []
    for r in cursor.fetchall():
        counts = _json(r[11], {})
        parts = [p for p in counts.pop(EARLIER_PARTS, None) or [] if isinstance(p, dict)]
        run = RunView(r[0], r[1], r[2], r[3], r[4], tuple(_json(r[5], [])), r[6], r[7], r[8], bool(r[9]), r[10],
                      counts, r[12], resumed=bool(parts))
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
                   resumed_later=True)


def _json(raw: str | None, default):
    try:
        value = json.loads(raw) if raw else default
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


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
    return KnownConversations(known=row[0] or 0, unchanged=row[1] or 0, average_tokens=tokens)
