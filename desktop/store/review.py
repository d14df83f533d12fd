"""Review actions on shipments (approve, reject, edit, set destination) and their outbox effects.

Used by the command line and the GUI alike; all SQL of these actions lives here. Contracts:
- Each action works on one or many shipment ids and returns one `ReviewResult` per id (never raises for an
  id it cannot act on: the result says why, in plain language).
- Approving queues the shipment's outbox row; rejecting dismisses it. Approving a registered one changes
  nothing. Rejecting a registered one only marks it rejected here (hidden from review as a false positive):
  its tracker was paid for when it was created, and stopping it at Ship24 would refund nothing, so
  Shipscan leaves Ship24 alone and says so.
- `ReviewResult.changed` says whether the action changed anything (approving an approved or registered
  shipment does not), so the GUI never reports "Approved 3 shipments" for three that were already.
- Edits of number/courier/carrier/order or destination are refused once the shipment is registered (Ship24
  would bill a new tracker for a changed payload); `edit_refusal` tells the GUI before it offers the edit.
  An accepted edit re-freezes the payload and, for a shipment allowed to register, queues it again at once.
  The caller validates a new number first (`desktop.core.tracking.validate`) and passes `validated=`: an
  edit to a number that is not valid for its courier (`validated=False`) puts the shipment back to
  "needs review" (review state "pending", outbox waiting for approval) whatever it was, so it registers
  only once a person approves it.
- Every action runs in one transaction, which also logs who did it to each shipment it changed and bumps
  the change counter (`store.reviewlog.record`), so other desktops show it (issue 16).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from desktop.store import outbox, reviewlog
from desktop.store.tables import RegistrationRow, ShipmentRow, database, utcnow

POSTCODE_MAX = 32
COUNTRY_RE = re.compile(r"^[A-Z]{2,3}$")
NUMBER_RE = re.compile(r"^[A-Z0-9]{5,50}$")
REFUSED_REGISTERED = ("Already registered with Ship24: it can no longer be changed (a changed shipment "
                      "would be billed as a new tracker).")


@dataclass(frozen=True, slots=True)
class ReviewResult:
    """The effect of a review action on one shipment; `state` is its outbox state afterwards."""

    shipment_id: int
    ok: bool
    message: str
    state: str | None = None
    #: False when the action left the shipment as it was (e.g. approving an approved one).
    changed: bool = True

    def to_json(self) -> dict:
        return {"shipment_id": self.shipment_id, "ok": self.ok, "message": self.message, "state": self.state,
                "changed": self.changed and self.ok}


def _load(shipment_id: int) -> tuple[ShipmentRow | None, RegistrationRow | None]:
    ship = ShipmentRow.get_or_none(ShipmentRow.id == shipment_id)
    return ship, (outbox.registration_for(shipment_id) if ship else None)


def _each(ids: Iterable[int], action, name: str) -> list[ReviewResult]:
    results = []
    for sid in ids:
        with database.atomic("IMMEDIATE"):
            ship, reg = _load(sid)
            if ship is None or reg is None:
                results.append(ReviewResult(sid, False, f"No shipment {sid}."))
                continue
            result = action(ship, reg)
            if result.ok and result.changed:
                reviewlog.record(name, [sid])
            results.append(result)
    return results


def _queue(reg: RegistrationRow, now: float) -> None:
    reg.state, reg.kind, reg.next_attempt_at, reg.attempts, reg.updated_at = (
        outbox.QUEUED, None, None, 0, now)
    reg.save()


def approve(shipment_ids: Iterable[int]) -> list[ReviewResult]:
    """Approve: the shipment registers (queued at once). Unchanged when registered or already approved."""
    def act(ship: ShipmentRow, reg: RegistrationRow) -> ReviewResult:
        if reg.state == outbox.REGISTERED:
            return ReviewResult(ship.id, True, "Already registered.", reg.state, changed=False)
        waiting = reg.state in (outbox.WAITING_APPROVAL, outbox.DISMISSED)
        if ship.review_state == "approved" and not waiting:
            return ReviewResult(ship.id, True, "Already approved.", reg.state, changed=False)
        ship.review_state = "approved"
        ship.save()
        if waiting:
            _queue(reg, utcnow())
        return ReviewResult(ship.id, True, "Approved: it will be registered with Ship24.", reg.state)
    return _each(shipment_ids, act, "approve")


REJECTED_REGISTERED = ("Rejected: marked as not a shipment here. It stays registered with Ship24 (its tracker "
                       "was paid for when it was created; stopping it would refund nothing).")


def reject(shipment_ids: Iterable[int]) -> list[ReviewResult]:
    """Reject: never registered (its outbox row is dismissed); a registered one is only marked rejected."""
    def act(ship: ShipmentRow, reg: RegistrationRow) -> ReviewResult:
        if ship.review_state == "rejected":
            return ReviewResult(ship.id, True, "Already rejected.", reg.state, changed=False)
        if reg.state == outbox.REGISTERED:
            ship.review_state = "rejected"
            ship.save()
            return ReviewResult(ship.id, True, REJECTED_REGISTERED, reg.state)
        ship.review_state = "rejected"
        ship.save()
        reg.state, reg.kind, reg.next_attempt_at, reg.updated_at = outbox.DISMISSED, None, None, utcnow()
        reg.save()
        return ReviewResult(ship.id, True, "Rejected: it will not be registered.", reg.state)
    return _each(shipment_ids, act, "reject")


def _requeue_after_edit(ship: ShipmentRow, reg: RegistrationRow, validated: bool | None) -> RegistrationRow:
    """Re-freeze the payload; a number that is not valid for its courier waits for a person again."""
    if validated is False and ship.review_state != "rejected":
        ship.review_state = "pending"
        ship.save()
        if reg.state != outbox.DISMISSED:
            reg.state, reg.kind, reg.next_attempt_at, reg.updated_at = (outbox.WAITING_APPROVAL, None, None,
                                                                        utcnow())
            reg.save()
    registers = ship.review_state in outbox.AUTO_REVIEW_STATES
    return outbox.refreeze_payload(ship, requeue=registers)


def edit_refusal(tracking_number: str, courier: str) -> str | None:
    """Why the shipment with this number and courier cannot be edited (None: it can, or there is none)."""
    row = (RegistrationRow.select(RegistrationRow.state).join(ShipmentRow)
           .where((ShipmentRow.tracking_number == tracking_number) & (ShipmentRow.courier == (courier or "")))
           .first())
    return REFUSED_REGISTERED if row is not None and row.state == outbox.REGISTERED else None


def edit(shipment_id: int, *, tracking_number: str | None = None, courier: str | None = None,
         carrier: str | None = None, courier_code: str | None = None, order_number: str | None = None,
         validated: bool | None = None) -> ReviewResult:
    """Change what identifies the shipment. None = unchanged; "" clears an optional field.

    `tracking_number` must already be normalised (A-Z0-9) and validated by the caller.
    """
    changes: dict = {}
    if tracking_number is not None:
        if not NUMBER_RE.match(tracking_number):
            return ReviewResult(shipment_id, False, "A tracking number is 5 to 50 letters and digits.")
        changes["tracking_number"] = tracking_number
    for name, value in (("courier", courier), ("carrier", carrier), ("courier_code", courier_code),
                        ("order_number", order_number)):
        if value is not None:
            changes[name] = value.strip() if name == "courier" else (value.strip() or None)
    if validated is not None:
        changes["validated"] = validated
    return _update(shipment_id, changes, "edit")


def set_destination(shipment_ids: Iterable[int], *, postcode: str | None = None,
                    country: str | None = None) -> list[ReviewResult]:
    """Set the destination postcode and/or country (what some couriers require) and queue again."""
    changes: dict = {}
    if country is not None:
        country = country.strip().upper()
        if country and not COUNTRY_RE.match(country):
            return [ReviewResult(sid, False, "A country is a 2- or 3-letter ISO code, e.g. GB or DE.")
                    for sid in shipment_ids]
        changes["destination_country"] = country or None
    if postcode is not None:
        postcode = " ".join(postcode.split()).upper()
        if len(postcode) > POSTCODE_MAX:
            return [ReviewResult(sid, False, f"A postcode has at most {POSTCODE_MAX} characters.")
                    for sid in shipment_ids]
        changes["destination_postcode"] = postcode or None
    return [_update(sid, changes, "destination") for sid in shipment_ids]


def _update(shipment_id: int, changes: dict, action: str) -> ReviewResult:
    with database.atomic("IMMEDIATE"):
        ship, reg = _load(shipment_id)
        if ship is None or reg is None:
            return ReviewResult(shipment_id, False, f"No shipment {shipment_id}.")
        if reg.state == outbox.REGISTERED:
            return ReviewResult(shipment_id, False, REFUSED_REGISTERED, reg.state)
        if not changes:
            return ReviewResult(shipment_id, True, "Nothing to change.", reg.state)
        number = changes.get("tracking_number", ship.tracking_number)
        courier = changes.get("courier", ship.courier)
        clash = (ShipmentRow.select().where((ShipmentRow.tracking_number == number)
                                            & (ShipmentRow.courier == courier)
                                            & (ShipmentRow.id != ship.id)).first())
        if clash is not None:
            return ReviewResult(shipment_id, False, f"Shipment {clash.id} already has this number and "
                                                    "carrier.", reg.state)
        for name, value in changes.items():
            setattr(ship, name, value)
        ship.save()
        reg = _requeue_after_edit(ship, reg, changes.get("validated"))
        reviewlog.record(action, [shipment_id], ", ".join(sorted(set(changes) - {"validated"})) or None)
    if reg.state == outbox.QUEUED:
        return ReviewResult(shipment_id, True, "Saved. It will be registered again now.", reg.state)
    if reg.state == outbox.WAITING_APPROVAL:
        return ReviewResult(shipment_id, True, "Saved. It needs review: it is registered only once approved.",
                            reg.state)
    return ReviewResult(shipment_id, True, "Saved.", reg.state)


def payload_of(shipment_id: int) -> dict | None:
    """The frozen payload of a shipment's outbox row (what the next attempt sends)."""
    reg = outbox.registration_for(shipment_id)
    return json.loads(reg.payload) if reg else None
