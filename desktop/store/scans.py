"""All SQL of the scan side: runs, conversations and the shipments a scan finds.

Contracts:
- `commit_conversation` writes a conversation's new scan state, its new shipments and their outbox rows
  in ONE transaction: after a crash a conversation is either fully committed or untouched.
- A shipment is unique per (normalised number, courier): finding it again (in another conversation, or
  the same one rescanned) never creates a second row or a second registration.
- A conversation is "unchanged" when its listed last message id equals the one of its last successful scan
  (state ok / no_shipments); failed conversations are always scanned again.
- A run row records its parameters, state, counts, finished batches, and the pid running it with that
  process's start time. A "running" row whose process is gone was killed: `mark_interrupted` flags it and
  `find_resumable` offers it again. Gone means: no such pid, a zombie, or (Linux) a pid now used by a
  process with another start time; where no start time can be read, the pid alone decides.
- A resumed run keeps its row (its conversations and batches stay its own), but history stays honest:
  `resume_run` moves what the row said so far (state, times, counts, error) into the list under
  `EARLIER_PARTS` in its counts, and the row's `started_at` becomes the resume time, so the time between
  the cancellation and the resume counts nowhere. `save_run` keeps that list. `views.runs` shows each
  part as its own history row.
- The store decides nothing: run states are the plain strings the core passes (`desktop.core.events.RunState`
  values), and a new shipment's review state comes from the `judge` the core passes to `commit_conversation`
  (without one, every new shipment waits for a person).
- Team mode (issue 16): `mark_interrupted` judges a run of another desktop by its liveness lease
  (`desktop.store.claims`), never by a pid that means nothing on this machine.
Call these on the thread that owns the connection (the event loop's): each is a short transaction.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from desktop.domain import ConversationRef, ExtractedShipment, ExtractionResult
from desktop.log import redact
from desktop.store import actor, changes, claims, outbox
from desktop.store.processes import pid_alive, process_started, process_state  # noqa: F401 - part of this API
from desktop.store.tables import ConversationRow, ScanRunRow, ShipmentRow, database, utcnow

OK, NO_SHIPMENTS, FAILED, PENDING = "ok", "no_shipments", "failed", "pending"
SCANNED_STATES = (OK, NO_SHIPMENTS)
#: Run states (ScanRunRow.state), as the core names them (`desktop.core.events.RunState`).
RUNNING, COMPLETED, CANCELLED, RUN_FAILED, INTERRUPTED = "running", "completed", "cancelled", "failed", "interrupted"
RESUMABLE = (INTERRUPTED, CANCELLED, RUN_FAILED)
#: Review state of a shipment that registers by itself (what the caps count).
AUTO = "auto"
#: Key in a run's counts JSON: the parts of the run before each resume, oldest first (see resume_run).
EARLIER_PARTS = "earlier_parts"
_CHUNK = 500   # SQLite's bound-variable limit is generous, but keep IN (...) lists modest


@dataclass(frozen=True, slots=True)
class ShipmentOutcome:
    shipment_id: int
    tracking_number: str
    courier: str
    new: bool
    registration_state: str | None    # outbox state of a new shipment (None when it already existed)


@dataclass(frozen=True, slots=True)
class CommitOutcome:
    conversation_id: str
    state: str
    shipments: tuple[ShipmentOutcome, ...] = field(default=())

    @property
    def new_shipments(self) -> int:
        return sum(1 for s in self.shipments if s.new)


# -- runs ---------------------------------------------------------------------------------------------------
def mark_interrupted(now: float | None = None) -> list[int]:
    """Flag runs left "running" by a process that no longer runs; returns their ids.

    A run whose liveness lease names another host is alive while that lease runs (its pid means nothing
    here); any other run is judged by its pid (and that process's start time)."""
    now = utcnow() if now is None else now
    rows = list(ScanRunRow.select(ScanRunRow.id, ScanRunRow.pid, ScanRunRow.pid_started)
                .where(ScanRunRow.state == RUNNING))
    leases = claims.run_leases(row.id for row in rows)
    here = claims.this_host()
    ids = [row.id for row in rows if not _run_alive(row, leases.get(row.id), here, now)]
    if ids:
        with database.atomic("IMMEDIATE"):
            (ScanRunRow.update(state=INTERRUPTED)
             .where(ScanRunRow.id.in_(ids) & (ScanRunRow.state == RUNNING)).execute())
            changes.bump()  # the history shows it
    return ids


def _run_alive(row: ScanRunRow, lease: claims.Lease | None, here: str, now: float) -> bool:
    if lease is not None and lease.host != here:
        return lease.lease_until >= now
    return pid_alive(row.pid, row.pid_started)


def _inboxes_json(inboxes: Iterable[str]) -> str:
    return json.dumps(sorted(set(inboxes)))


def find_resumable(since: float, until: float, inboxes: Iterable[str]) -> ScanRunRow | None:
    """The latest run over the same range and inboxes, if it stopped before finishing; else None."""
    latest = (ScanRunRow.select()
              .where((ScanRunRow.since == since) & (ScanRunRow.until == until)
                     & (ScanRunRow.inboxes == _inboxes_json(inboxes))
                     & ~((ScanRunRow.state == RUNNING) & ScanRunRow.pid.is_null(False)
                         & (ScanRunRow.pid != os.getpid())))
              .order_by(ScanRunRow.id.desc()).first())
    return latest if latest is not None and latest.state in RESUMABLE else None


def start_run(*, since: float, until: float, inboxes: Sequence[str], batch_size: int,
              concurrent_batches: int, extractor: str, rescan: bool) -> ScanRunRow:
    with database.atomic("IMMEDIATE"):
        changes.bump()
        return ScanRunRow.create(since=since, until=until, inboxes=_inboxes_json(inboxes), batch_size=batch_size,
                                 concurrent_batches=concurrent_batches, extractor=extractor, rescan=rescan,
                                 state=RUNNING, pid=os.getpid(),
                                 pid_started=process_started(os.getpid()), started_by=actor.current())


def resume_run(run_id: int, *, batch_size: int, concurrent_batches: int, extractor: str) -> ScanRunRow:
    """Take over an unfinished run in this process (its batches are kept; what it said so far becomes an
    earlier part, and it starts again now: see the module docstring)."""
    with database.atomic("IMMEDIATE"):
        old = ScanRunRow.get_by_id(run_id)
        counts = _counts(old.counts)
        parts = counts.pop(EARLIER_PARTS, [])
        parts.append({"state": old.state, "started_at": old.started_at, "finished_at": old.finished_at,
                      "batch_size": old.batch_size, "concurrent_batches": old.concurrent_batches,
                      "extractor": old.extractor, "error": old.error, "counts": counts,
                      "started_by": old.started_by})
        ScanRunRow.update(state=RUNNING, pid=os.getpid(),
                          pid_started=process_started(os.getpid()), started_at=utcnow(), finished_at=None,
                          error=None, counts=json.dumps({EARLIER_PARTS: parts}), batch_size=batch_size,
                          concurrent_batches=concurrent_batches,
                          extractor=extractor, started_by=actor.current()).where(ScanRunRow.id == run_id).execute()
        changes.bump()
    return ScanRunRow.get_by_id(run_id)


def _counts(raw: str | None) -> dict:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def save_run(run_id: int, *, counts: dict, batches: list[dict], state: str | None = None,
             error: str | None = None) -> None:
    """Store the run's counters and finished batches (and, when given, its state: a run state string;
    any but RUNNING also stamps `finished_at`); the parts before a resume (`EARLIER_PARTS`) are kept."""
    with database.atomic("IMMEDIATE"):
        row = ScanRunRow.select(ScanRunRow.counts).where(ScanRunRow.id == run_id).first()
        earlier = _counts(row.counts).get(EARLIER_PARTS) if row is not None else None
        if earlier:
            counts = {**counts, EARLIER_PARTS: earlier}
        _save_run(run_id, counts, batches, state, error)
        changes.bump()  # the history shows the run's counts


def _save_run(run_id: int, counts: dict, batches: list[dict], state: str | None, error: str | None) -> None:
    """The update itself; inside save_run's transaction."""
    values: dict = {ScanRunRow.counts: json.dumps(counts), ScanRunRow.batches: json.dumps(batches)}
    if state is not None:
        values[ScanRunRow.state] = state
        values[ScanRunRow.error] = redact(error)  # shown by the GUI's history and --json: never a key
        if state != RUNNING:
            values[ScanRunRow.finished_at] = utcnow()
    ScanRunRow.update(values).where(ScanRunRow.id == run_id).execute()


def run_row(run_id: int) -> ScanRunRow | None:
    return ScanRunRow.get_or_none(ScanRunRow.id == run_id)


def run_batches(run_id: int) -> list[dict]:
    row = run_row(run_id)
    return json.loads(row.batches or "[]") if row else []


def recent_runs(limit: int = 50) -> list[ScanRunRow]:
    return list(ScanRunRow.select().order_by(ScanRunRow.id.desc()).limit(limit))


# -- what needs scanning --------------------------------------------------------------------------------------
def plan(refs: Sequence[ConversationRef], *, rescan: bool, run_id: int | None = None,
         scanned_since: float | None = None) -> dict[str, bool]:
    """conversation id -> True if it must be scanned, False if it is unchanged (costs nothing).

    With `rescan` everything is scanned, except what this same run already committed (a resumed rescan
    must not start over) or, with `scanned_since`, what any scan committed since then (another desktop's
    scan running at the same time: issue 16).
    """
    rows = _rows([r.id for r in refs])
    decision = {}
    for ref in refs:
        row = rows.get(ref.id)
        same = (row is not None and row.scan_state in SCANNED_STATES and ref.last_message_id is not None
                and row.scanned_message_id == ref.last_message_id)
        if rescan:
            same = same and ((run_id is not None and row.run_id == run_id)
                             or (scanned_since is not None and (row.scanned_at or 0.0) >= scanned_since))
        decision[ref.id] = not same
    return decision


def _rows(ids: Sequence[str]) -> dict[str, ConversationRow]:
    found: dict[str, ConversationRow] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for row in ConversationRow.select().where(ConversationRow.id.in_(chunk)):
            found[row.id] = row
    return found


# -- committing a conversation ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AutoCounts:
    """What a judge weighs a new shipment against: the shipments its conversation yields, and the "auto"
    ones already stored by this run and in the last 24 hours (this conversation's own included)."""

    conversation_shipments: int
    this_scan: int
    last_day: int


#: Decides a new shipment: (shipment, counts) -> (review state, flags to store). The core's policy
#: (`desktop.core.policy.judge`); called inside the commit's transaction.
Judge = Callable[[ExtractedShipment, AutoCounts], tuple[str, tuple[str, ...]]]


def hold_all(shipment: ExtractedShipment, counts: AutoCounts) -> tuple[str, tuple[str, ...]]:
    """The judge when none is given: the store decides nothing, so every new shipment waits for a person."""
    return "pending", tuple(shipment.flags)


def commit_conversation(ref: ConversationRef, *, run_id: int | None, result: ExtractionResult | None = None,
                        error: str | None = None, judge: Judge = hold_all,
                        claim_owner: str | None = None) -> CommitOutcome:
    """Write the outcome of scanning `ref` in one transaction: either `result` or a failure `error`.

    Each new shipment's review state and stored flags come from `judge`, given the counts of automatic
    registrations read inside this same IMMEDIATE transaction, so two scans at once cannot both take the
    last automatic registration of the day. With `claim_owner`, that owner's claim on the conversation
    (`desktop.store.claims`) ends in the same transaction.
    """
    with database.atomic("IMMEDIATE"):  # reads then writes: take the write lock first (issue 13)
        changes.bump()  # other desktops' tables show what this commit adds (issue 16)
        if claim_owner is not None:
            claims.release(ref.id, claim_owner)
        row = ConversationRow.get_or_none(ConversationRow.id == ref.id)
        if row is None:
            row = ConversationRow(id=ref.id)
            row._stored = False
        else:
            row._stored = True
        row.inbox_id = ref.inbox_ids[0] if ref.inbox_ids else row.inbox_id
        row.subject, row.status, row.customer = ref.subject, ref.status, ref.customer
        row.last_message_id, row.last_activity_at = ref.last_message_id, ref.last_activity_at
        row.run = run_id
        if result is None:
            row.scan_state, row.error, row.attempts = FAILED, redact(error) or "failed", (row.attempts or 0) + 1
            _save(row)
            return CommitOutcome(ref.id, FAILED)
        _save(row)                      # first: the shipments reference it
        unique = _unique(result.shipments)
        tally = _Tally(run_id, len(unique), judge)
        outcomes = tuple(_add_shipment(s, ref.id, run_id, result.extractor, tally) for s in unique)
        row.scan_state = OK if outcomes else NO_SHIPMENTS
        row.scanned_message_id, row.scanned_at, row.error, row.attempts = ref.last_message_id, utcnow(), None, 0
        row.tokens_in, row.truncated = result.tokens_in, result.truncated
        _save(row)
        return CommitOutcome(ref.id, row.scan_state, outcomes)


def _save(row: ConversationRow) -> None:
    """Insert or update `row`; `row._stored` says which (set when it was read in this transaction)."""
    stored = getattr(row, "_stored", None)
    if stored is None:
        stored = ConversationRow.select().where(ConversationRow.id == row.id).exists()
    if stored:
        row.save()
    else:
        row.save(force_insert=True)
    row._stored = True


def normalise_number(number: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", number.upper())


def _unique(shipments: Iterable[ExtractedShipment]) -> list[ExtractedShipment]:
    """One per number (an extractor may report a number twice); the one naming a courier wins."""
    chosen: dict[str, ExtractedShipment] = {}
    for s in shipments:
        number = normalise_number(s.tracking_number)
        if number and (number not in chosen or (s.courier and not chosen[number].courier)):
            chosen[number] = s
    return list(chosen.values())


def _existing(number: str, courier: str) -> ShipmentRow | None:
    """The stored shipment with this number: same courier, or either side without a courier."""
    query = ShipmentRow.select().where(ShipmentRow.tracking_number == number)
    if courier:
        query = query.where((ShipmentRow.courier == courier) | (ShipmentRow.courier == ""))
    return query.order_by(ShipmentRow.id).first()


class _Tally:
    """`judge` applied to one conversation's new shipments, with the counts read from the database once
    and then kept up to date as this conversation adds automatic ones."""

    def __init__(self, run_id: int | None, shipments: int, judge: Judge) -> None:
        self._run_id, self._shipments, self._judge = run_id, shipments, judge
        self.counts: AutoCounts | None = None

    def _count(self) -> AutoCounts:
        """Read when the first new shipment is judged (most conversations have none: no query)."""
        auto = ShipmentRow.select().where(ShipmentRow.review_state == AUTO)
        this_scan = auto.where(ShipmentRow.run == self._run_id).count() if self._run_id is not None else 0
        last_day = auto.where(ShipmentRow.found_at >= utcnow() - 86400.0).count()
        return AutoCounts(self._shipments, this_scan, last_day)

    def __call__(self, shipment: ExtractedShipment) -> tuple[str, tuple[str, ...]]:
        """(review state, flags to store) as the judge says."""
        counts = self.counts = self.counts or self._count()
        state, flags = self._judge(shipment, counts)
        if state == AUTO:
            self.counts = AutoCounts(counts.conversation_shipments, counts.this_scan + 1, counts.last_day + 1)
        return state, tuple(flags)


def _add_shipment(s: ExtractedShipment, conversation_id: str, run_id: int | None, extractor: str,
                  judge: _Tally) -> ShipmentOutcome:
    number, courier = normalise_number(s.tracking_number), s.courier or ""
    existing = _existing(number, courier)
    if existing is not None:
        return ShipmentOutcome(existing.id, number, existing.courier, False, None)
    state, flags = judge(s)
    row = ShipmentRow.create(
        conversation=conversation_id, message_id=s.message_id, tracking_number=number, courier=courier,
        carrier=s.carrier, courier_code=s.courier_code, order_number=s.order_number, supplier=s.supplier,
        shipped_date=s.shipped_date, destination_country=s.destination_country,
        destination_postcode=s.destination_postcode, confidence=s.confidence, evidence=s.evidence or "",
        flags=json.dumps(list(flags)), validated=s.validated,
        review_state=state, extractor=extractor, run=run_id)
    registration = outbox.enqueue(row)
    return ShipmentOutcome(row.id, number, courier, True, registration.state)


# -- reading back -------------------------------------------------------------------------------------------
def conversation(conversation_id: str) -> ConversationRow | None:
    return ConversationRow.get_or_none(ConversationRow.id == conversation_id)


def shipment_keys() -> list[tuple[str, str]]:
    """(number, courier) of every shipment, ordered (tests compare runs with it)."""
    return [(r.tracking_number, r.courier) for r in
            ShipmentRow.select(ShipmentRow.tracking_number, ShipmentRow.courier)
            .order_by(ShipmentRow.tracking_number, ShipmentRow.courier)]


def counts_by_state() -> dict[str, int]:
    """Conversations per scan state."""
    from peewee import fn
    query = (ConversationRow.select(ConversationRow.scan_state, fn.COUNT(ConversationRow.id).alias("n"))
             .group_by(ConversationRow.scan_state))
    return {row.scan_state: row.n for row in query}
