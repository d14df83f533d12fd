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
same request and Ship24's idempotent create can never bill a second tracker.
"""

from __future__ import annotations

import hashlib
import json

from desktop.store.tables import RegistrationRow, ShipmentRow, utcnow

WAITING_APPROVAL = "waiting_approval"
QUEUED = "queued"
REGISTERED = "registered"
FAILED = "failed"
PAUSED = "paused"
DISMISSED = "dismissed"
STATES = (WAITING_APPROVAL, QUEUED, REGISTERED, FAILED, PAUSED, DISMISSED)


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
