"""Ship24 answers as dataclasses, and the parsing of both body shapes (normal and bulk envelope).

Parsing is strict about what we rely on (a tracker needs `trackerId`; results need `data.trackings`) and
lenient about the rest (`courierCode` as a string or a list, missing optional fields), raising
`MalformedResponse` when an answer cannot be used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from desktop.clients.errors import MalformedResponse

SERVICE = "ship24"


@dataclass(frozen=True, slots=True)
class Tracker:
    """A Ship24 tracker (what a create returns)."""

    tracker_id: str
    tracking_number: str
    client_tracker_id: str | None = None
    courier_codes: tuple[str, ...] = ()
    is_subscribed: bool = True
    is_tracked: bool = True
    created_at: str | None = None


@dataclass(frozen=True, slots=True)
class ItemError:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class CreateResult:
    """One item of a bulk creation: `status` is "created", "existing" or "error"."""

    index: int
    status: str
    input: dict
    tracker: Tracker | None
    errors: tuple[ItemError, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status in ("created", "existing") and self.tracker is not None

    @property
    def code(self) -> str | None:
        return self.errors[0].code if self.errors else None

    @property
    def message(self) -> str:
        return "; ".join(e.message or e.code for e in self.errors)

    @property
    def client_tracker_id(self) -> str | None:
        return self.input.get("clientTrackerId") or (self.tracker.client_tracker_id if self.tracker else None)


@dataclass(frozen=True, slots=True)
class BulkResult:
    """A bulk creation answer: `status` "success" (201), "partial" (207) or "error" (400, all failed)."""

    http_status: int
    status: str
    items: tuple[CreateResult, ...]
    summary: dict = field(default_factory=dict)
    error: ItemError | None = None


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    event_id: str | None
    status: str
    occurred_at: str | None
    location: str | None
    milestone: str | None
    status_code: str | None
    #: Ship24's tie-break between events with the same occurrenceDatetime (lower is older); may be None.
    order: int | None = None


@dataclass(frozen=True, slots=True)
class TrackingResult:
    """Results of one tracker: the shipment's milestone, newest event and expected delivery.

    `events` are newest first, in the order Ship24 sent them (see `newest_first`)."""

    tracker: Tracker
    milestone: str | None
    status_code: str | None
    status_category: str | None
    expected_delivery: str | None
    events: tuple[TrackingEvent, ...] = ()

    @property
    def latest_event(self) -> TrackingEvent | None:
        return self.events[0] if self.events else None


# -- parsing -------------------------------------------------------------------------------------------


def error_items(body: Any) -> list[ItemError]:
    """Error items of either envelope: `errors: [...]` or the bulk `error: {...}`."""
    if not isinstance(body, dict):
        return []
    raw = body.get("errors")
    if isinstance(raw, list):
        return [ItemError(str(e.get("code") or ""), str(e.get("message") or ""))
                for e in raw if isinstance(e, dict)]
    err = body.get("error")
    if isinstance(err, dict):
        return [ItemError(str(err.get("code") or ""), str(err.get("message") or ""))]
    return []


def data_of(body: dict) -> dict:
    data = body.get("data")
    if not isinstance(data, dict):
        raise MalformedResponse(SERVICE, "answer without a `data` object")
    return data


def parse_tracker(raw: Any) -> Tracker:
    if not isinstance(raw, dict) or not raw.get("trackerId"):
        raise MalformedResponse(SERVICE, "answer without a tracker")
    codes = raw.get("courierCode") or ()
    return Tracker(tracker_id=str(raw["trackerId"]), tracking_number=str(raw.get("trackingNumber") or ""),
                   client_tracker_id=raw.get("clientTrackerId"),
                   courier_codes=(codes,) if isinstance(codes, str) else tuple(codes),
                   is_subscribed=bool(raw.get("isSubscribed", True)),
                   is_tracked=bool(raw.get("isTracked", True)), created_at=raw.get("createdAt"))


def parse_bulk(status: int, body: dict, payloads: list[dict]) -> BulkResult:
    items = []
    for index, raw in enumerate(body.get("data") or []):
        if not isinstance(raw, dict):
            raise MalformedResponse(SERVICE, "bulk item is not an object")
        input_data = raw.get("inputData") if isinstance(raw.get("inputData"), dict) else payloads[index]
        tracker = parse_tracker(raw["tracker"]) if isinstance(raw.get("tracker"), dict) else None
        errors = tuple(error_items({"errors": raw.get("errors") or []}))
        items.append(CreateResult(index, str(raw.get("itemStatus") or "error"), input_data, tracker, errors))
    err = error_items({"error": body.get("error")}) if body.get("error") else []
    return BulkResult(status, str(body.get("status")), tuple(items),
                      body.get("summary") if isinstance(body.get("summary"), dict) else {},
                      err[0] if err else None)


def first_tracking(body: dict) -> TrackingResult:
    trackings = data_of(body).get("trackings") or []
    if not trackings:
        raise MalformedResponse(SERVICE, "results without a tracking")
    return parse_tracking(trackings[0])


def _event(raw: dict) -> TrackingEvent:
    return TrackingEvent(event_id=raw.get("eventId"), status=str(raw.get("status") or ""),
                         occurred_at=raw.get("occurrenceDatetime"), location=raw.get("location"),
                         milestone=raw.get("statusMilestone"), status_code=raw.get("statusCode"),
                         order=raw.get("order") if isinstance(raw.get("order"), int) else None)


def newest_first(events: list[TrackingEvent]) -> list[TrackingEvent]:
    """Events in Ship24's own order (documented: newest first), ties settled by `order`.

    `occurrenceDatetime` is the courier's LOCAL time without an offset, so comparing it across events
    (a parcel crosses time zones) can put an older event first: only Ship24 knows the true order, and its
    array carries it. Where several consecutive events share one occurrenceDatetime, the higher `order`
    is the newer (the spec: "in case the occurrenceDatetime is the same ... lower is older").
    """
    result: list[TrackingEvent] = []
    run: list[TrackingEvent] = []
    for event in [*events, None]:
        if run and (event is None or event.occurred_at != run[0].occurred_at):
            ordered = all(e.order is not None for e in run)
            result += sorted(run, key=lambda e: e.order or 0, reverse=True) if ordered else run
            run = []
        if event is not None:
            run.append(event)
    return result


def _expected_delivery(shipment: dict) -> str | None:
    delivery = shipment.get("delivery") or {}
    if delivery.get("estimatedDeliveryDate"):
        return str(delivery["estimatedDeliveryDate"])
    courier = delivery.get("courierEstimatedDeliveryDate") or {}
    return courier.get("to") or courier.get("from") if isinstance(courier, dict) else None


def parse_tracking(raw: Any) -> TrackingResult:
    if not isinstance(raw, dict):
        raise MalformedResponse(SERVICE, "tracking is not an object")
    shipment = raw.get("shipment") or {}
    events = newest_first([_event(e) for e in raw.get("events") or [] if isinstance(e, dict)])
    return TrackingResult(tracker=parse_tracker(raw.get("tracker")), milestone=shipment.get("statusMilestone"),
                          status_code=shipment.get("statusCode"),
                          status_category=shipment.get("statusCategory"),
                          expected_delivery=_expected_delivery(shipment), events=tuple(events))
