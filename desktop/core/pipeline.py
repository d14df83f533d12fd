"""The scan pipeline: list a date range, cut it into batches, extract shipments, commit them durably.

    search pages ──> batches of `batch_size` ──> a rolling window of `batch_size × concurrent_batches`
                                                 conversations in flight, each one:
                                                    │ fetch messages (Front)
                                                    │ extract (LLM / rules)
                                                    └ commit (one transaction)

Contracts:
- The listing streams, in its own task: conversations start as soon as they are listed, while later
  search pages are still being fetched.
- No batch barrier: at most `batch_size × concurrent_batches` conversations are in flight, and one that
  finishes frees its slot for the next listed one at once (`desktop.core.inflight`). Batches are what
  users see and set: a batch opens with its first conversation and closes with its last, so several may
  be open while the last conversations of earlier ones finish.
- Budgets are enforced by the clients' own pacers (Front, OpenAI), so everything in flight waits there;
  the services' budgets, not this loop, are the only limit.
- Unchanged conversations (same last message id as at their last successful scan) cost no message fetch
  and no LLM call; failed ones are scanned again; `rescan` forces all.
- Claims (issue 16, `desktop.core.claiming`): a conversation is claimed before its messages are fetched;
  one another live scan holds is skipped and counted (`claimed_elsewhere`), one another scan committed
  meanwhile counts as unchanged. Claims end with the commit, or with the run; a killed run's expire.
- Cancel (`scanner.cancel()` or cancelling the task running `run`) stops within a moment: every
  conversation is either committed (the commit is one synchronous transaction, never interrupted) or
  untouched. A cancelled, failed or killed run is resumed by the next run over the same range.
- A permanent refusal (a wrong Front or OpenAI key, OpenAI's `insufficient_quota`: `ApiError.permanent`)
  stops the run at the first one: the listing and every conversation in flight are cancelled, none is
  recorded as failed for it, and the run ends FAILED with one line naming the service
  (`ServiceRefused`, e.g. "OpenAI refused the key (HTTP 401): ..."). Other errors fail only their
  conversation, which the next scan tries again.
- Store calls run on the store thread, in order (`desktop.core.storecalls`): the loop (the window's GUI
  thread) never waits for the database; a commit is whole and counted before its batch is reported.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop.clients.errors import ApiError, ServiceRefused
from desktop.core import policy
from desktop.core.batching import Batch, RunCounts, stats_delta
from desktop.core.claiming import ScanClaims
from desktop.core.eta import Eta
from desktop.core.events import (
    BatchFinished,
    BatchStarted,
    BatchState,
    ConversationFinished,
    ConversationStarted,
    ErrorReported,
    ListingProgress,
    RateLimitWait,
    RunFinished,
    RunStarted,
    RunState,
    Sink,
)
from desktop.core.inflight import ConversationWindow, Lane, concurrency_figures
from desktop.core.runstore import open_run_rows
from desktop.core.scan_accounting import (
    account_conversation,
    account_elsewhere,
    count_extraction,
    count_spent,
    progress_event,
)
from desktop.core.storecalls import store_call
from desktop.domain import Conversation, ConversationRef, ExtractionResult
from desktop.errors import ExpectedError, ExtractionFailed
from desktop.store import scans

log = logging.getLogger("shipscan.pipeline")


@dataclass(frozen=True)
class ScanParams:
    """What to scan: activity in [since, until) (epoch seconds), optionally only some inboxes."""

    since: float
    until: float
    inboxes: tuple[str, ...] = ()
    batch_size: int = 50
    concurrent_batches: int = 3
    extractor: str = "llm"
    rescan: bool = False

    def __post_init__(self) -> None:
        if self.until <= self.since:
            raise ValueError("until must be after since")
        if self.batch_size < 1 or self.concurrent_batches < 1:
            raise ValueError("batch size and concurrent batches must be at least 1")


class RunSummary(dict):
    """The run's figures (the object `shipscan scan --json` prints); a plain dict with a few accessors."""

    @property
    def state(self) -> str:
        return self["state"]


class Extractor(Protocol):
    name: str

    async def extract(self, conversation: Conversation) -> ExtractionResult: ...


@dataclass
class _Run:
    run_id: int
    params: ScanParams
    resumed: bool
    started: float
    claims: ScanClaims   # this run's claims (issue 16)
    counts: RunCounts = field(default_factory=RunCounts)
    next_batch: int = 1
    window: ConversationWindow | None = None
    #: Batches whose first conversation started and whose last has not finished, by number.
    open_batches: dict[int, Batch] = field(default_factory=dict)
    eta: Eta | None = None
    lister: asyncio.Task | None = None
    #: The ETA as predicted at each 5% of the conversations done (the summary's `eta_checks`).
    eta_checks: list[dict] = field(default_factory=list)
    #: The extractor's `warm_up` was called (at the first fetch).
    warmed_up: bool = False


class Scanner:
    """Runs scans with one Front client, one extractor and one event sink.

    `front` is a `FrontClient` (search, conversation_messages, stats, on_wait); `llm` (optional) is only
    read for its `stats.rate_limited`.
    """

    def __init__(self, front: Any, extractor: Extractor, sink: Sink, *, settings: Any = None,
                 llm: Any = None, clock: Any = time.monotonic) -> None:
        self._front = front
        self._extractor = extractor
        self._sink = sink
        self._judge = policy.judge(bool(getattr(settings, "approve_all_by_hand", False)),
                                   policy.Caps.from_settings(settings))
        self._llm = llm
        self._clock = clock
        self._work: asyncio.Task | None = None
        self._cancel_requested = False
        self._lane: Lane | None = None

    def cancel(self) -> None:
        """Stop the running scan soon; `run` then returns a summary with state "cancelled"."""
        self._cancel_requested = True
        if self._work is not None:
            self._work.cancel()

    def _emit(self, event: Any) -> None:
        try:
            self._sink(event)
        except Exception:  # a sink must not break the scan; it is a bug worth a log line
            log.exception("event sink failed on %s", type(event).__name__)

    # -- the run ----------------------------------------------------------------------------------------
    async def run(self, params: ScanParams) -> RunSummary:
        """Scan `params`; returns the summary. Cancelling the calling task stops the scan and re-raises."""
        self._cancel_requested = False
        run = await self._open_run(params)
        self._lane = Lane(time.perf_counter)   # per run: a scanner may outlive an event loop (tests)
        front_before = self._front.stats.snapshot()
        llm_before = self._llm_429s()
        previous_wait = getattr(self._front, "on_wait", None)
        self._front.on_wait = self._front_wait
        state, error, outer_cancel = RunState.COMPLETED, None, False
        forget_refusal = getattr(self._llm, "forget_refusal", None)
        if forget_refusal is not None:   # ask again: the key may have been fixed since the last run
            forget_refusal()
        self._work = asyncio.ensure_future(self._scan(run))
        if self._cancel_requested:   # asked while the run was being opened (on the store's thread)
            self._work.cancel()
        try:
            await self._work
        except asyncio.CancelledError:
            state = RunState.CANCELLED
            outer_cancel = not self._cancel_requested
        except ExpectedError as exc:
            state, error = RunState.FAILED, str(exc)
            self._emit(ErrorReported("scan", error))
        except Exception as exc:
            state, error = RunState.FAILED, f"{type(exc).__name__}: {exc}"
            log.exception("scan run %s failed", run.run_id)
            self._emit(ErrorReported("scan", error))
        finally:
            self._front.on_wait = previous_wait
            self._work = None
        summary = await self._finish(run, state, error, stats_delta(self._front.stats.snapshot(), front_before),
                                     self._llm_429s() - llm_before)
        if outer_cancel:
            raise asyncio.CancelledError
        return summary

    async def _open_run(self, params: ScanParams) -> _Run:
        opened = await store_call(open_run_rows, params, self._extractor.name)
        row = opened.row
        run = _Run(row.id, params, opened.resumed, self._clock(),
                   ScanClaims(row.id, rescan=bool(row.rescan), started_at=row.started_at))
        if opened.resumed:
            run.counts.batches = opened.batches
            run.next_batch = len(run.counts.batches) + 1
        await run.claims.start()
        self._emit(RunStarted(run.run_id, params.since, params.until, tuple(params.inboxes), params.batch_size,
                              params.concurrent_batches, self._extractor.name, run.resumed))
        return run

    async def _finish(self, run: _Run, state: RunState, error: str | None, front: dict[str, int],
                      llm_429s: int) -> RunSummary:
        seconds = self._clock() - run.started
        summary = RunSummary(run.counts.summary(
            run_id=run.run_id, state=state.value, resumed=run.resumed, extractor=self._extractor.name,
            seconds=seconds, front=front, llm_429s=llm_429s, error=error))
        if run.window is not None:
            summary["concurrency"] = concurrency_figures(run.window)
        summary["eta_checks"] = run.eta_checks
        await store_call(scans.save_run, run.run_id, counts={k: v for k, v in summary.items() if k != "batches"},
                         batches=list(run.counts.batches), state=state.value, error=error)
        self._emit(RunFinished(run.run_id, state, dict(summary)))
        return summary

    def _llm_429s(self) -> int:
        stats = getattr(self._llm, "stats", None)
        return int(getattr(stats, "rate_limited", 0) or 0)

    def _front_wait(self, seconds: float, reason: str) -> None:
        self._emit(RateLimitWait("front", seconds, reason))

    # -- listing and the rolling window -----------------------------------------------------------------
    async def _scan(self, run: _Run) -> None:
        params = run.params
        gauge = getattr(getattr(self._llm, "stats", None), "in_flight", None)
        pacer = getattr(self._front, "pacer", None)   # the ETA asks Front's budget how long it keeps them
        run.eta = Eta(self._clock, budget_wait=getattr(pacer, "time_for", None))
        run.window = window = ConversationWindow(params.batch_size * params.concurrent_batches, self._clock,
                                                 {"llm": gauge} if gauge is not None else None)
        queue: asyncio.Queue[Batch | None] = asyncio.Queue()
        run.lister = lister = asyncio.create_task(self._list(run, queue))
        keeper = asyncio.create_task(run.claims.keep_alive())
        try:
            while (batch := await queue.get()) is not None:
                await self._start_batch(run, batch, window)
            window.all_started()
            await window.drain()
            # Batches listed before a listing failure are finished above; the run then ends as failed.
            await lister
        except BaseException:
            lister.cancel()
            await window.cancel()
            await asyncio.gather(lister, return_exceptions=True)
            self._close_open_batches(run, BatchState.CANCELLED)
            raise
        finally:
            keeper.cancel()
            await run.claims.finish()

    async def _list(self, run: _Run, queue: asyncio.Queue[Batch | None]) -> None:
        """Put batches of listed conversations on `queue` in order, then None (also after a failure)."""
        params, counts = run.params, run.counts
        pending: list[ConversationRef] = []
        try:
            async for page in _refusals_stop(self._front.search(params.since, params.until, params.inboxes)):
                counts.listed += len(page)
                counts.total_reported = self._front.last_total
                self._emit(ListingProgress(counts.listed, counts.total_reported, False))
                pending.extend(page)
                while len(pending) >= params.batch_size:
                    queue.put_nowait(self._new_batch(run, pending[:params.batch_size]))
                    pending = pending[params.batch_size:]
            counts.listing_complete = True
            self._emit(ListingProgress(counts.listed, counts.total_reported, True))
        finally:
            if pending:   # what was listed before a failure is still scanned
                queue.put_nowait(self._new_batch(run, pending))
            queue.put_nowait(None)

    def _new_batch(self, run: _Run, refs: list[ConversationRef]) -> Batch:
        batch = Batch(run.next_batch, refs)
        run.next_batch += 1
        return batch

    async def _start_batch(self, run: _Run, batch: Batch, window: ConversationWindow) -> None:
        """Start the batch's conversations in order, each as soon as the window has a free slot."""
        plan = await store_call(scans.plan, batch.refs, rescan=run.params.rescan, run_id=run.run_id,
                                scanned_since=run.claims.started_at)
        for ref in batch.refs:
            await window.start(lambda ref=ref: self._in_batch(run, batch, ref, plan[ref.id]))
            if batch.started is None:
                batch.started = self._clock()
                run.open_batches[batch.number] = batch
                self._emit(BatchStarted(batch.number, len(batch.refs)))

    async def _in_batch(self, run: _Run, batch: Batch, ref: ConversationRef, needs_scan: bool) -> None:
        assert run.eta is not None
        run.eta.conversation_started(ref.id, waiting=True)
        self._emit(ConversationStarted(ref.id, batch.number))
        assert self._lane is not None
        taken = await run.claims.take(ref) if needs_scan else "done"
        needs_scan = taken == "claimed"
        try:
            extracted = await self._extract(run, ref) if needs_scan else None
            # Answers come back in bursts: the lane keeps one turn's bookkeeping short, so the window paints.
            await self._lane.enter()
        except BaseException:
            if needs_scan:   # cancelled before its commit: another scan may take it at once
                await run.claims.give_back(ref.id)
            raise
        if taken == "elsewhere":   # another live scan holds it: that scan commits it
            account_elsewhere(run.counts, batch, ref, self._emit)
        else:
            await self._record(run, batch, ref, extracted)
        asked = extracted is not None and extracted[0] is not None and extracted[0].llm_calls > 0
        run.eta.conversation_finished(ref.id, worked=needs_scan, asked=asked)
        self._progress(run)
        if batch.done == len(batch.refs):
            self._close_batch(run, batch, BatchState.DONE)
            # Progress survives a crash at batch granularity.
            await store_call(scans.save_run, run.run_id, counts={"listed": run.counts.listed,
                             "done": run.counts.done}, batches=list(run.counts.batches))

    def _close_open_batches(self, run: _Run, state: BatchState) -> None:
        for batch in list(run.open_batches.values()):
            self._close_batch(run, batch, state)

    def _close_batch(self, run: _Run, batch: Batch, state: BatchState) -> None:
        run.open_batches.pop(batch.number, None)
        started = batch.started if batch.started is not None else self._clock()
        seconds = self._clock() - started
        run.counts.batches.append(batch.record(started=started - run.started, seconds=seconds,
                                               state=state.value))
        self._emit(BatchFinished(batch.number, len(batch.refs), batch.done, batch.shipments, batch.failed,
                                 batch.unchanged, seconds, state))

    # -- one conversation -------------------------------------------------------------------------------
    async def _record(self, run: _Run, batch: Batch, ref: ConversationRef,
                      extracted: tuple[ExtractionResult | None, str | None] | None) -> None:
        """Commit one conversation (one transaction on the store thread: whole or not at all, and counted
        even when the run is cancelled meanwhile) and count it; `extracted` is None for an unchanged one."""
        if extracted is None:
            batch.unchanged += 1
            run.counts.unchanged += 1
            self._emit(ConversationFinished(ref.id, batch.number, "unchanged", 0))
            return
        result, error = extracted
        outcome = await store_call(scans.commit_conversation, ref, run_id=run.run_id, result=result, error=error,
                                   judge=self._judge, claim_owner=run.claims.owner)
        account_conversation(run.counts, batch, ref, outcome, error, self._emit)

    async def _extract(self, run: _Run, ref: ConversationRef) -> tuple[ExtractionResult | None, str | None]:
        """Fetch the messages and extract; returns (result, None) or (None, why it failed).

        Raises ServiceRefused for a permanent refusal: it is not this conversation's failure, and the
        run stops (the window on the exception; the listing here, so that the run loop, which may be
        waiting for the next listed batch, sees it now)."""
        counts = run.counts
        if not run.warmed_up:
            run.warmed_up = True
            warm_up = getattr(self._extractor, "warm_up", None)   # optional for an extractor
            if warm_up is not None:
                warm_up()
        try:
            _resolved, messages = await self._front.conversation_messages(ref.id)
            assert run.eta is not None
            run.eta.conversation_served(ref.id)
            if not messages:
                return ExtractionResult((), self._extractor.name), None
            result = await self._extractor.extract(Conversation(ref, tuple(messages)))
        except ExtractionFailed as exc:
            count_spent(counts, exc)
            return None, f"extraction failed: {exc.reason}"
        except ApiError as exc:
            if exc.permanent:
                # A refused key still cost the request that was refused (0 for calls queued behind it).
                count_spent(counts, exc)
                assert run.lister is not None
                run.lister.cancel()
                raise ServiceRefused(exc) from exc
            return None, str(exc)
        except ExpectedError as exc:
            return None, str(exc)
        except Exception as exc:  # a bug in one conversation must not sink the run; it is logged in full
            log.exception("scanning %s failed", ref.id)
            return None, f"internal error: {type(exc).__name__}: {exc}"
        count_extraction(counts, result)
        return result, None

    def _progress(self, run: _Run) -> None:
        self._emit(progress_event(run.counts, self._clock() - run.started, run.eta, run.eta_checks))


async def _refusals_stop(pages: Any) -> Any:
    """`pages` with a permanent refusal raised as ServiceRefused (the run's one-line message)."""
    try:
        async for page in pages:
            yield page
    except ApiError as exc:
        if exc.permanent:
            raise ServiceRefused(exc) from exc
        raise
