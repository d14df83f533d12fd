"""Settling a `tracker_conflict`: a create refused because our clientTrackerId already names a tracker.

Why it happens: a shipment's clientTrackerId is derived from its number and courier
(`desktop.store.outbox.client_tracker_id`), so it survives an edit of its other details (courier code,
destination postcode or country). If an earlier attempt created the tracker without our hearing it (a lost
answer, a crash after sending, a second machine on the same Ship24 account), the edited payload no longer
matches that tracker and Ship24 answers 400 `tracker_conflict` (api-notes §2.5).

The choice: an edit UPDATES the existing tracker; it is not a new tracker identity. The tracker is the same
shipment (same number, same courier), a new identity would bill a second tracker for it and leave the first
one tracking under stale details, and the spec's `PATCH /trackers/{id}?searchBy=clientTrackerId` updates
exactly the fields our edits change (courierCode, destinationCountryCode, destinationPostCode). So:

- PATCH the tracker with the payload's updatable fields -> registered with that tracker (no new quota).
- 400 `tracker_not_updatable` (Ship24 has already found the shipment; those fields are then locked) ->
  registered with the existing tracker as it is, and the message says the edit could not reach Ship24.
  It tracks the right number already; re-creating would bill twice for the same parcel.
- Nothing to update (the edit only cleared a field): read the tracker by clientTrackerId and register it.
- The tracker vanished meanwhile (404) or Ship24 failed -> an ordinary outcome (temporary: the next attempt
  creates it or meets the conflict again; never a dead end).
- A tracker under our id with ANOTHER tracking number cannot come from us: permanent, with the reason.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from desktop.clients.errors import ApiError, ApiStatusError, NotFound
from desktop.clients.ship24 import Tracker
from desktop.core.outcomes import PERMANENT, TEMPORARY, Outcome, classify_error

log = logging.getLogger("shipscan.registration")

#: Create-payload fields that `PATCH /trackers/{id}` accepts (the spec's request body, isSubscribed aside).
UPDATABLE = ("courierCode", "originCountryCode", "destinationCountryCode", "destinationPostCode",
             "shippingDate")
NOT_APPLIED = (" Ship24 had already found the shipment, so its tracker keeps the details it was created "
               "with (courier, destination); the edit is kept here.")


class TrackerSource(Protocol):
    async def get_tracker(self, tracker_id: str, *, by_client_id: bool = False) -> Tracker: ...

    async def update_tracker(self, tracker_id: str, changes: dict[str, Any], *,
                             by_client_id: bool = False) -> Tracker: ...


def update_body(payload: dict[str, Any]) -> dict[str, Any]:
    """The PATCH body that brings the existing tracker in line with `payload` (only updatable fields)."""
    return {name: payload[name] for name in UPDATABLE if payload.get(name) not in (None, "", [])}


async def settle_conflict(ship24: TrackerSource, payload: dict[str, Any]) -> Outcome:
    """Resolve a tracker_conflict for `payload` (see the module docstring); never raises an ApiError."""
    client_id = payload.get("clientTrackerId")
    if not client_id:
        return Outcome(PERMANENT, "Ship24 already tracks this number with different details, and the "
                                  "registration has no clientTrackerId to find it by.", 400)
    body = update_body(payload)
    note = " Its details were updated to the edited shipment." if body else ""
    try:
        tracker = await _update_or_read(ship24, client_id, body)
    except _Locked as locked:
        tracker, note = locked.tracker, NOT_APPLIED
    except NotFound:
        return Outcome(TEMPORARY, "Ship24 reported a conflicting tracker that is gone now; trying again.", 404)
    except ApiError as exc:
        return classify_error(exc)
    if tracker.tracking_number and tracker.tracking_number != payload.get("trackingNumber"):
        return Outcome(PERMANENT, f"Ship24 holds this shipment's id ({client_id}) for another number "
                                  f"({tracker.tracking_number}). Dismiss the shipment or contact support.", 400)
    log.info("tracker_conflict on %s settled: tracker %s%s", client_id, tracker.tracker_id,
             " (updated)" if body and note != NOT_APPLIED else "")
    return Outcome(None, "", 200, tracker.tracker_id, existing=True, note=note)


class _Locked(Exception):
    def __init__(self, tracker: Tracker) -> None:
        super().__init__(tracker.tracker_id)
        self.tracker = tracker


async def _update_or_read(ship24: TrackerSource, client_id: str, body: dict[str, Any]) -> Tracker:
    if not body:
        return await ship24.get_tracker(client_id, by_client_id=True)
    try:
        return await ship24.update_tracker(client_id, body, by_client_id=True)
    except ApiStatusError as exc:
        if exc.code != "tracker_not_updatable":
            raise
    raise _Locked(await ship24.get_tracker(client_id, by_client_id=True))
