"""Tracking status of registered shipments, refreshed from Ship24's results endpoint.

Contracts:
- `StatusRefresher.refresh(ids=None)` reads `GET /trackers/{id}/results` for registered shipments (not yet
  delivered, unless `include_final`), paced by the client's results limiter (10/s), and stores on each
  ShipmentRow: milestone, status text, latest event and its time, expected delivery
  (`desktop.store.outbox.save_status`). A failure for one tracker is counted and reported; the others go on.
- Except a refused key (`ApiError.permanent`): the refresh stops at the first one and raises
  `ServiceRefused` ("Ship24 refused the key (HTTP 401): ..."). The first request goes alone, so a wrong
  key costs one request, not one per tracker.
- `run(stop, interval_seconds)` is the schedule the app runs while it is open.
- Emits `StatusRefreshed(checked, changed)` after each refresh.
- The store is read and written on the store thread (`desktop.core.storecalls`): the window never waits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from desktop.clients.errors import ApiError, NotFound, ServiceRefused
from desktop.clients.ship24 import Ship24Client, TrackingResult
from desktop.core.events import ErrorReported, Sink, StatusRefreshed, null_sink
from desktop.core.storecalls import store_call
from desktop.errors import ExpectedError
from desktop.store import outbox

log = logging.getLogger("shipscan.ship24")

MILESTONE_TEXT = {
    "pending": "Waiting for the carrier's first scan",
    "info_received": "Label created, carrier informed",
    "in_transit": "In transit",
    "out_for_delivery": "Out for delivery",
    "failed_attempt": "Delivery attempt failed",
    "available_for_pickup": "Ready for pickup",
    "delivered": "Delivered",
    "exception": "Problem with the delivery",
}


@dataclass
class RefreshSummary:
    checked: int = 0
    changed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def status_fields(result: TrackingResult) -> dict[str, str | None]:
    """The ShipmentRow status columns for one tracking result."""
    milestone = result.milestone or "pending"
    event = result.latest_event
    latest = None
    if event is not None:
        latest = f"{event.status} ({event.location})" if event.location else event.status
    return {"milestone": milestone, "status_text": MILESTONE_TEXT.get(milestone, milestone.replace("_", " ")),
            "latest_event": latest, "latest_event_at": event.occurred_at if event else None,
            "expected_delivery": result.expected_delivery}


class StatusRefresher:
    """Refreshes tracking status through `ship24` at most `concurrency` requests at a time."""

    def __init__(self, ship24: Ship24Client, sink: Sink = null_sink, *,
                 clock: Callable[[], float] = time.time, concurrency: int = 4) -> None:
        self.ship24 = ship24
        self.sink = sink
        self.clock = clock
        self._semaphore = asyncio.Semaphore(max(1, concurrency))

    async def refresh(self, shipment_ids: list[int] | None = None, *,
                      include_final: bool = False) -> RefreshSummary:
        """Refresh the given registered shipments (None = all not yet delivered).

        Raises ServiceRefused at the first refused key (what was stored before it stays stored)."""
        targets = await store_call(outbox.registered_for_status, shipment_ids, include_final=include_final)
        summary = RefreshSummary()
        if targets:   # the first alone: it tells whether the key works before the others ask
            await self._one(*targets[0], summary)
            await _all_or_none(self._one(sid, tracker_id, summary) for sid, tracker_id in targets[1:])
        self.sink(StatusRefreshed(summary.checked, summary.changed))
        if summary.failed:
            self.sink(ErrorReported("status", f"Could not refresh {summary.failed} tracking statuses: "
                                              f"{summary.errors[0]}"))
        return summary

    async def run(self, stop: asyncio.Event, interval_seconds: float) -> None:
        """Refresh every `interval_seconds` until `stop` is set (interval <= 0: never)."""
        if interval_seconds <= 0:
            return
        while not stop.is_set():
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except ExpectedError as exc:    # a refused key, a full disk: said once per round, no traceback
                self.sink(ErrorReported("status", f"Tracking status refresh failed: {exc}"))
            except Exception as exc:  # keep the schedule alive; the next round may work
                log.exception("status refresh failed")
                self.sink(ErrorReported("status", f"Tracking status refresh failed: {exc}"))
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
            except TimeoutError:
                pass

    async def _one(self, shipment_id: int, tracker_id: str, summary: RefreshSummary) -> None:
        async with self._semaphore:
            try:
                result = await self._fetch(tracker_id)
            except NotFound:
                summary.failed += 1
                summary.errors.append(f"Ship24 has no tracker {tracker_id} (shipment {shipment_id}).")
                return
            except ApiError as exc:
                if exc.permanent:
                    raise ServiceRefused(exc) from exc
                summary.failed += 1
                summary.errors.append(f"shipment {shipment_id}: {exc.message}")
                return
        summary.checked += 1
        if await store_call(outbox.save_status, shipment_id, checked_at=self.clock(), **status_fields(result)):
            summary.changed += 1

    async def _fetch(self, tracker_id: str) -> TrackingResult:
        """One read; after a 429 the client's limiter has paused, so a second try goes after the wait."""
        try:
            return await self.ship24.tracker_results(tracker_id)
        except ApiError as exc:
            if not exc.temporary:
                raise
            return await self.ship24.tracker_results(tracker_id)


async def _all_or_none(coroutines: Any) -> None:
    """Run `coroutines` concurrently; the first exception cancels the others (awaited) and is raised."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
