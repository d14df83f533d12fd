"""The registration worker: drains the durable outbox into Ship24, exactly once per shipment.

Contracts:
- Rows are claimed with a lease (`desktop.store.outbox.claim_due`), sent, and their outcome recorded with
  one attempt row each. A crash leaves a lease that expires, so the row is sent again; the frozen payload
  and clientTrackerId make Ship24 return the same tracker without using quota.
- Many due rows go in one bulk call (up to 100); a single due row uses the single create.
- Outcomes are sorted into kinds:
    temporary   timeouts, resets, 5xx, 429, 409 -> queued again with exponential backoff and jitter; after
                the backoff's maximum attempts -> failed/temporary (waits for Retry)
    permanent   validation_error, tracker_conflict, ... -> failed/permanent (waits for an edit)
    needs_info  the courier needs a destination postcode or country -> failed/needs_info (asks for it).
                Checked BEFORE sending against the courier list's requiredFields (desktop.core.requirements:
                Ship24 would create a tracker that never finds results); such a row gets an attempt with
                no HTTP call. A 400 naming a missing required field (other servers) ends the same way.
    quota       quota_limit_reached -> every queued row paused, `RegistrationPaused` emitted
    auth        the API key was refused -> paused the same way (nothing can register until it is fixed)
- `retry_now` queues rows at once whatever their backoff said, and wakes the background loop.
- Messages are written for a support agent, e.g. "Ship24 rejected the number: ...".
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from desktop.clients.backoff import Backoff
from desktop.clients.errors import (
    ApiConnectionError,
    ApiError,
    ApiStatusError,
    ApiTimeout,
    AuthError,
    MalformedResponse,
    RateLimited,
)
from desktop.clients.ship24 import CreateResult, Ship24Client
from desktop.core import requirements as req
from desktop.core.events import ErrorReported, RegistrationChanged, RegistrationPaused, Sink, null_sink
from desktop.store import outbox
from desktop.store.tables import RegistrationRow

log = logging.getLogger("shipscan.registration")

TEMPORARY, PERMANENT, NEEDS_INFO, QUOTA, AUTH = "temporary", "permanent", "needs_info", "quota", "auth"

PERMANENT_CODES = {"validation_error", "tracker_conflict", "shipping_date_outdated", "tracker_not_updatable",
                   "processing_error", "parsing_error", "bulk_create_limit_exceeded"}
NEEDS_INFO_CODES = {"missing_mandatory_field", "destination_postcode_required",
                    "destination_country_required"}
NEEDS_INFO_WORDS = ("postcode", "post code", "postal", "destinationpostcode", "destinationcountrycode",
                    "destination country")
QUOTA_MESSAGE = ("Ship24 quota used up: the Ship24 plan has no shipments left this billing period. "
                 "Registration is paused and nothing is lost. Upgrade the Ship24 plan or wait for the next "
                 "period, then press Resume (or run `shipscan retry --all`).")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt ended in; `kind` is None for success."""

    kind: str | None
    message: str
    http_status: int | None = None
    tracker_id: str | None = None
    retry_after: float | None = None
    existing: bool = False


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


def classify_error(exc: ApiError) -> Outcome:
    """Sort a raised client error into a kind with a plain-language message."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None) or ""
    detail = getattr(exc, "detail", None) or exc.message
    if isinstance(exc, RateLimited):
        return Outcome(TEMPORARY, "Ship24 asked us to slow down (too many requests).", 429,
                       retry_after=exc.retry_after)
    if isinstance(exc, AuthError):
        return Outcome(AUTH, f"Ship24 refused the API key ({detail}). Check the Ship24 key in Settings; "
                             "registration is paused until then.", status)
    if isinstance(exc, ApiStatusError):
        return _classify_code(code, detail, status, exc.temporary)
    if isinstance(exc, ApiTimeout):
        return Outcome(TEMPORARY, "Ship24 did not answer in time.")
    if isinstance(exc, ApiConnectionError):
        return Outcome(TEMPORARY, "Could not reach Ship24 (the connection failed).")
    if isinstance(exc, MalformedResponse):
        return Outcome(TEMPORARY, "Ship24 sent an answer we could not read.")
    return Outcome(TEMPORARY if exc.temporary else PERMANENT, f"Ship24 error: {exc.message}")


def _classify_code(code: str, detail: str, status: int | None, temporary: bool) -> Outcome:
    if code == "quota_limit_reached":
        return Outcome(QUOTA, QUOTA_MESSAGE, status)
    if code in NEEDS_INFO_CODES or (code in ("validation_error", "") and _asks_for_destination(detail)):
        return Outcome(NEEDS_INFO, f"{req.NEEDS_INFO_PREFIX}: {detail}. "
                                   "Add the destination postcode/country to the shipment.", status)
    if code == "validation_error":
        what = "carrier" if "courier" in detail.lower() and "trackingnumber" not in detail.lower() else "number"
        return Outcome(PERMANENT, f"Ship24 rejected the {what}: {detail}. Check the tracking number and "
                                  "carrier, correct the shipment, then retry.", status)
    if code == "tracker_conflict":
        return Outcome(PERMANENT, f"Ship24 already tracks this shipment with different details: {detail}. "
                                  "Correct the shipment or dismiss it.", status)
    if code == "shipping_date_outdated":
        return Outcome(PERMANENT, "Ship24 refused it: the shipping date is more than 180 days old.", status)
    if code == "request_conflict" or status == 409:
        return Outcome(TEMPORARY, "Ship24 was still handling the same request (conflict 409).", status)
    if status is not None and status >= 500:
        return Outcome(TEMPORARY, f"Ship24 had a server problem (HTTP {status}).", status)
    if code in PERMANENT_CODES or not temporary:
        return Outcome(PERMANENT, f"Ship24 refused the registration: {detail}", status)
    return Outcome(TEMPORARY, f"Ship24 could not register it now: {detail}", status)


def _asks_for_destination(detail: str) -> bool:
    """True when every reason given is a missing destination postcode/country (a courier's required
    field); a message that also objects to something else is a plain validation error."""
    parts = [p.lower().replace("_", "") for p in detail.split("; ") if p.strip()]
    return bool(parts) and all(any(w in p for w in NEEDS_INFO_WORDS)
                               and any(w in p for w in ("requir", "missing", "need")) for p in parts)


def classify_item(item: CreateResult, http_status: int) -> Outcome:
    """Outcome of one bulk item."""
    if item.ok and item.tracker is not None:
        return Outcome(None, "", http_status, item.tracker.tracker_id, existing=item.status == "existing")
    code = item.code or ""
    detail = item.message or "no reason given"
    status = 409 if code == "request_conflict" else (403 if code == "quota_limit_reached" else 400)
    return _classify_code(code, detail, status, temporary=code == "request_conflict")


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

    async def drain_once(self, shipment_ids: list[int] | None = None) -> DrainSummary:
        """Attempt every row due now (in bulk where several are); returns what happened.

        With `shipment_ids`, only those shipments' rows are attempted (an empty list attempts nothing):
        `shipscan retry ID...` must never register anything it was not given.
        Rows whose backoff puts them in the future are left for later; the loop ends when nothing is due
        or registration got paused.
        """
        summary = DrainSummary()
        while True:
            rows = outbox.claim_due(self.clock(), limit=self.batch_limit, lease_seconds=self.lease_seconds,
                                    review_states=self.review_states, shipment_ids=shipment_ids)
            if not rows:
                break
            try:
                outcomes, sent = await self._attempt(rows)
            except BaseException:
                outbox.release([r.id for r in rows])  # cancelled mid-call: let the next drain take them
                raise
            summary.calls += sent
            self._apply_all(rows, outcomes, summary)
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
                await self.drain_once()
                wait = self._next_wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug or a database error: report it, keep the loop alive
                log.exception("registration drain failed")
                self.sink(ErrorReported("registration", f"Registration stopped for a moment: {exc}"))
            await _wait_any(stop, self._wake, wait)

    # -- attempts --------------------------------------------------------------------------------------

    def _next_wait(self) -> float:
        due = outbox.next_due_at(self.review_states)
        if due is None:
            return self.idle_seconds
        return max(0.0, min(self.idle_seconds, due - self.clock()))

    async def _attempt(self, rows: list[RegistrationRow]) -> tuple[list[Outcome | None], bool]:
        """Outcomes in row order, and whether Ship24 was called. Rows lacking a courier's required field
        are answered here (needs_info) and never sent."""
        payloads = [json.loads(r.payload) for r in rows]
        outcomes = await self._check_required(payloads)
        send = [i for i, outcome in enumerate(outcomes) if outcome is None]
        if send:
            for index, outcome in zip(send, await self._send([payloads[i] for i in send]), strict=True):
                outcomes[index] = outcome
        return outcomes, bool(send)

    async def _check_required(self, payloads: list[dict]) -> list[Outcome | None]:
        """needs_info for each payload missing a courier's required field; None = send it. The courier
        list is only fetched when a payload names a courier; without it everything is sent (logged)."""
        checks: list[Outcome | None] = [None] * len(payloads)
        if not any(req.courier_codes(p) for p in payloads):
            return checks
        requirements = await self.requirements.current()
        if requirements is None:
            return checks
        for index, payload in enumerate(payloads):
            gaps = req.missing(payload, requirements)
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

    def _apply_all(self, rows: list[RegistrationRow], outcomes: list[Outcome | None],
                   summary: DrainSummary) -> None:
        pause: Outcome | None = None
        outbox.release([row.id for row, outcome in zip(rows, outcomes, strict=True) if outcome is None])
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome is None:
                continue
            summary.attempted += 1
            if outcome.kind in (QUOTA, AUTH):
                pause = pause or outcome
            self._apply(row, outcome, summary)
        if pause is not None:
            self._pause(pause, summary)

    def _apply(self, row: RegistrationRow, outcome: Outcome, summary: DrainSummary) -> None:
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
        updated = outbox.record_attempt(
            row.id, outcome=("existing" if outcome.existing else "registered") if outcome.kind is None
            else outcome.kind, state=state, kind=kind, http_status=outcome.http_status, message=message,
            next_attempt_at=next_at, tracker_id=outcome.tracker_id, now=now)
        if updated is not None:
            log.info("shipment %s: %s%s", row.shipment_id, updated.state, f" ({kind})" if kind else "")
            self.sink(RegistrationChanged(row.shipment_id, updated.state, message))

    def _decide(self, row: RegistrationRow, outcome: Outcome,
                now: float) -> tuple[str, str | None, str, float | None]:
        """(state, kind, message, next attempt) for one outcome."""
        if outcome.kind is None:
            return outbox.REGISTERED, None, f"Registered with Ship24 (tracker {outcome.tracker_id}).", None
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

    def _pause(self, outcome: Outcome, summary: DrainSummary) -> None:
        paused = outbox.pause_all(outcome.message, kind=outcome.kind or QUOTA, now=self.clock())
        summary.paused += len(paused)
        summary.paused_reason = outcome.message
        for sid in paused:
            self.sink(RegistrationChanged(sid, outbox.PAUSED, outcome.message))
        log.warning("registration paused: %s", outcome.message)
        self.sink(RegistrationPaused(outcome.message))


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
