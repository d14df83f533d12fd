"""Ship24 double, data side: tracker records, request validation, the courier list, and result timelines.

Pure code (no HTTP); `ship24.py` serves it. Facts: api-notes §2.3-2.10.

Timelines: `SHIP24_SAMPLE_<MILESTONE>_NNN` numbers show their full scripted history at once (as Ship24's
sample numbers do). Any other number gets a deterministic script chosen from a hash of the number; its events
appear one per `step` seconds after the tracker was created, so results advance with time.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

MILESTONES = ("pending", "info_received", "in_transit", "out_for_delivery", "failed_attempt",
              "available_for_pickup", "delivered", "exception")

#: The simulator's own courier list, shaped as GET /couriers answers it (NOT derived from the app's table):
#: (courierCode, courierName, isPost, countryCode, isDeprecated); requiredFields come from the config
#: switches. Sources: us-post/USPS, fr-post/La Poste, cn-post/China Post, palletways are in Ship24's spec
#: (HIGH); ups/UPS, fedex/FedEx, dhl/DHL (the name is plain "DHL"), ca-post/Canada Post (not "canada-post")
#: and 4px/4PX come from a third-party copy of the live endpoint's answer (MED). The rest are plausible
#: assumptions, written as Ship24 tends to: lower-case dashed codes, the courier's marketed name (so
#: "Canpar Express", not the app's "Canpar"), several DHL entities, and LaserShip deprecated (it became
#: OnTrac in 2024) -- so an app that guesses codes or names is caught here, not on a real account.
COURIERS: tuple[tuple[str, str, bool, str | None, bool], ...] = (
    ("us-post", "USPS", True, "US", False), ("fr-post", "La Poste", True, "FR", False),
    ("cn-post", "China Post", True, "CN", False), ("palletways", "Palletways", False, None, False),
    ("ups", "UPS", False, None, False), ("fedex", "FedEx", False, None, False), ("dhl", "DHL", False, None, False),
    ("ca-post", "Canada Post", True, "CA", False), ("4px", "4PX", False, "CN", False),
    ("dhl-ecommerce-us", "DHL eCommerce US", False, "US", False),
    ("dhl-parcel-uk", "DHL Parcel UK", False, "GB", False), ("dhl-de", "DHL Paket", False, "DE", False),
    ("amazon-shipping", "Amazon Shipping", False, None, False), ("ontrac", "OnTrac", False, "US", False),
    ("lasership", "LaserShip", False, "US", True), ("purolator", "Purolator", False, "CA", False),
    ("canpar", "Canpar Express", False, "CA", False), ("dpd", "DPD", False, None, False),
    ("dpd-uk", "DPD UK", False, "GB", False), ("yodel", "Yodel", False, "GB", False),
    ("royal-mail", "Royal Mail", True, "GB", False), ("yunexpress", "YunExpress", False, "CN", False),
    ("landmark-global", "Landmark Global", False, None, False),
    ("speedee", "Spee-Dee Delivery", False, "US", False), ("gofo-express", "GOFO Express", False, "US", False),
    ("old-dominion", "Old Dominion Freight Line", False, "US", False),
)
COURIER_CODES = frozenset(c[0] for c in COURIERS)

_NUMBER_RE = re.compile(r"^[A-Za-z0-9\-_/.]{5,50}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2,3}$")
_SAMPLE_RE = re.compile(r"^SHIP24_SAMPLE_([A-Z_]+)_(\d{3})$")
#: What PATCH /trackers/{id} accepts (the spec's request body).
PATCHABLE = frozenset(("isSubscribed", "courierCode", "originCountryCode", "destinationCountryCode",
                       "destinationPostCode", "shippingDate"))
_MATCH_FIELDS = ("originCountryCode", "destinationCountryCode", "destinationPostCode", "shipmentReference",
                 "courierName", "trackingUrl")


def iso_ms(ts: float) -> str:
    """ISO-8601 UTC with milliseconds, like Ship24's createdAt."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def local_time(ts: float) -> str:
    """An event's occurrenceDatetime: local time without an offset."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class Tracker:
    tracker_id: str
    tracking_number: str
    payload: dict[str, Any]
    created_at: float
    seq: int
    is_subscribed: bool = True
    resent: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def client_tracker_id(self) -> str | None:
        return self.payload.get("clientTrackerId")

    @property
    def courier_codes(self) -> list[str]:
        return courier_list(self.payload.get("courierCode"))

    def to_json(self, now: float, step: float) -> dict[str, Any]:
        delivered = milestone_now(self, now, step) == "delivered"
        return {"trackerId": self.tracker_id, "trackingNumber": self.tracking_number,
                "shipmentReference": self.payload.get("shipmentReference"),
                "clientTrackerId": self.client_tracker_id, "courierCode": self.courier_codes,
                "isSubscribed": self.is_subscribed, "isTracked": self.is_subscribed and not delivered,
                "createdAt": iso_ms(self.created_at)}


def courier_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def shipping_day(value: Any) -> str | None:
    """The day (YYYY-MM-DD) of a shippingDate in any accepted ISO form; raises ValueError if unparsable."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not a string")
    parsed = datetime.fromisoformat(value.strip())
    return parsed.date().isoformat()


def match_key(payload: dict[str, Any]) -> tuple[Any, ...]:
    """What must be equal for a re-create to reuse a tracker (api-notes §2.5)."""
    settings = payload.get("settings") or {}
    return (payload.get("clientTrackerId"), payload.get("trackingNumber"),
            shipping_day(payload.get("shippingDate")),
            *(payload.get(name) for name in _MATCH_FIELDS),
            settings.get("restrictTrackingToCourierCode"), tuple(sorted(courier_list(payload.get("courierCode")))))


def is_dummy(number: str) -> bool:
    """Ship24 rejects "dummy patterns and consecutive numbers": one repeated character, a number made only
    of consecutive digits (123456789, 98765), or TEST/TEST123. Real numbers with a run inside pass."""
    plain = number.upper()
    if len(set(plain)) == 1 or re.fullmatch(r"TEST\d*", plain):
        return True
    if plain.isdigit():
        steps = {(int(b) - int(a)) % 10 for a, b in zip(plain, plain[1:], strict=False)}
        return steps in ({1}, {9})
    return False


def _err(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def validate(payload: Any, now: float, cfg: Any) -> list[dict[str, str]]:
    """All problems with a create payload (empty list = valid). `cfg` is the Ship24SimConfig."""
    if not isinstance(payload, dict):
        return [_err("validation_error", "Request body must be a JSON object")]
    errors: list[dict[str, str]] = []
    number = payload.get("trackingNumber")
    if not isinstance(number, str) or not number:
        errors.append(_err("validation_error", '"trackingNumber" is required'))
    elif not _NUMBER_RE.match(number):
        errors.append(_err("validation_error", '"trackingNumber" must be 5-50 characters of [A-Za-z0-9-_/.]'))
    elif is_dummy(number):
        errors.append(_err("validation_error", '"trackingNumber" looks like a dummy or consecutive number'))
    for name in ("originCountryCode", "destinationCountryCode"):
        value = payload.get(name)
        if value is not None and (not isinstance(value, str) or not _COUNTRY_RE.match(value)):
            errors.append(_err("validation_error", f'"{name}" must be an ISO 3166-1 alpha-2 or alpha-3 code'))
    postcode = payload.get("destinationPostCode")
    if postcode is not None and (not isinstance(postcode, str) or not 1 <= len(postcode) <= 32):
        errors.append(_err("validation_error", '"destinationPostCode" must be 1-32 characters'))
    errors += _validate_couriers(payload, cfg)
    errors += _validate_date(payload.get("shippingDate"), now, cfg.max_shipping_age_days)
    for name in ("shipmentReference", "clientTrackerId", "courierName", "trackingUrl", "orderNumber", "title"):
        if payload.get(name) is not None and not isinstance(payload.get(name), str):
            errors.append(_err("validation_error", f'"{name}" must be a string'))
    return errors


def _validate_couriers(payload: dict[str, Any], cfg: Any) -> list[dict[str, str]]:
    value = payload.get("courierCode")
    if value is None:
        return []
    if not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
        return [_err("validation_error", '"courierCode" must be a string or an array of strings')]
    codes = courier_list(value)
    if len(codes) > 3:
        return [_err("validation_error", '"courierCode" accepts at most 3 couriers per request')]
    errors = [_err("validation_error", f'"courierCode" {c!r} is not a known courier code (see GET /couriers)')
              for c in codes if c not in COURIER_CODES]
    if cfg.required_fields_mode == "reject":
        errors += [_err("validation_error", f'"{name}" is required for courier {code} (requiredFields)')
                   for name, code in missing_required(payload, cfg)]
    return errors


def missing_required(payload: dict[str, Any], cfg: Any) -> list[tuple[str, str]]:
    """(field, courierCode) for each requiredFields entry of a named courier that the payload lacks.

    In "accept" mode such a tracker is created but never finds results (docs.ship24.com/couriers)."""
    missing = []
    for code in courier_list(payload.get("courierCode")):
        for name, codes in (("destinationPostCode", cfg.postcode_required_couriers),
                            ("destinationCountryCode", cfg.country_required_couriers)):
            if code in codes and not payload.get(name):
                missing.append((name, code))
    return missing


def _validate_date(value: Any, now: float, max_age_days: int) -> list[dict[str, str]]:
    try:
        day = shipping_day(value)
    except ValueError:
        return [_err("validation_error", '"shippingDate" must be an ISO-8601 date or date-time')]
    if day is None:
        return []
    oldest = (datetime.fromtimestamp(now, UTC) - timedelta(days=max_age_days)).date().isoformat()
    if day < oldest:
        return [_err("shipping_date_outdated", f"shippingDate {day} is more than {max_age_days} days old")]
    return []


def couriers_json(cfg: Any) -> list[dict[str, Any]]:
    out = []
    for code, name, is_post, country, deprecated in COURIERS:
        required = [f for f, codes in (("destinationPostCode", cfg.postcode_required_couriers),
                                       ("destinationCountryCode", cfg.country_required_couriers)) if code in codes]
        out.append({"courierCode": code, "courierName": name, "website": f"https://www.{code}.example",
                    "isPost": is_post, "countryCode": country, "requiredFields": required or None,
                    "isDeprecated": deprecated})
    return out


# Timelines -------------------------------------------------------------------------------------------
_STEPS: dict[str, tuple[str, str, str]] = {  # key -> (statusMilestone, statusCode, status text)
    "info": ("info_received", "data_order_created", "Shipment information received"),
    "pickup": ("in_transit", "transit_pickup", "Picked up by the courier"),
    "arrival": ("in_transit", "transit_arrival", "Arrived at the sort facility"),
    "ofd": ("out_for_delivery", "delivery_out_for_delivery", "Out for delivery"),
    "failed": ("failed_attempt", "failed_attempt_no_one_home", "Delivery attempted: no one at home"),
    "pickup_point": ("available_for_pickup", "delivery_ready_for_pickup", "Available for pickup"),
    "delivered": ("delivered", "delivery_delivered", "Delivered"),
    "exception": ("exception", "exception_lost", "Shipment exception: parcel delayed"),
}
_SCRIPTS: dict[str, tuple[str, ...]] = {
    "pending": (), "info_received": ("info",), "in_transit": ("info", "pickup", "arrival"),
    "out_for_delivery": ("info", "pickup", "arrival", "ofd"),
    "failed_attempt": ("info", "pickup", "arrival", "ofd", "failed"),
    "available_for_pickup": ("info", "pickup", "arrival", "pickup_point"),
    "delivered": ("info", "pickup", "arrival", "ofd", "delivered"),
    "exception": ("info", "pickup", "exception"),
}


def is_sample(number: str) -> bool:
    """A SHIP24_SAMPLE_<MILESTONE>_NNN number: its full scripted history shows at once."""
    return _script(number)[1]


def _script(number: str) -> tuple[str, bool]:
    """(final milestone, is a sample number whose history shows at once)."""
    sample = _SAMPLE_RE.match(number.upper())
    if sample and sample.group(1).lower() in _SCRIPTS:
        return sample.group(1).lower(), True
    roll = int(hashlib.sha256(number.upper().encode()).hexdigest()[:8], 16) % 100
    for bound, milestone in ((70, "delivered"), (80, "in_transit"), (88, "exception"), (94, "failed_attempt")):
        if roll < bound:
            return milestone, False
    return "available_for_pickup", False


def events_now(tracker: Tracker, now: float, step: float) -> list[tuple[float, str]]:
    """(time, step key) of the events visible at `now`, oldest first; none at all for a tracker created
    without a courier's required field (`extra["missing_required"]`): Ship24 cannot fetch its results."""
    if tracker.extra.get("missing_required"):
        return []
    final, sample = _script(tracker.tracking_number)
    planned = tracker.extra.get("steps")  # a journey drawn by ship24_progress (movement on)
    keys = tuple(k for k in planned if k in _STEPS) if isinstance(planned, list) and not sample else _SCRIPTS[final]
    if sample:
        return [(tracker.created_at - (len(keys) - i) * 3600.0, k) for i, k in enumerate(keys)]
    timed = [(tracker.created_at + (i + 0.25) * step, k) for i, k in enumerate(keys)]
    return [(t, k) for t, k in timed if t <= now]


def milestone_now(tracker: Tracker, now: float, step: float) -> str:
    events = events_now(tracker, now, step)
    return _STEPS[events[-1][1]][0] if events else "pending"


#: Steps scanned at the origin (their local time is the origin's); later ones are at the destination.
_ORIGIN_STEPS = frozenset(("info", "pickup"))


def tracking_json(tracker: Tracker, now: float, step: float,
                  zones: tuple[float, float] = (0.0, 0.0)) -> dict[str, Any]:
    """One item of `data.trackings`: {tracker, shipment, events (newest first), statistics}.

    Each occurrenceDatetime is the LOCAL time where the event happened, without an offset (as Ship24
    sends it): `zones` = (origin, destination) UTC offsets in hours. So, across zones, a newer event can
    carry an earlier-looking time; the array's order (and `order`, 1 = oldest) is the truth."""
    visible = events_now(tracker, now, step)
    payload = tracker.payload
    courier = (tracker.courier_codes or ["ups"])[0]
    events = []
    for order, (at, key) in enumerate(visible):
        milestone, code, text = _STEPS[key]
        events.append({
            "eventId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tracker.tracker_id}/{order}")),
            "trackingNumber": tracker.tracking_number, "eventTrackingNumber": tracker.tracking_number,
            "status": text, "occurrenceDatetime": local_time(at + 3600.0 * zones[key not in _ORIGIN_STEPS]),
            "order": order + 1, "location": None,
            "sourceCode": f"{courier}-tracking", "courierCode": courier, "statusCode": code,
            "statusCategory": code.split("_")[0], "statusMilestone": milestone})
    last = events[-1] if events else None
    stamps = {f"{_camel(m)}Datetime": None for m in MILESTONES if m != "pending"}
    for event in events:
        stamps[f"{_camel(event['statusMilestone'])}Datetime"] = event["occurrenceDatetime"]
    shipment = {
        "shipmentId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"shipment/{tracker.tracker_id}")),
        "statusCode": last["statusCode"] if last else None,
        "statusCategory": last["statusCategory"] if last else None,
        "statusMilestone": last["statusMilestone"] if last else "pending",
        "originCountryCode": payload.get("originCountryCode"),
        "destinationCountryCode": payload.get("destinationCountryCode"),
        "delivery": {"estimatedDeliveryDate": None, "courierEstimatedDeliveryDate": {"from": None, "to": None},
                     "service": None, "signedBy": None},
        "trackingNumbers": [{"tn": tracker.tracking_number}],
        "recipient": {"name": None, "address": None, "postCode": payload.get("destinationPostCode"),
                      "city": None, "subdivision": None}}
    return {"tracker": tracker.to_json(now, step), "shipment": shipment, "events": events[::-1],
            "statistics": {"timestamps": stamps}}


def _camel(milestone: str) -> str:
    head, *rest = milestone.split("_")
    return head + "".join(part.title() for part in rest)
