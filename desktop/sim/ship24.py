"""Ship24 Tracking API double (api-notes §3.2), served by `SimServer` under /public/v1.

Behaviour worth knowing (each a switch in Ship24SimConfig where the real API is uncertain):
- Rate limits run per endpoint (method + route) and API key in fixed windows of `window_seconds`; every
  limited response carries RateLimit-* (seconds to reset) and X-RateLimit-* (epoch reset); a 429 is PLAIN
  TEXT "Too many requests, please try again later." with Retry-After. Limits are checked before auth.
- POST /trackers is idempotent: an identical payload returns the same trackerId (status `recreate_status`)
  without using quota; any changed field creates a new tracker; a clientTrackerId held by a subscribed
  tracker with another payload is 400 tracker_conflict; an identical create while the first is still in
  flight is 409 request_conflict (`race_hold_seconds` keeps the first one in flight).
- A courier whose requiredFields holds destinationPostCode (config `postcode_required_couriers`) given
  without a postcode (likewise destinationCountryCode): with `required_fields_mode` "accept" (default, as
  docs.ship24.com/couriers documents) the tracker is created, uses quota, and its results stay `pending`
  with no events for ever; with "reject" it is 400 validation_error naming the field.
- With `movement.enabled`, each new tracker draws a journey (delivered, exception, failed attempt, pickup
  point, or a stall) from seeded rates, and events come `time_scale` times faster (ship24_progress.py).
- With `state_file` set, trackers and quota used are loaded from that JSON file at start and saved to it
  atomically after every change: they survive a restart, as the real Ship24's do (ship24_state.py).
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

from desktop.sim import ship24_data as sd
from desktop.sim import ship24_progress, ship24_state
from desktop.sim.config import Ship24SimConfig
from desktop.sim.server import (
    Handler,
    SimLog,
    SimRequest,
    SimResponse,
    SimService,
    WindowCounter,
    json_response,
    text_response,
)
from desktop.sim.ship24_views import Refused as _Refused
from desktop.sim.ship24_views import TrackerViews, errors_response

__all__ = ["PREFIX", "TOO_MANY", "Ship24Log", "Ship24Service", "TrackerViews", "errors_response"]

PREFIX = "/public/v1"
TOO_MANY = "Too many requests, please try again later."


class Ship24Log(SimLog):
    """SimLog plus trackers_created (= quota used), trackers (trackerId -> tracker JSON), create_requests
    (POST /trackers, /trackers/track and /trackers/bulk requests) and bulk_items."""

    def __init__(self) -> None:
        super().__init__()
        self.trackers_created = 0
        self.create_requests = 0
        self.bulk_items = 0
        self.trackers: dict[str, dict[str, Any]] = {}


class Ship24Service(TrackerViews, SimService):
    """The simulated Ship24 (see the module docstring); the read-only endpoints are `TrackerViews`."""

    name = "ship24"

    def __init__(self, config: Ship24SimConfig, seed: int = 7) -> None:
        super().__init__(config, Ship24Log(), seed)
        self.config: Ship24SimConfig = config
        self.seed = seed  # journeys are drawn per (seed, number): ship24_progress
        self.log: Ship24Log
        self.trackers: dict[str, sd.Tracker] = {}
        self._counter = WindowCounter()
        self._inflight: set[tuple[Any, ...]] = set()
        self._seq = 0
        self._dirty = False  # a change not yet in config.state_file
        self._load_state()
        for method, template, handler in (
                ("POST", "/trackers", self.create), ("GET", "/trackers", self.list_trackers),
                ("POST", "/trackers/bulk", self.bulk), ("POST", "/trackers/track", self.track),
                ("GET", "/trackers/search/{tn}/results", self.search_results),
                ("GET", "/trackers/{id}", self.get_tracker), ("PATCH", "/trackers/{id}", self.patch),
                ("GET", "/trackers/{id}/results", self.results),
                ("POST", "/trackers/{id}/webhook-events/resend", self.resend),
                ("GET", "/couriers", self.couriers), ("POST", "/tracking/search", self.tracking_search)):
            self.route(method, PREFIX + template, self._guard(f"{method} {template}", handler))

    # Framing -------------------------------------------------------------------------------------------
    def not_found(self, request: SimRequest) -> SimResponse:
        return errors_response(404, "not_found", f"Cannot {request.method} {request.path}")

    def server_error(self, request: SimRequest, status: int) -> SimResponse:
        return errors_response(status, "internal_error", "An internal error occurred. Please retry later.")

    def finalize(self, request: SimRequest, response: SimResponse) -> SimResponse:
        response.headers.append(("x-request-id", str(uuid.uuid4())))
        response.headers += request.context.get("ratelimit_headers", [])
        return response

    def _per_second(self, endpoint: str) -> int:
        cfg = self.config
        if endpoint == "POST /trackers/bulk":
            return cfg.per_second_bulk
        if endpoint == "GET /couriers":
            return cfg.per_second_couriers
        if endpoint.endswith("/webhook-events/resend"):
            return cfg.per_second_resend
        return cfg.per_second_default

    def _guard(self, endpoint: str, handler: Handler) -> Handler:
        def guarded(request: SimRequest) -> SimResponse:
            try:
                self._rate_limit(request, endpoint)
                self._authenticate(request)
                return handler(request)
            except _Refused as refused:
                return refused.response
        return guarded

    def _rate_limit(self, request: SimRequest, endpoint: str) -> None:
        cfg, now = self.config, self.now()
        limit = self._per_second(endpoint)
        key = (endpoint, request.headers.get("authorization", "anonymous"))
        with self.lock:
            used = self._counter.hit(key, cfg.window_seconds, now)
            _, end = self._counter.state(key, cfg.window_seconds, now)
        reset_in = max(1, math.ceil(end - now))
        remaining = max(0, limit - used)
        request.context["ratelimit_headers"] = [
            ("RateLimit-Limit", str(limit)), ("RateLimit-Remaining", str(remaining)),
            ("RateLimit-Reset", str(reset_in)), ("X-RateLimit-Limit", str(limit)),
            ("X-RateLimit-Remaining", str(remaining)), ("X-RateLimit-Reset", str(math.ceil(end)))]
        if cfg.rate_limits and used > limit:
            raise _Refused(text_response(429, TOO_MANY, [("Retry-After", str(reset_in))]))

    def _authenticate(self, request: SimRequest) -> None:
        header = request.headers.get("authorization")
        if header is None:
            raise _Refused(errors_response(400, "auth_missing_header", "Authorization header is missing"))
        token = request.bearer()
        if not token:
            raise _Refused(errors_response(400, "auth_invalid_header",
                                           "Authorization header must be 'Bearer <api key>'"))
        if token != self.config.api_key:
            raise _Refused(errors_response(401, "auth_invalid_api_key", "The API key is invalid"))

    # Persistence ---------------------------------------------------------------------------------------
    def _load_state(self) -> None:
        """Start from `config.state_file` when set (missing -> empty; unreadable -> warning, empty)."""
        if not self.config.state_file:
            return
        state = ship24_state.load(self.config.state_file)
        self.trackers, self._seq = state.trackers, state.seq
        self.log.trackers_created = state.trackers_created
        self.log.trackers = {tid: self._json(t) for tid, t in self.trackers.items()}

    def _save_locked(self, force: bool = False) -> None:
        """Write the state file if something changed (`force`: changed in place). Call under self.lock."""
        if not self.config.state_file or not (self._dirty or force):
            return
        ship24_state.save(self.config.state_file, self.trackers, self.log.trackers_created, self._seq)
        self._dirty = False

    # Trackers (creating and changing them; reading: TrackerViews) -----------------------------------------
    def _find_existing(self, payload: dict[str, Any]) -> tuple[sd.Tracker | None, sd.Tracker | None]:
        """(identical subscribed tracker, subscribed tracker holding the same clientTrackerId)."""
        key = sd.match_key(payload)
        client_id = payload.get("clientTrackerId")
        same, holder = None, None
        for tracker in self.trackers.values():
            if not tracker.is_subscribed:
                continue
            if sd.match_key(tracker.payload) == key:
                same = tracker
            elif client_id is not None and tracker.client_tracker_id == client_id:
                holder = tracker
        return same, holder

    def _quota_left(self) -> bool:
        return self.config.quota is None or self.log.trackers_created < self.config.quota

    def _new_tracker(self, payload: dict[str, Any]) -> sd.Tracker:
        self._seq += 1
        tracker_id = ""
        while not tracker_id or tracker_id in self.trackers:  # a restarted seeded rng repeats old ids
            with self._rng_lock:
                tracker_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        tracker = sd.Tracker(tracker_id, payload["trackingNumber"], dict(payload), self._now(), self._seq)
        self._mark_missing(tracker)
        ship24_progress.plan(tracker, self.seed, self.config.movement, sd.is_sample(tracker.tracking_number))
        self.trackers[tracker_id] = tracker
        self.log.add("trackers_created")
        self.log.trackers[tracker_id] = self._json(tracker)
        self._dirty = True
        return tracker

    def _mark_missing(self, tracker: sd.Tracker) -> None:
        """Remember a courier's required field the payload lacks ("accept" mode): no results for ever."""
        tracker.extra["missing_required"] = [f"{name} ({code})"
                                             for name, code in sd.missing_required(tracker.payload, self.config)]

    def create_one(self, payload: Any) -> tuple[int, sd.Tracker | None, list[dict[str, str]]]:
        """Create (or reuse) one tracker: (status, tracker, errors). Shared by single create and track."""
        errors = sd.validate(payload, self._now(), self.config)
        if errors:
            return 400, None, errors
        fingerprint = sd.match_key(payload)
        with self.lock:
            if fingerprint in self._inflight:
                return 409, None, [{"code": "request_conflict",
                                    "message": "An identical request is already being processed"}]
            self._inflight.add(fingerprint)
        try:
            if self.config.race_hold_seconds > 0:
                time.sleep(self.config.race_hold_seconds)  # outside the lock: the twin request sees 409
            with self.lock:
                result = self._create_locked(payload)
                self._save_locked()
                return result
        finally:
            with self.lock:
                self._inflight.discard(fingerprint)

    def _create_locked(self, payload: dict[str, Any]) -> tuple[int, sd.Tracker | None, list[dict[str, str]]]:
        same, holder = self._find_existing(payload)
        if same is not None:
            return self.config.recreate_status, same, []
        if holder is not None:
            return 400, None, [{"code": "tracker_conflict", "message":
                                f"clientTrackerId {payload['clientTrackerId']} is used by another tracker"}]
        if not self._quota_left():
            return self.config.quota_status, None, [{"code": "quota_limit_reached",
                                                     "message": "No more quota left. Please update your plan."}]
        return 201, self._new_tracker(payload), []

    def create(self, request: SimRequest) -> SimResponse:
        self.log.add("create_requests")
        status, tracker, errors = self.create_one(self._body(request))
        if tracker is None:
            return json_response(status, {"errors": errors, "data": None})
        return json_response(status, {"data": {"tracker": self._json(tracker)}})

    def track(self, request: SimRequest) -> SimResponse:
        self.log.add("create_requests")
        status, tracker, errors = self.create_one(self._body(request))
        if tracker is None:
            return json_response(status, {"errors": errors, "data": None})
        if not tracker.extra.get("tracked"):  # the first /track call fetches from the courier synchronously
            with self.lock:
                tracker.extra["tracked"] = True
                self._save_locked(force=True)
            time.sleep(self.config.track_first_call_seconds)
        trackings = [self._tracking(tracker, self._now())]
        return json_response(self.config.track_status, {"data": {"trackings": trackings}})

    def bulk(self, request: SimRequest) -> SimResponse:
        self.log.add("create_requests")
        items = self._body(request)
        if not isinstance(items, list):
            return self._envelope(400, "error", None, None,
                                  {"code": "validation_error", "message": "Request body must be a JSON array"})
        if len(items) > 100:
            return self._envelope(403, "error", None, None, {
                "code": "bulk_create_limit_exceeded", "message": "A bulk request accepts at most 100 trackers"})
        self.log.add("bulk_items", len(items))
        with self.lock:
            if not self._quota_left():
                return self._envelope(403, "error", None, None, {
                    "code": "quota_limit_reached", "message": "No more quota left. Please update your plan."})
            data = [self._bulk_item(item) for item in items]
            self._save_locked()  # once per bulk call, not per item
        return self._bulk_answer(data, len(items))

    def _bulk_item(self, item: Any) -> dict[str, Any]:
        errors = sd.validate(item, self._now(), self.config)
        status, tracker = 400, None
        if not errors:
            existed = self._find_existing(item)[0] is not None
            status, tracker, errors = self._create_locked(item)
            status = 200 if existed else status
        if tracker is None:
            return {"itemStatus": "error", "inputData": item, "tracker": None, "errors": errors}
        return {"itemStatus": "created" if status == 201 else "existing", "inputData": item,
                "tracker": self._json(tracker), "errors": None}

    def _bulk_answer(self, data: list[dict[str, Any]], total: int) -> SimResponse:
        counts = {s: sum(1 for d in data if d["itemStatus"] == s) for s in ("created", "existing", "error")}
        summary = {"totalInputs": total, "totalCreated": counts["created"], "totalExisting": counts["existing"],
                   "totalErrors": counts["error"]}
        if total and counts["error"] == total:
            return self._envelope(400, "error", summary, data, {
                "code": "processing_error", "message": "Every single item failed validation or processing"})
        return self._envelope(207 if counts["error"] else 201, "partial" if counts["error"] else "success",
                              summary, data, None)

    def _envelope(self, status: int, state: str, summary: Any, data: Any, error: Any) -> SimResponse:
        return json_response(status, {"status": state, "summary": summary, "data": data, "error": error})
