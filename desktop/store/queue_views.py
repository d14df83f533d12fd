"""The registration queue as people see it: what waits for registration, and why, in words.

`queue_items` is what `shipscan queue` prints and what waits in the retry queue: one `QueueItem` per outbox
row (registered and dismissed rows only on request), oldest first, each with its reason in words a support
agent understands. Reads only; the outbox's writes live in `desktop.store.outbox` (which re-exports these).
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass

from desktop.hold_reasons import hold_reason
from desktop.store.outbox_states import DISMISSED, FAILED, PAUSED, QUEUED, REGISTERED, WAITING_APPROVAL
from desktop.store.tables import RegistrationRow, ShipmentRow, utcnow


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One outbox row as `shipscan queue` and the retry queue show it."""

    shipment_id: int
    registration_id: int
    tracking_number: str
    courier: str
    carrier: str | None
    conversation_id: str
    review_state: str
    state: str
    kind: str | None
    attempts: int
    next_attempt_at: float | None
    last_error: str | None
    tracker_id: str | None
    in_flight: bool
    reason: str

    def to_json(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}



def queue_items(*, include_done: bool = False, shipment_ids: list[int] | None = None,
                now: float | None = None) -> list[QueueItem]:
    """What waits and why (registered and dismissed rows only with `include_done`), oldest first."""
    now = utcnow() if now is None else now
    query = RegistrationRow.select(RegistrationRow, ShipmentRow).join(ShipmentRow)
    if not include_done:
        query = query.where(RegistrationRow.state.not_in((REGISTERED, DISMISSED)))
    if shipment_ids is not None:
        query = query.where(RegistrationRow.shipment.in_(list(shipment_ids)))
    from desktop.store.outbox import pause_reason  # outbox imports this module: import at call time

    paused = pause_reason()
    return [_queue_item(row, now, paused) for row in query.order_by(RegistrationRow.id)]


def _queue_item(row: RegistrationRow, now: float, paused: str | None) -> QueueItem:
    ship = row.shipment
    in_flight = bool(row.lease_until and row.lease_until > now and row.state == QUEUED)
    return QueueItem(shipment_id=ship.id, registration_id=row.id, tracking_number=ship.tracking_number,
                     courier=ship.courier, carrier=ship.carrier, conversation_id=ship.conversation_id,
                     review_state=ship.review_state, state=row.state, kind=row.kind, attempts=row.attempts,
                     next_attempt_at=row.next_attempt_at, last_error=row.last_error,
                     tracker_id=row.tracker_id, in_flight=in_flight,
                     reason=_reason(row, now, in_flight, paused))


def _json_list(raw: str | None) -> list:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _clock_text(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch).strftime("%H:%M:%S")


def _reason(row: RegistrationRow, now: float, in_flight: bool, paused: str | None) -> str:
    """Why the row waits, in words a support agent understands."""
    if row.state == WAITING_APPROVAL:
        why = hold_reason(_json_list(row.shipment.flags))
        return "Waiting for someone to approve this shipment." + (f" {why}" if why else "")
    if row.state == REGISTERED:
        return f"Registered with Ship24 (tracker {row.tracker_id})."
    if row.state == DISMISSED:
        return "Dismissed: it will not be registered."
    if row.state in (FAILED, PAUSED):
        return row.last_error or "Registration failed."
    if in_flight:
        return "Being registered right now."
    if paused:
        return f"Registration is paused: {paused}"
    if row.next_attempt_at and row.next_attempt_at > now:
        last = f" Last attempt: {row.last_error}" if row.last_error else ""
        return f"Will try again at {_clock_text(row.next_attempt_at)}.{last}"
    return "Ready to register."
