"""The registration outbox: what must be registered with Ship24, and every attempt.

Row states (RegistrationRow.state):
    waiting_approval  flagged shipment (or "approve everything by hand"): waits for a person
    queued            due for an attempt at `next_attempt_at` (None = now)
    registered        Ship24 holds the tracker (`tracker_id`); final
    failed            needs a person: `kind` is "temporary" (gave up after the backoff cap),
                      "permanent" (validation error, conflict: edit the shipment), "needs_info"
                      (courier needs a postcode or destination country)
    paused            quota exhausted: waits until the user resumes registration
    dismissed         the user rejected the shipment or dismissed the item; never registered

The payload and `client_tracker_id` are fixed when the row is written, so every retry sends exactly the
same request and Ship24's idempotent create can never bill a second tracker. Its courierCode is a hint the
worker verifies (core.requirements); after an edit, a tracker Ship24 already holds is updated (core.conflicts).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from peewee import fn

from desktop.log import redact
from desktop.store import changes, reviewlog
from desktop.store.outbox_states import (
    DISMISSED,
    FAILED,
    PAUSED,
    QUEUED,
    REGISTERED,
    STATES,
    WAITING_APPROVAL,
)
from desktop.store.outbox_status import (
    FINAL_MILESTONES,
    STATUS_FIELDS,
    registered_for_status,
    save_status,
    status_rows,
)
from desktop.store.processes import owner_alive, this_process
from desktop.store.tables import (
    RegistrationAttemptRow,
    RegistrationRow,
    ShipmentRow,
    database,
    utcnow,
)

__all__ = ["AUTO_REVIEW_STATES", "DISMISSED", "FAILED", "FINAL_MILESTONES", "HAND_REVIEW_STATES", "LEASE_SECONDS",
           "PAUSED", "QUEUED", "REGISTERED", "RETRYABLE_STATES", "STATES", "STATUS_FIELDS", "WAITING_APPROVAL",
           "AttemptInfo", "QueueItem", "attempts_for", "claim_due", "client_tracker_id", "counts", "dismiss",
           "enqueue", "initial_state", "is_paused", "next_due_at", "pause_all", "pause_reason", "payload_for", "queue_items",
           "record_attempt", "refreeze_payload", "registered_for_status", "registration_for", "release", "renew_leases",
           "resume",
           "retry_now", "save_status", "status_rows"]


def client_tracker_id(tracking_number: str, courier: str) -> str:
    """Stable id for a shipment: the same (number, courier) always gives the same id, on any machine."""
    digest = hashlib.sha256(f"{tracking_number}|{courier}".encode()).hexdigest()[:24]
    return f"shipscan-{digest}"


def payload_for(shipment: ShipmentRow) -> dict:
    """The Ship24 create-tracker body for `shipment`; only fields we know, always in the same form."""
    payload: dict = {"trackingNumber": shipment.tracking_number,
                     "clientTrackerId": client_tracker_id(shipment.tracking_number, shipment.courier)}
    if shipment.courier_code:
        payload["courierCode"] = [shipment.courier_code]
    if shipment.order_number:
        payload["orderNumber"] = shipment.order_number
    if shipment.destination_country:
        payload["destinationCountryCode"] = shipment.destination_country
    if shipment.destination_postcode:
        payload["destinationPostCode"] = shipment.destination_postcode
    return payload


def initial_state(review_state: str) -> str:
    """Outbox state for a new shipment: validated or approved ones queue, rejected never register."""
    if review_state in ("auto", "approved"):
        return QUEUED
    if review_state == "rejected":
        return DISMISSED
    return WAITING_APPROVAL


def enqueue(shipment: ShipmentRow) -> RegistrationRow:
    """Write the outbox row of a new shipment. Call inside the transaction that inserts the shipment."""
    payload = payload_for(shipment)
    now = utcnow()
    return RegistrationRow.create(
        shipment=shipment, state=initial_state(shipment.review_state),
        client_tracker_id=payload["clientTrackerId"], payload=json.dumps(payload, sort_keys=True),
        created_at=now, updated_at=now)


# ---------------------------------------------------------------------------------------------------------
# Draining: due items, leases, attempts. Owned by REGISTRATION; every statement about the outbox lives here.
#
# A worker *claims* due rows by setting `lease_until` inside an IMMEDIATE transaction (so two processes
# never claim the same row at once). The lease is the "in flight" marker: if the process dies, the lease
# expires and the row is due again. Re-sending is free because the payload and clientTrackerId are frozen
# and Ship24's create is idempotent.
#
# Pause: registration is paused while any row is in state `paused` (quota exhausted, key refused). Nothing
# is claimed then; `resume()` or `retry_now()` lifts it. Keeping the pause in the rows means it survives a
# restart without a separate settings table.
# ---------------------------------------------------------------------------------------------------------

#: Seconds an attempt may stay in flight before another worker may take the row over.
LEASE_SECONDS = 60.0
#: Review states that register by themselves; with "approve everything by hand" only "approved" does.
AUTO_REVIEW_STATES = ("auto", "approved")
HAND_REVIEW_STATES = ("approved",)
RETRYABLE_STATES = (QUEUED, FAILED, PAUSED)


@dataclass(frozen=True, slots=True)
class AttemptInfo:
    at: float
    outcome: str
    http_status: int | None
    message: str | None


def _due_query(now: float, review_states: tuple[str, ...], shipment_ids: list[int] | None = None):
    lease_free = RegistrationRow.lease_until.is_null() | (RegistrationRow.lease_until < now)
    due = RegistrationRow.next_attempt_at.is_null() | (RegistrationRow.next_attempt_at <= now)
    # The shipment comes with its row: the worker reads its carrier names (courier list matching).
    query = (RegistrationRow.select(RegistrationRow, ShipmentRow).join(ShipmentRow)
             .where((RegistrationRow.state == QUEUED) & due & lease_free
                    & ShipmentRow.review_state.in_(review_states)))
    if shipment_ids is not None:
        query = query.where(RegistrationRow.shipment.in_(list(shipment_ids)))
    return query


def claim_due(now: float, *, limit: int = 100, lease_seconds: float = LEASE_SECONDS,
              review_states: tuple[str, ...] = AUTO_REVIEW_STATES,
              shipment_ids: list[int] | None = None) -> list[RegistrationRow]:
    """Lease up to `limit` due rows (oldest first) for one attempt; [] while registration is paused.

    `shipment_ids` restricts the claim to those shipments (an explicit `retry ID...`): an empty list
    claims nothing, never "everything". Such a claim ignores a pause: a person asked for exactly these.
    """
    if shipment_ids is not None and not shipment_ids:
        return []
    with database.atomic("IMMEDIATE"):
        if shipment_ids is None and is_paused():
            return []
        rows = list(_due_query(now, review_states, shipment_ids)
                    .order_by(RegistrationRow.next_attempt_at.asc(nulls="first"), RegistrationRow.id)
                    .limit(limit))
        if rows:
            owner = this_process()
            (RegistrationRow.update(lease_until=now + lease_seconds, lease_owner=owner)
             .where(RegistrationRow.id.in_([r.id for r in rows])).execute())
            for row in rows:
                row.lease_until, row.lease_owner = now + lease_seconds, owner
    return rows


def next_due_at(review_states: tuple[str, ...] = AUTO_REVIEW_STATES) -> float | None:
    """Earliest time a queued row becomes due (its backoff or its lease ends); None if none or paused."""
    if is_paused():
        return None
    rows = (RegistrationRow.select(RegistrationRow.next_attempt_at, RegistrationRow.lease_until)
            .join(ShipmentRow)
            .where((RegistrationRow.state == QUEUED) & ShipmentRow.review_state.in_(review_states)))
    times = [max(r.next_attempt_at or 0.0, r.lease_until or 0.0) for r in rows]
    return min(times) if times else None


def renew_leases(registration_ids: list[int], until: float) -> int:
    """Extend this process's leases on these rows to `until` (an attempt takes longer than expected);
    a lease another process took over meanwhile is left alone. Returns how many were extended."""
    if not registration_ids:
        return 0
    return (RegistrationRow.update(lease_until=until)
            .where(RegistrationRow.id.in_(registration_ids) & (RegistrationRow.lease_owner == this_process())
                   & (RegistrationRow.state == QUEUED)).execute())


def release(registration_ids: list[int]) -> None:
    """Give up leases without an attempt (the worker was cancelled before sending)."""
    if registration_ids:
        (RegistrationRow.update(lease_until=None, lease_owner=None)
         .where(RegistrationRow.id.in_(registration_ids)).execute())


def record_attempt(registration_id: int, *, outcome: str, state: str, kind: str | None = None,
                   http_status: int | None = None, message: str | None = None,
                   next_attempt_at: float | None = None, tracker_id: str | None = None,
                   now: float | None = None) -> RegistrationRow | None:
    """Keep one attempt and move the row to `state`, ending its lease. Returns the updated row.

    A registered row is never downgraded (a second process may have registered it), and a row the user
    dismissed while the attempt was in flight stays dismissed unless Ship24 registered it.
    """
    now = utcnow() if now is None else now
    message = redact(message)  # error columns leave the process (queue, --json): never a key
    with database.atomic("IMMEDIATE"):
        row = RegistrationRow.get_or_none(RegistrationRow.id == registration_id)
        if row is None:
            return None
        RegistrationAttemptRow.create(registration=row, at=now, outcome=outcome, http_status=http_status,
                                      message=message)
        row.attempts += 1
        row.lease_until, row.lease_owner = None, None
        row.updated_at = now
        if state == REGISTERED:
            row.state, row.kind, row.last_error, row.next_attempt_at = REGISTERED, None, None, None
            row.tracker_id = tracker_id or row.tracker_id
            row.registered_at = row.registered_at or now
        elif row.state not in (REGISTERED, DISMISSED):
            row.state, row.kind, row.last_error, row.next_attempt_at = state, kind, message, next_attempt_at
        row.save()
        changes.bump()  # the outcome shows in every desktop's tables (issue 16)
    return row


def is_paused() -> bool:
    return RegistrationRow.select().where(RegistrationRow.state == PAUSED).exists()


def pause_reason() -> str | None:
    row = (RegistrationRow.select(RegistrationRow.last_error).where(RegistrationRow.state == PAUSED)
           .order_by(RegistrationRow.updated_at.desc()).first())
    return row.last_error if row else None


def pause_all(reason: str, *, kind: str = "quota", now: float | None = None) -> list[int]:
    """Pause every queued row (quota exhausted); returns the shipment ids that were paused."""
    now = utcnow() if now is None else now
    reason = redact(reason) or ""
    with database.atomic("IMMEDIATE"):
        ids = [r.shipment_id for r in RegistrationRow.select(RegistrationRow.shipment)
               .where(RegistrationRow.state == QUEUED)]
        (RegistrationRow.update(state=PAUSED, kind=kind, last_error=reason, updated_at=now)
         .where(RegistrationRow.state == QUEUED).execute())
        if ids:
            changes.bump()
    return ids


def resume(now: float | None = None) -> list[int]:
    """Lift the pause: paused rows are queued again at once. Returns their shipment ids."""
    now = utcnow() if now is None else now
    with database.atomic("IMMEDIATE"):
        ids = [r.shipment_id for r in RegistrationRow.select(RegistrationRow.shipment)
               .where(RegistrationRow.state == PAUSED)]
        (RegistrationRow.update(state=QUEUED, kind=None, next_attempt_at=None, attempts=0, updated_at=now)
         .where(RegistrationRow.state == PAUSED).execute())
        if ids:
            changes.bump()
    return ids


def retry_now(shipment_ids: list[int] | None = None, *, break_leases: bool = False,
              now: float | None = None) -> list[int]:
    """Queue rows for an attempt right now, whatever their backoff said; None = every retryable row.

    Retrying everything (None) also lifts a pause; retrying given ids takes only those out of it (the
    rest stay paused: one row retried must not send them all). Either restarts the backoff count
    (`attempts`; the attempt history is kept). With `break_leases`, rows held by a process that died are
    due at once too (Ship24's idempotent create makes re-sending them free); a lease of a live process, or
    of another desktop (which cannot be told from here), is kept: two workers never send one row at once
    (issue 16). Returns the shipment ids queued.
    """
    now = utcnow() if now is None else now
    condition = RegistrationRow.state.in_(RETRYABLE_STATES)
    if shipment_ids is not None:
        condition &= RegistrationRow.shipment.in_(list(shipment_ids))
    with database.atomic("IMMEDIATE"):
        ids = [r.shipment_id for r in RegistrationRow.select(RegistrationRow.shipment).where(condition)]
        fields: dict = {"state": QUEUED, "kind": None, "next_attempt_at": None, "attempts": 0,
                        "updated_at": now}
        RegistrationRow.update(**fields).where(condition).execute()
        if break_leases:
            _break_dead_leases(condition, now)
        reviewlog.record("retry", ids)  # a person asked for it (the worker's own retries do not come here)
        if shipment_ids is None:
            resume(now)
    return ids


def _break_dead_leases(condition, now: float) -> None:
    """End the running leases among `condition`'s rows whose holder is gone (or unnamed: older rows)."""
    held = (RegistrationRow.select(RegistrationRow.id, RegistrationRow.lease_owner)
            .where(condition & (RegistrationRow.lease_until >= now)))
    dead = [row.id for row in held if row.lease_owner is None or owner_alive(row.lease_owner) is False]
    if dead:
        (RegistrationRow.update(lease_until=None, lease_owner=None)
         .where(RegistrationRow.id.in_(dead)).execute())


def dismiss(shipment_ids: list[int], *, now: float | None = None) -> list[int]:
    """Never register these (unless already registered). Returns the shipment ids dismissed."""
    now = utcnow() if now is None else now
    condition = RegistrationRow.shipment.in_(list(shipment_ids)) & (RegistrationRow.state != REGISTERED)
    with database.atomic("IMMEDIATE"):
        ids = [r.shipment_id for r in RegistrationRow.select(RegistrationRow.shipment).where(condition)]
        (RegistrationRow.update(state=DISMISSED, kind=None, next_attempt_at=None, updated_at=now)
         .where(condition).execute())
        reviewlog.record("dismiss", ids)
    return ids


def refreeze_payload(shipment: ShipmentRow, *, requeue: bool, now: float | None = None) -> RegistrationRow:
    """After an edit of an unregistered shipment: new payload and clientTrackerId, backoff restarted;
    `requeue` puts failed/paused rows back in the queue. Call inside the edit's transaction."""
    now = utcnow() if now is None else now
    row = RegistrationRow.get(RegistrationRow.shipment == shipment.id)
    payload = payload_for(shipment)
    row.payload = json.dumps(payload, sort_keys=True)
    row.client_tracker_id = payload["clientTrackerId"]
    row.attempts, row.updated_at = 0, now
    if requeue and row.state in (FAILED, PAUSED, QUEUED):
        row.state, row.kind, row.next_attempt_at = QUEUED, None, None
    row.save()
    return row


def registration_for(shipment_id: int) -> RegistrationRow | None:
    return RegistrationRow.get_or_none(RegistrationRow.shipment == shipment_id)


def counts() -> dict[str, int]:
    """Rows per state (every state present, zero included)."""
    result = dict.fromkeys(STATES, 0)
    for row in (RegistrationRow.select(RegistrationRow.state, fn.COUNT(RegistrationRow.id).alias("n"))
                .group_by(RegistrationRow.state)):
        result[row.state] = row.n
    return result


def attempts_for(shipment_id: int) -> list[AttemptInfo]:
    """Every attempt of a shipment's registration, oldest first."""
    query = (RegistrationAttemptRow.select().join(RegistrationRow)
             .where(RegistrationRow.shipment == shipment_id).order_by(RegistrationAttemptRow.id))
    return [AttemptInfo(a.at, a.outcome, a.http_status, a.message) for a in query]


# The queue as people see it (`shipscan queue`, the retry queue) lives in queue_views; kept importable here.
from desktop.store.queue_views import QueueItem, queue_items  # noqa: E402  (it reads pause_reason above)
