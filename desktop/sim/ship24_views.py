"""The Ship24 simulator's read side: tracker lookups and the endpoints that only read trackers.

Contract: `TrackerViews` is a mixin of `desktop.sim.ship24.Ship24Service` (which supplies `config`,
`trackers`, `lock` and `now()`); it answers GET /trackers, /trackers/{id}, /trackers/{id}/results,
/trackers/search/{tn}/results, /couriers, POST /trackers/{id}/webhook-events/resend and /tracking/search,
with Ship24's bodies and error shapes, and never changes a tracker. `Refused` carries a ready error answer
out of a handler (the service's guard returns it). `errors_response` builds Ship24's `errors` envelope.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import unquote

from desktop.sim import ship24_data as sd
from desktop.sim import ship24_progress
from desktop.sim.config import Ship24SimConfig
from desktop.sim.server import SimRequest, SimResponse, json_response


def errors_response(status: int, code: str, message: str, *more: dict[str, str]) -> SimResponse:
    return json_response(status, {"errors": [{"code": code, "message": message}, *more], "data": None})


class Refused(Exception):
    """Raised by a handler to answer `response` at once."""

    def __init__(self, response: SimResponse) -> None:
        super().__init__(response.status)
        self.response = response


class TrackerViews:
    """Reading trackers (see the module docstring); the host class supplies these attributes and `now()`."""

    config: Ship24SimConfig
    trackers: dict[str, sd.Tracker]
    lock: threading.RLock

    def _body(self, request: SimRequest) -> Any:
        try:
            return request.json()
        except ValueError:
            raise Refused(errors_response(400, "parsing_error", "Request body is not valid JSON")) from None

    def _now(self) -> float:
        return self.now()  # type: ignore[attr-defined]  # SimService.now

    def _step(self) -> float:
        """Real seconds between two events of a journey (the time scale applied: ship24_progress)."""
        return ship24_progress.step_seconds(self.config.timeline_step_seconds, self.config.movement)

    def _json(self, tracker: sd.Tracker) -> dict[str, Any]:
        return tracker.to_json(self._now(), self._step())

    def _tracking(self, tracker: sd.Tracker, now: float) -> dict[str, Any]:
        cfg = self.config
        zones = (float(cfg.event_zones_hours[0]), float(cfg.event_zones_hours[1]))
        return sd.tracking_json(tracker, now, self._step(), zones)

    # Reading -------------------------------------------------------------------------------------------

    def _lookup(self, request: SimRequest) -> sd.Tracker:
        ident = unquote(request.params["id"])
        with self.lock:
            if request.arg("searchBy") == "clientTrackerId":
                found = sorted((t for t in self.trackers.values() if t.client_tracker_id == ident),
                               key=lambda t: (t.is_subscribed, t.seq))
                tracker = found[-1] if found else None
            else:
                tracker = self.trackers.get(ident)
        if tracker is None:
            raise Refused(errors_response(404, "tracker_not_found", f"Tracker {ident} was not found"))
        return tracker

    def get_tracker(self, request: SimRequest) -> SimResponse:
        return json_response(200, {"data": {"tracker": self._json(self._lookup(request))}})

    def patch(self, request: SimRequest) -> SimResponse:
        tracker = self._lookup(request)
        body = self._body(request)
        if not isinstance(body, dict):
            return errors_response(400, "validation_error", "Request body must be a JSON object")
        unknown = sorted(set(body) - sd.PATCHABLE)
        if unknown:  # the spec: "Only the following property can be updated"
            return errors_response(400, "validation_error", f"{', '.join(unknown)} cannot be updated")
        locked = ("courierCode", "originCountryCode", "destinationCountryCode", "destinationPostCode",
                  "shippingDate")
        now, step = self._now(), self._step()
        changed = [k for k in locked if k in body and body[k] != tracker.payload.get(k)]
        if changed and sd.events_now(tracker, now, step):
            return errors_response(400, "tracker_not_updatable",
                                   f"{', '.join(changed)} cannot change once the shipment was found")
        merged = {**tracker.payload, **{k: v for k, v in body.items() if k != "isSubscribed"}}
        errors = sd.validate(merged, now, self.config)
        if errors:
            return json_response(400, {"errors": errors, "data": None})
        with self.lock:
            tracker.payload = merged
            self._mark_missing(tracker)  # a PATCH that adds the missing field lets results come
            if "isSubscribed" in body:
                tracker.is_subscribed = bool(body["isSubscribed"])  # False frees the clientTrackerId
            self.log.trackers[tracker.tracker_id] = self._json(tracker)
            self._save_locked(force=True)
        return json_response(200, {"data": {"tracker": self._json(tracker)}})

    def list_trackers(self, request: SimRequest) -> SimResponse:
        try:
            page, limit = int(request.arg("page", "1") or ""), int(request.arg("limit", "100") or "")
            sort = int(request.arg("sort", "1") or "")
        except ValueError:
            return errors_response(400, "validation_error", "page, limit and sort must be integers")
        problems = [m for bad, m in ((page < 1, '"page" must be >= 1'), (not 1 <= limit <= 500,
                    '"limit" must be between 1 and 500'), (sort not in (1, -1), '"sort" must be 1 or -1')) if bad]
        if problems:
            return json_response(400, {"errors": [{"code": "validation_error", "message": m} for m in problems],
                                       "data": None})
        with self.lock:
            ordered = sorted(self.trackers.values(), key=lambda t: t.seq, reverse=sort == -1)
        chunk = ordered[(page - 1) * limit:page * limit]
        return json_response(200, {"data": {"trackers": [self._json(t) for t in chunk]}})

    def results(self, request: SimRequest) -> SimResponse:
        tracker = self._lookup(request)
        return json_response(200, {"data": {"trackings": [self._tracking(tracker, self._now())]}})

    def search_results(self, request: SimRequest) -> SimResponse:
        number = unquote(request.params["tn"])
        with self.lock:
            found = sorted((t for t in self.trackers.values() if t.tracking_number == number), key=lambda t: t.seq)
        if not found:
            return errors_response(404, "tracker_not_found", f"No tracker exists for {number}")
        now = self._now()
        return json_response(200, {"data": {"trackings": [self._tracking(t, now) for t in found]}})

    def resend(self, request: SimRequest) -> SimResponse:
        tracker = self._lookup(request)
        total = len(sd.events_now(tracker, self._now(), self._step()))
        return json_response(201, {"data": {"summary": {"totalResent": total}}})

    def couriers(self, request: SimRequest) -> SimResponse:
        return json_response(200, {"data": {"couriers": sd.couriers_json(self.config)}})

    def tracking_search(self, request: SimRequest) -> SimResponse:
        if not self.config.per_call_plan:
            return errors_response(422, "no_active_subscription",
                                   "This endpoint needs an active per-call subscription")
        body = self._body(request)
        number = body.get("trackingNumber") if isinstance(body, dict) else None
        if not isinstance(number, str):
            return errors_response(400, "validation_error", '"trackingNumber" is required')
        probe = sd.Tracker("search-" + number, number, body, self._now() - 86400.0, 0)
        return json_response(200, {"data": {"trackings": [self._tracking(probe, self._now())]}})
