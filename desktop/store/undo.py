"""Undo of the last reject or dismiss: snapshots of review/registration state, and their restoration.

Contract:
- `snapshot(ids)` records, for each existing shipment, its review state and its outbox row's state, kind,
  backoff and attempt count. Take one before an action and one after it.
- `restore(before, after)` puts each shipment back as `before` says, in one transaction per shipment, only
  when it is still exactly as `after` says: a shipment that changed since (approved, edited, registered by an
  attempt that was in flight) is left alone, and its result says so.
- It never un-registers: a registration that is registered stays registered (its tracker was billed); only
  the shipment's review state is restored then. Nothing is ever set to "registered" by a restore.
- Like `store.review`, it returns one `ReviewResult` per shipment and never raises for one it cannot restore;
  a restore is logged as "undo" by the acting person and bumps the change counter (`store.reviewlog`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from desktop.store import outbox, reviewlog
from desktop.store.review import ReviewResult
from desktop.store.tables import RegistrationRow, ShipmentRow, database, utcnow

CHANGED_SINCE = "Changed since: left as it is now."


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What an undo restores (and checks) for one shipment."""

    shipment_id: int
    review_state: str
    state: str
    kind: str | None
    next_attempt_at: float | None
    attempts: int

    def same_as(self, ship: ShipmentRow, reg: RegistrationRow) -> bool:
        return (ship.review_state, reg.state, reg.kind) == (self.review_state, self.state, self.kind)


def snapshot(shipment_ids: Iterable[int]) -> list[Snapshot]:
    """The current review/registration state of these shipments (unknown ids are skipped)."""
    ids = list(shipment_ids)
    rows = (RegistrationRow.select(RegistrationRow.shipment, ShipmentRow.review_state, RegistrationRow.state,
                                   RegistrationRow.kind, RegistrationRow.next_attempt_at, RegistrationRow.attempts)
            .join(ShipmentRow).where(RegistrationRow.shipment.in_(ids)).tuples())
    found = {row[0]: Snapshot(*row) for row in rows}
    return [found[sid] for sid in ids if sid in found]


def restore(before: Sequence[Snapshot], after: Sequence[Snapshot]) -> list[ReviewResult]:
    """Put back `before` for each shipment still as `after` left it (see the module's contract)."""
    expected = {snap.shipment_id: snap for snap in after}
    return [_restore_one(snap, expected.get(snap.shipment_id)) for snap in before]


def _restore_one(before: Snapshot, after: Snapshot | None) -> ReviewResult:
    sid = before.shipment_id
    with database.atomic("IMMEDIATE"):
        ship = ShipmentRow.get_or_none(ShipmentRow.id == sid)
        reg = outbox.registration_for(sid) if ship else None
        if ship is None or reg is None:
            return ReviewResult(sid, False, f"No shipment {sid}.")
        if after is None or not after.same_as(ship, reg):
            return ReviewResult(sid, False, CHANGED_SINCE, reg.state)
        if before.same_as(ship, reg):
            return ReviewResult(sid, True, "Nothing to undo.", reg.state, changed=False)
        ship.review_state = before.review_state
        ship.save()
        # Why: a registered tracker was paid for; undo never pretends it is not registered.
        if reg.state != outbox.REGISTERED and before.state != outbox.REGISTERED:
            reg.state, reg.kind, reg.next_attempt_at, reg.attempts, reg.updated_at = (
                before.state, before.kind, before.next_attempt_at, before.attempts, utcnow())
            reg.save()
        reviewlog.record("undo", [sid])
        return ReviewResult(sid, True, "Restored.", reg.state)
