"""Async client of the Ship24 Tracking API (`/public/v1`): tracker creation, results, couriers.

Contracts:
- Every request is paced BEFORE it is sent by a per-endpoint `desktop.clients.budget.Budget` (Ship24 counts
  per endpoint in 1-second windows: create 10/s, bulk 3/s, results 10/s, couriers 1/s). What a window
  allows goes at once; every answer's `RateLimit-*`/`X-RateLimit-*` headers correct the count (a custom
  limit, other clients of the key) and name the window (`X-RateLimit-Reset`, on Ship24's clock, read
  through the `Date` header), so the client keeps under the limit instead of discovering it by a 429.
  A 429 that still happens pauses the endpoint for `Retry-After` and raises `RateLimited`.
- `update_tracker` (PATCH) is how an edited shipment reaches a tracker Ship24 already holds
  (`desktop.core.conflicts`).
- Nothing is retried here: the registration worker decides (it owns backoff and the outbox). Creation is
  idempotent on Ship24's side, so re-sending the same payload after a timeout never bills twice.
- Both body shapes are parsed: the normal `{"errors": [...], "data": ...}` and the bulk envelope
  `{"status", "summary", "data", "error"}` (201 success, 207 partial, 400 all failed -> returned as a result;
  403 quota / limit exceeded -> raised). The plain-text 429 body is handled.
- Errors are `desktop.clients.errors` types; `.code` keeps Ship24's error code (e.g. `validation_error`).
  Timeouts: 10 s, 60 s for `/trackers/track` (the synchronous courier fetch).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from desktop.clients.budget import Budget, Ticket, WaitCallback
from desktop.clients.errors import (
    ApiConnectionError,
    ApiStatusError,
    ApiTimeout,
    AuthError,
    MalformedResponse,
    NotFound,
    RateLimited,
    ServerError,
)
from desktop.clients.headers import ServerClock, number, retry_after, ship24_budget
from desktop.clients.ship24_models import (
    BulkResult,
    CreateResult,
    ItemError,
    Tracker,
    TrackingEvent,
    TrackingResult,
    data_of,
    error_items,
    first_tracking,
    parse_bulk,
    parse_tracker,
    parse_tracking,
)

log = logging.getLogger("shipscan.ship24")

__all__ = ["BULK_MAX", "BulkResult", "CreateResult", "ItemError", "Ship24Client", "Ship24Stats", "Tracker",
           "TrackingEvent", "TrackingResult"]

SERVICE = "ship24"
PREFIX = "/public/v1"
BULK_MAX = 100
#: Requests per second per endpoint (docs.ship24.com/rate-limiter).
LIMITS = {"create": 10, "bulk": 3, "track": 10, "list": 10, "tracker": 10, "update": 10, "results": 10,
          "couriers": 1, "resend": 1}
MIN_RETRY_AFTER = 0.5


@dataclass
class Ship24Stats:
    requests: int = 0
    rate_limited: int = 0
    created: int = 0
    existing: int = 0
    errors: int = 0


class Ship24Client:
    """One API key against `base_url` (e.g. "https://api.ship24.com" or a simulator's URL)."""

    def __init__(self, base_url: str, api_key: str, *, http: httpx.AsyncClient | None = None,
                 on_wait: WaitCallback | None = None, timeout: float = 10.0, track_timeout: float = 60.0,
                 limits: dict[str, float] | None = None) -> None:
        self._base = base_url.rstrip("/") + PREFIX
        self._headers = {"Authorization": f"Bearer {api_key}",
                         "Content-Type": "application/json; charset=utf-8"}
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._timeout = timeout
        self._track_timeout = track_timeout
        rates = {**LIMITS, **(limits or {})}
        self.server_clock = ServerClock()
        # Until an endpoint's first answer states its limit, one request goes alone (a key may have a
        # custom limit); an answer without the headers falls back to the documented rate.
        self._documented = rates
        self.limiters = {name: Budget(f"Ship24 {name} budget", model="window", window=1.0, blind=0.5,
                                      on_wait=on_wait)
                         for name in rates}
        self.stats = Ship24Stats()

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> Ship24Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- creation --------------------------------------------------------------------------------------

    async def create_tracker(self, payload: dict) -> Tracker:
        """POST /trackers (idempotent: the same payload returns the same tracker without using quota)."""
        body = await self._request("create", "POST", "/trackers", json_body=payload)
        return parse_tracker(data_of(body).get("tracker"))

    async def create_trackers_bulk(self, payloads: list[dict]) -> BulkResult:
        """POST /trackers/bulk with up to 100 payloads; per-item results in input order.

        Raises ApiStatusError (code "quota_limit_reached" or "bulk_create_limit_exceeded") on 403/405,
        RateLimited on 429, ServerError on 5xx, and the transport errors. 400 "every item failed" is a
        result, not an exception: its items carry the reasons.
        """
        if not payloads or len(payloads) > BULK_MAX:
            raise ValueError(f"bulk creation takes 1..{BULK_MAX} trackers, got {len(payloads)}")
        response = await self._send("bulk", "POST", "/trackers/bulk", json_body=payloads)
        body = _json_or_none(response)
        if not isinstance(body, dict) or "status" not in body:
            raise _status_error(response, body)
        if response.status_code not in (200, 201, 207, 400):
            raise _status_error(response, body)
        result = parse_bulk(response.status_code, body, payloads)
        self.stats.created += sum(1 for i in result.items if i.status == "created")
        self.stats.existing += sum(1 for i in result.items if i.status == "existing")
        return result

    async def track(self, payload: dict) -> TrackingResult:
        """POST /trackers/track: create if missing and return results (slow: up to 60 s on first call)."""
        body = await self._request("track", "POST", "/trackers/track", json_body=payload,
                                   timeout=self._track_timeout)
        return first_tracking(body)

    # -- reading ---------------------------------------------------------------------------------------

    async def get_tracker(self, tracker_id: str, *, by_client_id: bool = False) -> Tracker:
        params = {"searchBy": "clientTrackerId"} if by_client_id else None
        body = await self._request("tracker", "GET", f"/trackers/{quote(tracker_id, safe='')}", params=params)
        return parse_tracker(data_of(body).get("tracker"))

    async def update_tracker(self, tracker_id: str, changes: dict[str, Any], *,
                             by_client_id: bool = False) -> Tracker:
        """PATCH /trackers/{id}: change a tracker's updatable fields (courierCode, origin/destination country,
        destinationPostCode, shippingDate, isSubscribed). Ship24 answers 400 `tracker_not_updatable` when the
        shipment was already found (courier, countries and shipping date are then locked)."""
        params = {"searchBy": "clientTrackerId"} if by_client_id else None
        body = await self._request("update", "PATCH", f"/trackers/{quote(tracker_id, safe='')}",
                                   json_body=changes, params=params)
        return parse_tracker(data_of(body).get("tracker"))

    async def tracker_results(self, tracker_id: str, *, by_client_id: bool = False) -> TrackingResult:
        """GET /trackers/{id}/results (NotFound with code tracker_not_found when there is no tracker)."""
        params = {"searchBy": "clientTrackerId"} if by_client_id else None
        body = await self._request("results", "GET", f"/trackers/{quote(tracker_id, safe='')}/results",
                                   params=params)
        return first_tracking(body)

    async def search_results(self, tracking_number: str) -> list[TrackingResult]:
        """Results of every existing tracker with this number (several are possible)."""
        body = await self._request("results", "GET",
                                   f"/trackers/search/{quote(tracking_number, safe='')}/results")
        return [parse_tracking(t) for t in data_of(body).get("trackings") or []]

    async def list_trackers(self, page: int = 1, limit: int = 100, sort: int = 1) -> list[Tracker]:
        """One page of trackers; the last page is the first shorter than `limit` (no total is given)."""
        body = await self._request("list", "GET", "/trackers",
                                   params={"page": page, "limit": limit, "sort": sort})
        return [parse_tracker(t) for t in data_of(body).get("trackers") or []]

    async def couriers(self) -> list[dict]:
        """GET /couriers: every courier Ship24 knows (raw items; `desktop.core.requirements` caches and
        reads them). Not paginated, large, limited to 1 request/s: callers cache it."""
        body = await self._request("couriers", "GET", "/couriers")
        return list(data_of(body).get("couriers") or [])

    # -- transport -------------------------------------------------------------------------------------

    async def _request(self, endpoint: str, method: str, path: str, *, json_body: Any = None,
                       params: dict | None = None, timeout: float | None = None) -> dict:
        response = await self._send(endpoint, method, path, json_body=json_body, params=params,
                                    timeout=timeout)
        body = _json_or_none(response)
        if response.status_code >= 300:
            raise _status_error(response, body)
        if not isinstance(body, dict):
            raise MalformedResponse(SERVICE, f"{method} {path}: expected a JSON object")
        return body

    async def _send(self, endpoint: str, method: str, path: str, *, json_body: Any = None,
                    params: dict | None = None, timeout: float | None = None) -> httpx.Response:
        limiter = self.limiters[endpoint]
        ticket = await limiter.acquire()
        content = None if json_body is None else json.dumps(json_body).encode()
        self.stats.requests += 1
        try:
            response = await self._http.request(method, self._base + path, content=content, params=params,
                                                headers=self._headers, timeout=timeout or self._timeout)
        except httpx.TimeoutException as exc:
            self.stats.errors += 1
            raise ApiTimeout(SERVICE, f"{method} {path}: no answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            self.stats.errors += 1
            raise ApiConnectionError(SERVICE, f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        finally:
            limiter.settle(ticket)
        self._observe_limits(endpoint, ticket, response)
        if response.status_code == 429:
            self.stats.rate_limited += 1
            wait = max(MIN_RETRY_AFTER, _retry_after(response))
            limiter.pause_for(wait, "Ship24 asked to slow down")
            raise RateLimited(SERVICE, response.text.strip()[:200] or "Too many requests", wait,
                              code="rate_limited")
        if response.status_code >= 400:
            self.stats.errors += 1
        log.debug("%s %s -> %s", method, path, response.status_code)
        return response

    def _observe_limits(self, endpoint: str, ticket: Ticket, response: httpx.Response) -> None:
        """Follow the server's announced budget: its limit (a custom plan), what is left in the window, and
        the window's end (named by `X-RateLimit-Reset`, an epoch on Ship24's clock)."""
        self.server_clock.learn(response.headers, time.time())
        state = ship24_budget(response.headers, self.server_clock)
        limiter = self.limiters[endpoint]
        if not state.limit and not limiter.limit:
            limiter.set_limit(self._documented[endpoint])
        limiter.observe(ticket, state.remaining, limit=state.limit, reset_in=state.reset_in,
                        key=number(response.headers.get("x-ratelimit-reset")))


# -- parsing -------------------------------------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float:
    found = retry_after(response.headers)
    if found is None:
        found = number(response.headers.get("ratelimit-reset"))
    return found if found is not None else 1.0


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _status_error(response: httpx.Response, body: Any) -> ApiStatusError:
    """The typed exception for an HTTP error status; keeps Ship24's error code."""
    status = response.status_code
    items = error_items(body)
    code = items[0].code if items else None
    message = "; ".join(i.message or i.code for i in items) if items else response.text.strip()[:200]
    message = message or response.reason_phrase or f"HTTP {status}"
    request_id = response.headers.get("x-request-id")
    if request_id:
        log.info("ship24 error %s %s (x-request-id %s)", status, code, request_id)
    if status == 401 or (code or "").startswith("auth_"):
        return AuthError(SERVICE, status, message, code)
    if status == 404:
        return NotFound(SERVICE, status, message, code)
    if status >= 500:
        return ServerError(SERVICE, status, message, code)
    if status < 300:  # a success status without the expected body
        return ApiStatusError(SERVICE, status, f"unexpected answer: {message}", code)
    return ApiStatusError(SERVICE, status, message, code)
