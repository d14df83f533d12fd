"""The registration policy: which shipments register on their own and which wait for a person."""

from __future__ import annotations

from typing import Literal

from desktop.domain import ExtractedShipment

ReviewState = Literal["auto", "pending"]


def review_state(shipment: ExtractedShipment, approve_all_by_hand: bool) -> ReviewState:
    """"auto" when the engine validated the number on its own, knows the courier and raised no flag
    (and the user did not ask to approve everything by hand); otherwise "pending" (a person decides).

    Registering a wrong number costs a Ship24 tracker from the quota, so anything doubtful waits.
    """
    if approve_all_by_hand:
        return "pending"
    if shipment.validated and shipment.courier and not shipment.flags:
        return "auto"
    return "pending"
