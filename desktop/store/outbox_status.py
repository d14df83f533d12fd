"""Tracking status of registered shipments: which trackers to refresh, and storing what Ship24 says.

Contract: written by `desktop.core.status`, read by `shipscan status` and the GUI. Only shipments whose
outbox row is `registered` (with a tracker id) take part; a shipment at a final milestone is left out of
refreshes unless asked. `desktop.store.outbox` re-exports every public name here.
"""

from __future__ import annotations

from desktop.store import changes
from desktop.store.outbox_states import REGISTERED
from desktop.store.tables import RegistrationRow, ShipmentRow, database

#: Milestones after which a tracker's status no longer changes.
FINAL_MILESTONES = ("delivered",)
STATUS_FIELDS = ("milestone", "status_text", "latest_event", "latest_event_at", "expected_delivery")


def registered_for_status(shipment_ids: list[int] | None = None, *, include_final: bool = False,
                          checked_before: float | None = None) -> list[tuple[int, str]]:
    """(shipment id, tracker id) of registered shipments whose status should be refreshed: those asked for
    by id, else every one not rejected (a registered shipment someone rejected is hidden from the tables,
    and reading its status would only spend Ship24's request budget on a parcel nobody follows)."""
    query = (RegistrationRow.select(ShipmentRow.id, RegistrationRow.tracker_id).join(ShipmentRow)
             .where((RegistrationRow.state == REGISTERED) & RegistrationRow.tracker_id.is_null(False)))
    if shipment_ids is not None:
        query = query.where(ShipmentRow.id.in_(list(shipment_ids)))
    else:
        query = query.where(ShipmentRow.review_state != "rejected")
    if not include_final:
        query = query.where(ShipmentRow.milestone.is_null() | ShipmentRow.milestone.not_in(FINAL_MILESTONES))
    if checked_before is not None:
        query = query.where(ShipmentRow.status_checked_at.is_null()
                            | (ShipmentRow.status_checked_at < checked_before))
    return list(query.order_by(ShipmentRow.id).tuples())


def save_status(shipment_id: int, *, checked_at: float, **status: str | None) -> bool:
    """Store a tracker's status on its shipment; returns True when any status field changed."""
    unknown = set(status) - set(STATUS_FIELDS)
    if unknown:
        raise ValueError(f"unknown status fields {sorted(unknown)}")
    with database.atomic("IMMEDIATE"):
        row = ShipmentRow.get_by_id(shipment_id)
        changed = any(getattr(row, name) != value for name, value in status.items())
        (ShipmentRow.update(status_checked_at=checked_at, **status)
         .where(ShipmentRow.id == shipment_id).execute())
        if changed:
            changes.bump()  # the tables show the status (issue 16)
    return changed


def status_rows(shipment_ids: list[int] | None = None) -> list[dict]:
    """Registered shipments with their stored tracking status (for `shipscan status` and the GUI)."""
    query = (ShipmentRow.select(ShipmentRow.id, ShipmentRow.tracking_number, ShipmentRow.carrier,
                                RegistrationRow.tracker_id, ShipmentRow.milestone, ShipmentRow.status_text,
                                ShipmentRow.latest_event, ShipmentRow.latest_event_at,
                                ShipmentRow.expected_delivery, ShipmentRow.status_checked_at)
             .join(RegistrationRow).where(RegistrationRow.state == REGISTERED))
    if shipment_ids:
        query = query.where(ShipmentRow.id.in_(list(shipment_ids)))
    names = ("shipment_id", "tracking_number", "carrier", "tracker_id", "milestone", "status_text",
             "latest_event", "latest_event_at", "expected_delivery", "checked_at")
    return [dict(zip(names, row, strict=True)) for row in query.order_by(ShipmentRow.id).tuples()]
