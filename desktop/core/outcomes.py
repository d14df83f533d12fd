"""What one registration attempt ended in: Ship24's answers sorted into kinds, with plain-language messages.

Kinds (`Outcome.kind`; None = registered):
    temporary   timeouts, resets, 5xx, 429, 409 request_conflict: try again later
    permanent   validation_error, shipping_date_outdated, ...: waits for an edit
    needs_info  a courier's required field (destination postcode/country) is missing
    quota       quota_limit_reached: pauses all registration
    auth        the API key was refused: pauses all registration
`Outcome.code` keeps Ship24's error code, so the worker can act on one (tracker_conflict is settled by
`desktop.core.conflicts`, never filed as it comes). Pure code: no I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from desktop.clients.errors import (
    ApiConnectionError,
    ApiError,
    ApiStatusError,
    ApiTimeout,
    AuthError,
    MalformedResponse,
    RateLimited,
)
from desktop.clients.ship24 import CreateResult
from desktop.core import requirements as req

TEMPORARY, PERMANENT, NEEDS_INFO, QUOTA, AUTH = "temporary", "permanent", "needs_info", "quota", "auth"

PERMANENT_CODES = {"validation_error", "tracker_conflict", "shipping_date_outdated", "tracker_not_updatable",
                   "processing_error", "parsing_error", "bulk_create_limit_exceeded"}
NEEDS_INFO_CODES = {"missing_mandatory_field", "destination_postcode_required",
                    "destination_country_required"}
NEEDS_INFO_WORDS = ("postcode", "post code", "postal", "destinationpostcode", "destinationcountrycode",
                    "destination country")
QUOTA_MESSAGE = ("Ship24 quota used up: the Ship24 plan has no shipments left this billing period. "
                 "Registration is paused and nothing is lost. Upgrade the Ship24 plan or wait for the next "
                 "period, then press Resume (or run `shipscan retry --all`).")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt ended in; `kind` is None for success."""

    kind: str | None
    message: str
    http_status: int | None = None
    tracker_id: str | None = None
    retry_after: float | None = None
    existing: bool = False
    #: Ship24's error code ("tracker_conflict", ...), None for a success or a transport failure.
    code: str | None = None
    #: Added to the success message (e.g. how a conflict was settled).
    note: str = ""


def classify_error(exc: ApiError) -> Outcome:
    """Sort a raised client error into a kind with a plain-language message."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None) or ""
    detail = getattr(exc, "detail", None) or exc.message
    if isinstance(exc, RateLimited):
        return Outcome(TEMPORARY, "Ship24 asked us to slow down (too many requests).", 429,
                       retry_after=exc.retry_after)
    if isinstance(exc, AuthError):
        return Outcome(AUTH, f"Ship24 refused the API key ({detail}). Check the Ship24 key in Settings; "
                             "registration is paused until then.", status)
    if isinstance(exc, ApiStatusError):
        return dataclasses.replace(_classify_code(code, detail, status, exc.temporary), code=code or None)
    if isinstance(exc, ApiTimeout):
        return Outcome(TEMPORARY, "Ship24 did not answer in time.")
    if isinstance(exc, ApiConnectionError):
        return Outcome(TEMPORARY, "Could not reach Ship24 (the connection failed).")
    if isinstance(exc, MalformedResponse):
        return Outcome(TEMPORARY, "Ship24 sent an answer we could not read.")
    return Outcome(TEMPORARY if exc.temporary else PERMANENT, f"Ship24 error: {exc.message}")


def _classify_code(code: str, detail: str, status: int | None, temporary: bool) -> Outcome:
    if code == "quota_limit_reached":
        return Outcome(QUOTA, QUOTA_MESSAGE, status)
    if code in NEEDS_INFO_CODES or (code in ("validation_error", "") and _asks_for_destination(detail)):
        return Outcome(NEEDS_INFO, f"{req.NEEDS_INFO_PREFIX}: {detail}. "
                                   "Add the destination postcode/country to the shipment.", status)
    if code == "validation_error":
        what = "carrier" if "courier" in detail.lower() and "trackingnumber" not in detail.lower() else "number"
        return Outcome(PERMANENT, f"Ship24 rejected the {what}: {detail}. Check the tracking number and "
                                  "carrier, correct the shipment, then retry.", status)
    if code == "tracker_conflict":
        return Outcome(PERMANENT, f"Ship24 already tracks this shipment with different details: {detail}. "
                                  "Correct the shipment or dismiss it.", status)
    if code == "shipping_date_outdated":
        return Outcome(PERMANENT, "Ship24 refused it: the shipping date is more than 180 days old.", status)
    if code == "request_conflict" or status == 409:
        return Outcome(TEMPORARY, "Ship24 was still handling the same request (conflict 409).", status)
    if status is not None and status >= 500:
        return Outcome(TEMPORARY, f"Ship24 had a server problem (HTTP {status}).", status)
    if code in PERMANENT_CODES or not temporary:
        return Outcome(PERMANENT, f"Ship24 refused the registration: {detail}", status)
    return Outcome(TEMPORARY, f"Ship24 could not register it now: {detail}", status)


def _asks_for_destination(detail: str) -> bool:
    """True when every reason given is a missing destination postcode/country (a courier's required
    field); a message that also objects to something else is a plain validation error."""
    parts = [p.lower().replace("_", "") for p in detail.split("; ") if p.strip()]
    return bool(parts) and all(any(w in p for w in NEEDS_INFO_WORDS)
                               and any(w in p for w in ("requir", "missing", "need")) for p in parts)


def classify_item(item: CreateResult, http_status: int) -> Outcome:
    """Outcome of one bulk item."""
    if item.ok and item.tracker is not None:
        return Outcome(None, "", http_status, item.tracker.tracker_id, existing=item.status == "existing")
    code = item.code or ""
    detail = item.message or "no reason given"
    status = 409 if code == "request_conflict" else (403 if code == "quota_limit_reached" else 400)
    outcome = _classify_code(code, detail, status, temporary=code == "request_conflict")
    return dataclasses.replace(outcome, code=code or None)
