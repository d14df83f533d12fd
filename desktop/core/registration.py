"""The registration worker: drains the durable outbox into Ship24, exactly once per shipment.

Contracts:
- Rows are claimed with a lease (`desktop.store.outbox.claim_due`), sent, and their outcome recorded with
  one attempt row each. The lease is renewed while the attempt runs, so a slow answer never lets another
  worker (process or desktop) send the same rows; only a dead worker's lease runs out (issue 16). A crash leaves a lease that expires, so the row is sent again; the frozen payload
  and clientTrackerId make Ship24 return the same tracker without using quota.
- Many due rows go in one bulk call (up to 100); a single due row uses the single create.
- Courier codes: only codes the live courier list confirms are sent, else none (desktop.core.requirements);
  the outbox payload's courierCode is the app's hint.
- Outcomes are sorted into kinds (desktop.core.outcomes):
    temporary   timeouts, resets, 5xx, 429, 409 -> queued again with exponential backoff and jitter; after
                the backoff's maximum attempts -> failed/temporary (waits for Retry)
    conflict    tracker_conflict (an edited shipment whose tracker Ship24 already holds) -> that tracker is
                updated with PATCH and the row registered with it, once (desktop.core.conflicts)
    permanent   validation_error, ... -> failed/permanent (waits for an edit)
    needs_info  the courier needs a destination postcode or country -> failed/needs_info (asks for it).
                Checked BEFORE sending against the courier list's requiredFields (desktop.core.requirements:
                Ship24 would create a tracker that never finds results); such a row gets an attempt with
                no HTTP call. A 400 naming a missing required field (other servers) ends the same way.
    quota       quota_limit_reached -> every queued row paused, `RegistrationPaused` emitted
    auth        the API key was refused -> paused the same way (nothing can register until it is fixed)
- `retry_now` queues rows at once whatever their backoff said, and wakes the background loop.
- Messages are written for a support agent, e.g. "Ship24 rejected the number: ...".
- The drain's store calls (claim, lease renewals, recording a round's outcomes, the next due time) run on
  the store thread (`desktop.core.storecalls`), so the window never waits for the database; a round's
  outcomes are recorded by ONE call, in row order, then reported. `retry_now` and `resume` are a
  person's actions (a click, a command) and stay one short synchronous transaction each.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from desktop.clients.backoff import Backoff
from desktop.clients.errors import ApiError
from desktop.clients.ship24 import Ship24Client
from desktop.core import requirements as req
from desktop.core.conflicts import settle_conflict
from desktop.core.events import ErrorReported, RegistrationChanged, RegistrationPaused, Sink, null_sink
from desktop.core.outcomes import (  # noqa: F401 - classify_error and the kinds are part of this module's API
    AUTH,
    NEEDS_INFO,
    PERMANENT,
    QUOTA,
    TEMPORARY,
    Outcome,
    classify_error,
    classify_item,
)
from desktop.core.storecalls import store_call
from desktop.core.tracking.couriers import courier_info
from desktop.store import outbox
from desktop.store.tables import RegistrationRow

log = logging.getLogger("shipscan.registration")

@dataclass
class DrainSummary:
    """Counts of one `drain_once` (attempts, by outcome) for the CLI's report."""

    attempted: int = 0
    registered: int = 0
    retrying: int = 0
    failed: int = 0
    paused: int = 0
    calls: int = 0
    paused_reason: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


class RegistrationWorker:
    """Registers due outbox rows with Ship24; `run(stop)` keeps doing it in the background."""

    def __init__(self, ship24: Ship24Client, sink: Sink = null_sink, *, approve_all_by_hand: bool = False,
                 clock: Callable[[], float] = time.time, backoff: Backoff | None = None,
                 lease_seconds: float = outbox.LEASE_SECONDS, bulk_min: int = 2, batch_limit: int = 100,
                 idle_seconds: float = 5.0, rand: Callable[[], float] = random.random,
                 couriers_ttl: float = req.COURIERS_TTL, couriers_retry: float = req.COURIERS_RETRY) -> None:
        self.ship24 = ship24
        self.sink = sink
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.lease_seconds = lease_seconds
        self.bulk_min = max(1, bulk_min)
        self.batch_limit = max(1, min(batch_limit, 100))
        self.idle_seconds = idle_seconds
        self.review_states = outbox.HAND_REVIEW_STATES if approve_all_by_hand else outbox.AUTO_REVIEW_STATES
        self._rand = rand
        self._wake = asyncio.Event()
        self._asked: set[int] = set()   # shipments retried by id: `run` attempts them even while paused
        #: Couriers' required fields (GET /couriers), fetched on the first drain that names a courier.
        self.requirements = req.CourierRequirements(ship24, ttl=couriers_ttl, retry_seconds=couriers_retry,
                                                    clock=clock)

    # -- public ----------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the outbox now (new rows, a retry, a resume) instead of at the next idle tick."""
        self._wake.set()

    def retry_now(self, shipment_ids: list[int] | None = None, *, break_leases: bool = False) -> list[int]:
        """Queue these shipments (None = every failed, waiting or paused one) for an attempt right now."""
        ids = outbox.retry_now(shipment_ids, break_leases=break_leases, now=self.clock())
        if shipment_ids is not None:
            self._asked.update(ids)
        for sid in ids:
            self.sink(RegistrationChanged(sid, outbox.QUEUED, "Retrying now."))
        self.wake()
        return ids

    def resume(self) -> list[int]:
        """Lift a pause (quota renewed, key fixed)."""
        ids = outbox.resume(self.clock())
        for sid in ids:
            self.sink(RegistrationChanged(sid, outbox.QUEUED, "Registration resumed."))
        self.wake()
        return ids

    @property
    def paused(self) -> bool:
        return outbox.is_paused()

    @property
    def approve_all_by_hand(self) -> bool:
        return self.review_states == outbox.HAND_REVIEW_STATES

    @approve_all_by_hand.setter
    def approve_all_by_hand(self, value: bool) -> None:
        """The setting changed while the app runs: applies from the next claim."""
        self.review_states = outbox.HAND_REVIEW_STATES if value else outbox.AUTO_REVIEW_STATES

    async def drain_once(self, shipment_ids: list[int] | None = None,
                         stop: asyncio.Event | None = None) -> DrainSummary:
        """Attempt every row due now (in bulk where several are); returns what happened.

        With `shipment_ids`, only those shipments' rows are attempted (an empty list attempts nothing):
        `shipscan retry ID...` must never register anything it was not given.
        Rows whose backoff puts them in the future are left for later; the loop ends when nothing is due
        or registration got paused, or `stop` is set (a worker told to stop ends after the attempt in hand,
        also while rows that keep failing fall due again at once).
        """
        summary = DrainSummary()
        while stop is None or not stop.is_set():
            rows = await store_call(outbox.claim_due, self.clock(), limit=self.batch_limit,
                                    lease_seconds=self.lease_seconds, review_states=self.review_states,
                                    shipment_ids=shipment_ids)
            if not rows:
                break
            try:
                outcomes, sent = await self._leased(rows, self._attempt(rows))
            except BaseException:   # cancelled mid-call: let the next drain take them
                await store_call(outbox.release, [r.id for r in rows])
                raise
            summary.calls += sent
            await self._apply_all(rows, outcomes, summary)
            if summary.paused_reason:
                break
        return summary

    async def run(self, stop: asyncio.Event) -> None:
        """Drain, then sleep until the next row is due, `wake()` or `stop` is set. Never raises
        for an expected failure (they are recorded on the rows); unexpected ones are logged and reported."""
        while not stop.is_set():
            self._wake.clear()
            wait = self.idle_seconds  # after an unexpected error: not a hot loop
            try:
                asked, self._asked = sorted(self._asked), set()
                if asked:   # retried by id: only these, even while the rest stay paused
                    await self.drain_once(asked, stop)
                await self.drain_once(stop=stop)
                wait = await self._next_wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug or a database error: report it, keep the loop alive
                log.exception("registration drain failed")
                self.sink(ErrorReported("registration", f"Registration stopped for a moment: {exc}"))
            await _wait_any(stop, self._wake, wait)

    # -- attempts --------------------------------------------------------------------------------------

    async def _next_wait(self) -> float:
        due = await store_call(outbox.next_due_at, self.review_states)
        if due is None:
            return self.idle_seconds
        return max(0.0, min(self.idle_seconds, due - self.clock()))

    async def _leased(self, rows: list[RegistrationRow], attempt: Any) -> Any:
        """Await `attempt` while renewing the rows' leases every third of the lease: a slow answer must not
        let another worker (another process or desktop) take the rows and send them a second time."""
        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease_seconds / 3)
                await store_call(outbox.renew_leases, [row.id for row in rows], self.clock() + self.lease_seconds)

        keeper = asyncio.ensure_future(renew())
        try:
            return await attempt
        finally:
            keeper.cancel()

    async def _attempt(self, rows: list[RegistrationRow]) -> tuple[list[Outcome | None], bool]:
        """Outcomes in row order, and whether Ship24 was called. Payloads go out with courier codes the live
        list confirms, or none (`req.verified_payload`); rows lacking a courier's required field are answered
        here (needs_info) and never sent; a tracker_conflict is settled, never filed as it comes."""
        couriers = await self.requirements.current()
        payloads = [req.verified_payload(json.loads(r.payload), _carrier_names(r), couriers) for r in rows]
        outcomes = self._check_required(payloads, couriers)
        send = [i for i, outcome in enumerate(outcomes) if outcome is None]
        if send:
            for index, outcome in zip(send, await self._send([payloads[i] for i in send]), strict=True):
                outcomes[index] = outcome
                if outcome is not None and outcome.code == "tracker_conflict":
                    outcomes[index] = await settle_conflict(self.ship24, payloads[index])
        return outcomes, bool(send)

    def _check_required(self, payloads: list[dict],
                        couriers: dict[str, req.CourierRequirement] | None) -> list[Outcome | None]:
        """needs_info for each payload missing a courier's required field; None = send it. Without the
        courier list nothing is checked (and no courier code is sent: Ship24 detects the courier)."""
        checks: list[Outcome | None] = [None] * len(payloads)
        for index, payload in enumerate(payloads):
            gaps = req.missing(payload, couriers or {})
            if gaps:
                log.info("%s not sent: %s", payload.get("clientTrackerId"), [g.field for g in gaps])
                checks[index] = Outcome(NEEDS_INFO, req.needs_info_message(gaps))
        return checks

    async def _send(self, payloads: list[dict]) -> list[Outcome | None]:
        if len(payloads) < self.bulk_min:
            return await self._attempt_singles(payloads)
        try:
            result = await self.ship24.create_trackers_bulk(payloads)
        except ApiError as exc:
            return [classify_error(exc)] * len(payloads)
        by_id = {item.client_tracker_id: item for item in result.items}
        outcomes = []
        for index, payload in enumerate(payloads):
            item = by_id.get(payload.get("clientTrackerId"))
            if item is None and index < len(result.items):
                item = result.items[index]
            outcomes.append(classify_item(item, result.http_status) if item is not None else
                            Outcome(TEMPORARY, "Ship24 did not answer for this shipment.", result.http_status))
        return outcomes

    async def _attempt_singles(self, payloads: list[dict]) -> list[Outcome | None]:
        """One create per payload; after a pause the rest are not sent (None: lease released)."""
        outcomes: list[Outcome | None] = []
        for payload in payloads:
            if outcomes and outcomes[-1] is not None and outcomes[-1].kind in (QUOTA, AUTH):
                outcomes.append(None)
                continue
            try:
                tracker = await self.ship24.create_tracker(payload)
            except ApiError as exc:
                outcomes.append(classify_error(exc))
            else:
                outcomes.append(Outcome(None, "", 201, tracker.tracker_id))
        return outcomes

    async def _apply_all(self, rows: list[RegistrationRow], outcomes: list[Outcome | None],
                         summary: DrainSummary) -> None:
        """Decide each outcome here, record them all in one store call (in row order, pause last), then
        report them in that order."""
        pause: Outcome | None = None
        records: list[_Record] = []
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome is None:
                continue
            summary.attempted += 1
            if outcome.kind in (QUOTA, AUTH):
                pause = pause or outcome
            records.append(self._plan(row, outcome, summary))
        unsent = [row.id for row, outcome in zip(rows, outcomes, strict=True) if outcome is None]
        paused_at = self.clock() if pause is not None else None
        updated, paused = await store_call(_record_round, unsent, records, pause, paused_at)
        for record, row in zip(records, updated, strict=True):
            if row is not None:
                log.info("shipment %s: %s%s", record.row.shipment_id, row.state,
                         f" ({record.kind})" if record.kind else "")
                self.sink(RegistrationChanged(record.row.shipment_id, row.state, record.message))
        if pause is not None:
            self._report_pause(pause, paused, summary)

    def _plan(self, row: RegistrationRow, outcome: Outcome, summary: DrainSummary) -> _Record:
        """What to record for one outcome (counted in `summary`)."""
        now = self.clock()
        state, kind, message, next_at = self._decide(row, outcome, now)
        if outcome.kind is None:
            summary.registered += 1
        elif state == outbox.QUEUED:
            summary.retrying += 1
        elif state == outbox.FAILED:
            summary.failed += 1
        else:
            summary.paused += 1
        result = ("existing" if outcome.existing else "registered") if outcome.kind is None else outcome.kind
        return _Record(row, result, state, kind, outcome.http_status, message, next_at, outcome.tracker_id, now)

    def _decide(self, row: RegistrationRow, outcome: Outcome,
                now: float) -> tuple[str, str | None, str, float | None]:
        """(state, kind, message, next attempt) for one outcome."""
        if outcome.kind is None:
            return (outbox.REGISTERED, None,
                    f"Registered with Ship24 (tracker {outcome.tracker_id}).{outcome.note}", None)
        if outcome.kind in (QUOTA, AUTH):
            return outbox.PAUSED, outcome.kind, outcome.message, None
        if outcome.kind != TEMPORARY:
            return outbox.FAILED, outcome.kind, outcome.message, None
        failures = row.attempts + 1
        next_at = self.backoff.next_attempt_at(now, failures, retry_after=outcome.retry_after,
                                               rand=self._rand)
        if next_at is None:
            return (outbox.FAILED, TEMPORARY, f"Gave up after {failures} attempts: {outcome.message} "
                    "Press Retry to try again.", None)
        wait = max(0.0, next_at - now)
        return (outbox.QUEUED, TEMPORARY, f"{outcome.message} Will try again in {_duration(wait)} "
                f"(attempt {failures} of {self.backoff.max_attempts}).", next_at)

    def _report_pause(self, outcome: Outcome, paused: list[int], summary: DrainSummary) -> None:
        summary.paused += len(paused)
        summary.paused_reason = outcome.message
        for sid in paused:
            self.sink(RegistrationChanged(sid, outbox.PAUSED, outcome.message))
        log.warning("registration paused: %s", outcome.message)
        self.sink(RegistrationPaused(outcome.message))


@dataclass(frozen=True)
class _Record:
    """One attempt's outcome as `outbox.record_attempt` stores it."""

    row: RegistrationRow
    outcome: str
    state: str
    kind: str | None
    http_status: int | None
    message: str
    next_attempt_at: float | None
    tracker_id: str | None
    at: float


def _record_round(unsent: list[int], records: list[_Record], pause: Outcome | None,
                  paused_at: float | None) -> tuple[list[RegistrationRow | None], list[int]]:
    """On the store thread: release the rows not sent, record each attempt (its own transaction, as
    before: a long round never holds the write lock), then pause every queued row if `pause`. Returns the
    updated rows (in `records`' order) and the shipment ids paused."""
    outbox.release(unsent)
    updated = [outbox.record_attempt(r.row.id, outcome=r.outcome, state=r.state, kind=r.kind,
                                     http_status=r.http_status, message=r.message,
                                     next_attempt_at=r.next_attempt_at, tracker_id=r.tracker_id, now=r.at)
               for r in records]
    paused = outbox.pause_all(pause.message, kind=pause.kind or QUOTA, now=paused_at) if pause is not None else []
    return updated, paused


def _carrier_names(row: RegistrationRow) -> list[str | None]:
    """The shipment's carrier names for matching the live courier list, most specific first (the claim
    loads the shipment with its row, so this reads no database)."""
    shipment = row.shipment
    info = courier_info(shipment.courier)
    return [shipment.carrier, info.name if info else None]


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "a moment"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, timeout: float) -> None:
    """Sleep until `stop` or `wake` is set, or `timeout` seconds pass."""
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
