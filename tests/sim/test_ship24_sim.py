"""The Ship24 simulator over real HTTP (httpx): trackers, idempotency, bulk, validation, quota, results,
per-endpoint rate limits with both header sets and the plain-text 429, and transport faults."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from desktop.sim import SimConfig

UPS = "1Z4G7VSU1331706697"
FEDEX = "794644790132"


def fresh_window(seconds: float = 1.0) -> None:
    time.sleep(seconds - (time.time() % seconds) + 0.02)


def no_limits(cfg: SimConfig) -> None:
    cfg.ship24.rate_limits = False


@pytest.fixture
def ship24(http, make_sims):
    """A fresh Ship24 simulator (own trackers and quota) with rate limits off, and its client."""
    sims = make_sims(no_limits)
    return sims, http.ship24(sims)


# Auth -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("headers", "status", "code"), [
    ({}, 400, "auth_missing_header"),
    ({"authorization": "Token apik_demo_key"}, 400, "auth_invalid_header"),
    ({"authorization": "Bearer apik_wrong"}, 401, "auth_invalid_api_key"),
])
def test_auth_errors(sims, http, headers, status, code):
    client = http.ship24(sims, token=None, headers=headers)
    response = client.get("/couriers")
    assert response.status_code == status
    assert response.json() == {"errors": [{"code": code, "message": response.json()["errors"][0]["message"]}],
                               "data": None}
    assert response.headers["x-request-id"]


# Create and idempotency ------------------------------------------------------------------------------------
def test_create_then_identical_recreate_returns_same_tracker_without_quota(ship24):
    sims, client = ship24
    first = client.post("/trackers", json={"trackingNumber": UPS, "courierCode": ["ups"]})
    assert first.status_code == 201
    tracker = first.json()["data"]["tracker"]
    assert tracker["trackingNumber"] == UPS and tracker["isSubscribed"] is True and tracker["isTracked"] is True
    assert tracker["createdAt"].endswith("Z") and len(tracker["trackerId"]) == 36
    again = client.post("/trackers", json={"trackingNumber": UPS, "courierCode": "ups"})
    assert again.status_code == 201 and again.json()["data"]["tracker"]["trackerId"] == tracker["trackerId"]
    assert sims.ship24.log.trackers_created == 1 and sims.ship24.log.create_requests == 2
    changed = client.post("/trackers", json={"trackingNumber": UPS, "courierCode": ["ups"],
                                             "destinationPostCode": "10001"})
    assert changed.status_code == 201 and changed.json()["data"]["tracker"]["trackerId"] != tracker["trackerId"]
    assert sims.ship24.log.trackers_created == 2 and len(sims.ship24.log.trackers) == 2


def test_recreate_status_switch(http, make_sims):
    sims = make_sims(lambda cfg: (no_limits(cfg), setattr(cfg.ship24, "recreate_status", 200)))
    client = http.ship24(sims)
    assert client.post("/trackers", json={"trackingNumber": UPS}).status_code == 201
    assert client.post("/trackers", json={"trackingNumber": UPS}).status_code == 200


def test_client_tracker_id_conflict_and_release_by_unsubscribe(ship24):
    _, client = ship24
    first = client.post("/trackers", json={"trackingNumber": UPS, "clientTrackerId": "ship-1"}).json()
    conflict = client.post("/trackers", json={"trackingNumber": FEDEX, "clientTrackerId": "ship-1"})
    assert conflict.status_code == 400 and conflict.json()["errors"][0]["code"] == "tracker_conflict"
    by_client_id = client.get("/trackers/ship-1", params={"searchBy": "clientTrackerId"}).json()
    assert by_client_id["data"]["tracker"]["trackerId"] == first["data"]["tracker"]["trackerId"]
    tracker_id = first["data"]["tracker"]["trackerId"]
    patched = client.patch(f"/trackers/{tracker_id}", json={"isSubscribed": False})
    assert patched.status_code == 200 and patched.json()["data"]["tracker"]["isSubscribed"] is False
    assert client.post("/trackers", json={"trackingNumber": FEDEX, "clientTrackerId": "ship-1"}).status_code == 201


def test_identical_parallel_creates_get_409_request_conflict(http, make_sims):
    sims = make_sims(lambda cfg: (no_limits(cfg), setattr(cfg.ship24, "race_hold_seconds", 0.5)))
    statuses: list[int] = []
    bodies: list[dict] = []

    def create() -> None:
        with httpx.Client(base_url=sims.ship24_url + "/public/v1",
                          headers={"authorization": "Bearer apik_demo_key"}) as client:
            response = client.post("/trackers", json={"trackingNumber": UPS})
            statuses.append(response.status_code)
            bodies.append(response.json())
    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]
    conflict = bodies[statuses.index(409)]
    assert conflict == {"errors": [{"code": "request_conflict", "message": conflict["errors"][0]["message"]}],
                        "data": None}
    assert sims.ship24.log.trackers_created == 1


# Validation --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", [
    {}, {"trackingNumber": "1Z9"}, {"trackingNumber": "AB CD 1234"}, {"trackingNumber": "x" * 51},
    {"trackingNumber": "1111111111"}, {"trackingNumber": "123456789"}, {"trackingNumber": "TEST1234"},
    {"trackingNumber": UPS, "destinationCountryCode": "usa"},
    {"trackingNumber": UPS, "courierCode": ["ups", "fedex", "dhl", "us-post"]},
    {"trackingNumber": UPS, "courierCode": "not-a-courier"},
    {"trackingNumber": UPS, "shippingDate": "last tuesday"},
])
def test_validation_errors(ship24, payload):
    _, client = ship24
    response = client.post("/trackers", json=payload)
    assert response.status_code == 400
    assert response.json()["data"] is None
    assert {e["code"] for e in response.json()["errors"]} == {"validation_error"}


def test_several_validation_errors_come_back_together(ship24):
    _, client = ship24
    errors = client.post("/trackers", json={"trackingNumber": "1Z", "originCountryCode": "x"}).json()["errors"]
    assert len(errors) == 2


def test_courier_list_names_required_fields(ship24):
    _, client = ship24
    couriers = {c["courierCode"]: c for c in client.get("/couriers").json()["data"]["couriers"]}
    assert couriers["dpd"]["requiredFields"] == ["destinationPostCode"] and couriers["ups"]["requiredFields"] is None
    assert couriers["landmark-global"]["requiredFields"] == ["destinationCountryCode"]


def test_courier_list_is_the_simulators_own_data(ship24):
    """Codes and names as Ship24's GET /couriers gives them, not the app's guesses: Canada Post is `ca-post`,
    `dhl` is plainly "DHL" beside other DHL entities, Canpar is "Canpar Express", LaserShip is deprecated,
    and La Poste needs the destination country (the spec's own example)."""
    _, client = ship24
    listed = client.get("/couriers").json()["data"]["couriers"]
    couriers = {c["courierCode"]: c for c in listed}
    assert len(couriers) == len(listed)  # codes are unique
    assert couriers["ca-post"]["courierName"] == "Canada Post" and "canada-post" not in couriers
    assert couriers["dhl"]["courierName"] == "DHL" and sum("DHL" in c["courierName"] for c in listed) >= 3
    assert couriers["canpar"]["courierName"] == "Canpar Express"
    assert couriers["lasership"]["isDeprecated"] is True and couriers["ontrac"]["isDeprecated"] is False
    assert couriers["fr-post"]["requiredFields"] == ["destinationCountryCode"]
    assert couriers["us-post"] == {"courierCode": "us-post", "courierName": "USPS", "website": couriers["us-post"][
        "website"], "isPost": True, "countryCode": "US", "requiredFields": None, "isDeprecated": False}
    guessed = client.post("/trackers", json={"trackingNumber": UPS, "courierCode": ["canada-post"]})
    assert guessed.status_code == 400 and "canada-post" in guessed.json()["errors"][0]["message"]


def test_patch_takes_only_the_spec_fields(ship24):
    _, client = ship24
    tracker_id = client.post("/trackers", json={"trackingNumber": UPS}).json()["data"]["tracker"]["trackerId"]
    refused = client.patch(f"/trackers/{tracker_id}", json={"orderNumber": "PO-1", "destinationPostCode": "1"})
    assert refused.status_code == 400 and refused.json()["errors"] == [
        {"code": "validation_error", "message": "orderNumber cannot be updated"}]
    by_client_id = client.post("/trackers", json={"trackingNumber": FEDEX, "clientTrackerId": "c-1"})
    assert by_client_id.status_code == 201
    patched = client.patch("/trackers/c-1", params={"searchBy": "clientTrackerId"},
                           json={"destinationPostCode": "10115", "destinationCountryCode": "DE"})
    assert patched.status_code == 200 and patched.json()["data"]["tracker"]["clientTrackerId"] == "c-1"
    same = client.post("/trackers", json={"trackingNumber": FEDEX, "clientTrackerId": "c-1",
                                          "destinationPostCode": "10115", "destinationCountryCode": "DE"})
    assert same.status_code == 201 and same.json()["data"]["tracker"] == patched.json()["data"]["tracker"]


@pytest.mark.parametrize(("zones", "sorted_by_text"), [((8.0, -5.0), False), ((0.0, 0.0), True)])
def test_event_times_are_local_to_each_scan(http, make_sims, zones, sorted_by_text):
    sims = make_sims(lambda cfg: (no_limits(cfg), setattr(cfg.ship24, "event_zones_hours", zones)))
    client = http.ship24(sims)
    created = client.post("/trackers", json={"trackingNumber": "SHIP24_SAMPLE_IN_TRANSIT_001"}).json()
    tracking = client.get(f"/trackers/{created['data']['tracker']['trackerId']}/results").json()["data"]
    events = tracking["trackings"][0]["events"]
    assert [e["statusCode"] for e in events] == ["transit_arrival", "transit_pickup", "data_order_created"]
    times = [e["occurrenceDatetime"] for e in events]
    assert (times == sorted(times, reverse=True)) is sorted_by_text
    assert all(len(t) == 19 for t in times)  # no offset, no Z: local time as the courier gave it


def test_missing_required_field_is_accepted_but_never_finds_results(ship24):
    """Default "accept" mode (docs.ship24.com/couriers): the create is not blocked and uses quota, but the
    tracker's results stay pending with no events, however much time passes."""
    sims, client = ship24
    assert sims.ship24.config.required_fields_mode == "accept"
    sims.ship24.config.timeline_step_seconds = 0.01  # a normal tracker would show its events at once
    missing = client.post("/trackers", json={"trackingNumber": "09981122334455", "courierCode": ["dpd"]})
    assert missing.status_code == 201
    no_country = client.post("/trackers", json={"trackingNumber": UPS, "courierCode": "landmark-global"})
    assert no_country.status_code == 201
    complete = client.post("/trackers", json={"trackingNumber": "09981122334466", "courierCode": ["dpd"],
                                              "destinationPostCode": "10115"})
    assert complete.status_code == 201 and sims.ship24.log.trackers_created == 3
    time.sleep(0.1)
    for created, pending in ((missing, True), (no_country, True), (complete, False)):
        tracker_id = created.json()["data"]["tracker"]["trackerId"]
        tracking = client.get(f"/trackers/{tracker_id}/results").json()["data"]["trackings"][0]
        assert (tracking["shipment"]["statusMilestone"] == "pending") is pending
        assert (tracking["events"] == []) is pending
    bulk = client.post("/trackers/bulk", json=[{"trackingNumber": "09981122334477", "courierCode": ["dpd"]}])
    assert bulk.status_code == 201 and bulk.json()["data"][0]["itemStatus"] == "created"
    assert sims.ship24.log.trackers_created == 4


def test_missing_required_field_is_rejected_in_reject_mode(http, make_sims):
    def reject(cfg: SimConfig) -> None:
        no_limits(cfg)
        cfg.ship24.required_fields_mode = "reject"
    sims = make_sims(reject)
    client = http.ship24(sims)
    missing = client.post("/trackers", json={"trackingNumber": "09981122334455", "courierCode": ["dpd"]})
    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"code": "validation_error", "message":
                                         '"destinationPostCode" is required for courier dpd (requiredFields)'}]
    no_country = client.post("/trackers", json={"trackingNumber": UPS, "courierCode": "landmark-global"})
    assert no_country.status_code == 400 and "destinationCountryCode" in no_country.text
    bulk = client.post("/trackers/bulk", json=[{"trackingNumber": "09981122334477", "courierCode": ["dpd"]}])
    assert bulk.status_code == 400 and bulk.json()["data"][0]["itemStatus"] == "error"
    assert sims.ship24.log.trackers_created == 0
    ok = client.post("/trackers", json={"trackingNumber": "09981122334455", "courierCode": ["dpd"],
                                        "destinationPostCode": "10115"})
    assert ok.status_code == 201 and sims.ship24.log.trackers_created == 1


def test_shipping_date_outdated(ship24):
    _, client = ship24
    old = (datetime.now(UTC) - timedelta(days=200)).date().isoformat()
    response = client.post("/trackers", json={"trackingNumber": UPS, "shippingDate": old})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "shipping_date_outdated"
    recent = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.post("/trackers", json={"trackingNumber": UPS, "shippingDate": recent}).status_code == 201


def test_invalid_json_body(ship24):
    _, client = ship24
    response = client.post("/trackers", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "parsing_error"


# Quota ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [403, 405])
def test_quota_limit_reached(http, make_sims, status):
    def tweak(cfg: SimConfig) -> None:
        no_limits(cfg)
        cfg.ship24.quota = 2
        cfg.ship24.quota_status = status
    sims = make_sims(tweak)
    client = http.ship24(sims)
    assert client.post("/trackers", json={"trackingNumber": UPS}).status_code == 201
    assert client.post("/trackers", json={"trackingNumber": FEDEX}).status_code == 201
    assert client.post("/trackers", json={"trackingNumber": UPS}).status_code == 201  # re-create: free
    refused = client.post("/trackers", json={"trackingNumber": "9400111899223100000011"})
    assert refused.status_code == status and refused.json()["errors"][0]["code"] == "quota_limit_reached"
    bulk = client.post("/trackers/bulk", json=[{"trackingNumber": "9400111899223100000028"}])
    assert bulk.status_code == 403
    assert bulk.json() == {"status": "error", "summary": None, "data": None,
                           "error": {"code": "quota_limit_reached", "message": bulk.json()["error"]["message"]}}
    assert sims.ship24.log.trackers_created == 2


# Bulk -------------------------------------------------------------------------------------------------------
def test_bulk_partial_envelope(ship24):
    sims, client = ship24
    client.post("/trackers", json={"trackingNumber": FEDEX})
    items = [{"trackingNumber": UPS}, {"trackingNumber": UPS}, {"trackingNumber": FEDEX}, {"trackingNumber": "1"}]
    response = client.post("/trackers/bulk", json=items)
    assert response.status_code == 207
    body = response.json()
    assert body["status"] == "partial" and body["error"] is None
    assert [d["itemStatus"] for d in body["data"]] == ["created", "existing", "existing", "error"]
    assert body["summary"] == {"totalInputs": 4, "totalCreated": 1, "totalExisting": 2, "totalErrors": 1}
    assert body["data"][3]["errors"][0]["code"] == "validation_error" and body["data"][3]["tracker"] is None
    assert body["data"][0]["inputData"] == items[0]
    assert sims.ship24.log.trackers_created == 2 and sims.ship24.log.bulk_items == 4


def test_bulk_success_all_errors_and_limit(ship24):
    _, client = ship24
    success = client.post("/trackers/bulk", json=[{"trackingNumber": UPS}, {"trackingNumber": FEDEX}])
    assert success.status_code == 201 and success.json()["status"] == "success"
    failed = client.post("/trackers/bulk", json=[{"trackingNumber": "1"}, {"trackingNumber": "22"}])
    assert failed.status_code == 400
    assert failed.json()["status"] == "error" and failed.json()["error"]["code"] == "processing_error"
    assert failed.json()["summary"]["totalErrors"] == 2
    too_many = client.post("/trackers/bulk", json=[{"trackingNumber": f"ABC{i:05d}X"} for i in range(101)])
    assert too_many.status_code == 403
    assert too_many.json() == {"status": "error", "summary": None, "data": None, "error": {
        "code": "bulk_create_limit_exceeded", "message": too_many.json()["error"]["message"]}}


# Reading trackers and results --------------------------------------------------------------------------------
def test_get_list_and_not_found(ship24):
    _, client = ship24
    ids = [client.post("/trackers", json={"trackingNumber": f"ABC{i:05d}X"}).json()["data"]["tracker"]["trackerId"]
           for i in range(5)]
    assert client.get(f"/trackers/{ids[0]}").json()["data"]["tracker"]["trackerId"] == ids[0]
    missing = client.get("/trackers/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "tracker_not_found"
    pages = [client.get("/trackers", params={"page": p, "limit": 2}).json()["data"]["trackers"] for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [t["trackerId"] for p in pages for t in p] == ids
    newest = client.get("/trackers", params={"page": 1, "limit": 500, "sort": -1}).json()["data"]["trackers"]
    assert [t["trackerId"] for t in newest] == ids[::-1]
    for params in ({"page": 0}, {"limit": 501}, {"limit": 0}, {"sort": 2}, {"page": "x"}):
        bad = client.get("/trackers", params=params)
        assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "validation_error"


def test_sample_numbers_have_scripted_timelines(ship24):
    _, client = ship24
    assert client.get("/trackers/search/SHIP24_SAMPLE_DELIVERED_001/results").status_code == 404
    created = client.post("/trackers", json={"trackingNumber": "SHIP24_SAMPLE_DELIVERED_001"}).json()
    tracker_id = created["data"]["tracker"]["trackerId"]
    results = client.get(f"/trackers/{tracker_id}/results").json()["data"]["trackings"]
    assert len(results) == 1
    tracking = results[0]
    assert tracking["shipment"]["statusMilestone"] == "delivered" and tracking["tracker"]["isTracked"] is False
    times = [e["occurrenceDatetime"] for e in tracking["events"]]
    # Newest first with `order` (1 = oldest), as the spec's examples; local times without an offset, so
    # across the origin's and destination's zones (+8 h, -5 h by default) they do not sort.
    assert [e["order"] for e in tracking["events"]] == [5, 4, 3, 2, 1]
    assert tracking["events"][0]["statusMilestone"] == "delivered" and times != sorted(times, reverse=True)
    assert tracking["statistics"]["timestamps"]["deliveredDatetime"] == times[0]
    again = client.get(f"/trackers/{tracker_id}/results").json()["data"]["trackings"][0]
    assert [e["eventId"] for e in again["events"]] == [e["eventId"] for e in tracking["events"]]
    pending = client.post("/trackers", json={"trackingNumber": "SHIP24_SAMPLE_PENDING_002"}).json()
    pending_id = pending["data"]["tracker"]["trackerId"]
    first = client.get(f"/trackers/{pending_id}/results").json()["data"]["trackings"][0]
    assert first["shipment"]["statusMilestone"] == "pending" and first["events"] == []


def test_search_results_return_every_tracker_of_a_number(ship24):
    _, client = ship24
    client.post("/trackers", json={"trackingNumber": UPS})
    client.post("/trackers", json={"trackingNumber": UPS, "originCountryCode": "US"})
    trackings = client.get(f"/trackers/search/{UPS}/results").json()["data"]["trackings"]
    assert len(trackings) == 2 and len({t["tracker"]["trackerId"] for t in trackings}) == 2


def test_timelines_advance_with_time_and_lock_updates(http, make_sims):
    sims = make_sims(lambda cfg: (no_limits(cfg), setattr(cfg.ship24, "timeline_step_seconds", 0.1)))
    client = http.ship24(sims)
    tracker_id = client.post("/trackers", json={"trackingNumber": UPS}).json()["data"]["tracker"]["trackerId"]
    time.sleep(0.7)
    later = client.get(f"/trackers/{tracker_id}/results").json()["data"]["trackings"][0]
    assert len(later["events"]) >= 3 and later["shipment"]["statusMilestone"] != "pending"
    locked = client.patch(f"/trackers/{tracker_id}", json={"courierCode": ["fedex"]})
    assert locked.status_code == 400 and locked.json()["errors"][0]["code"] == "tracker_not_updatable"


def test_track_endpoint_creates_and_returns_results(ship24, http, make_sims):
    _, client = ship24
    response = client.post("/trackers/track", json={"trackingNumber": "SHIP24_SAMPLE_IN_TRANSIT_003"})
    assert response.status_code == 201
    assert response.json()["data"]["trackings"][0]["shipment"]["statusMilestone"] == "in_transit"
    spec = make_sims(lambda cfg: (no_limits(cfg), setattr(cfg.ship24, "track_status", 200)))
    assert http.ship24(spec).post("/trackers/track", json={"trackingNumber": UPS}).status_code == 200


def test_track_first_call_delay(http, make_sims):
    sims = make_sims(lambda cfg: (no_limits(cfg), setattr(cfg.ship24, "track_first_call_seconds", 0.6)))
    with pytest.raises(httpx.ReadTimeout):
        http.ship24(sims, timeout=0.2).post("/trackers/track", json={"trackingNumber": UPS})
    time.sleep(0.6)  # the tracker was created anyway; the next call answers at once
    assert http.ship24(sims, timeout=0.3).post("/trackers/track", json={"trackingNumber": UPS}).status_code == 201


def test_per_call_search_needs_a_subscription(ship24, http, make_sims):
    _, client = ship24
    refused = client.post("/tracking/search", json={"trackingNumber": UPS})
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "no_active_subscription"
    plan = make_sims(lambda cfg: (no_limits(cfg), setattr(cfg.ship24, "per_call_plan", True)))
    assert http.ship24(plan).post("/tracking/search", json={"trackingNumber": UPS}).status_code == 200


def test_resend_webhooks(ship24):
    _, client = ship24
    tracker_id = client.post("/trackers", json={"trackingNumber": "SHIP24_SAMPLE_DELIVERED_009"}).json()[
        "data"]["tracker"]["trackerId"]
    response = client.post(f"/trackers/{tracker_id}/webhook-events/resend")
    assert response.status_code == 201 and response.json()["data"]["summary"]["totalResent"] == 5


# Rate limits and faults --------------------------------------------------------------------------------------
def test_per_endpoint_limits_with_both_header_sets_and_plain_text_429(sims, http):
    client = http.ship24(sims)
    fresh_window()
    ok = client.get("/couriers")
    refused = client.get("/couriers")
    assert ok.status_code == 200 and refused.status_code == 429
    for response, remaining in ((ok, "0"), (refused, "0")):
        assert response.headers["RateLimit-Limit"] == response.headers["X-RateLimit-Limit"] == "1"
        assert response.headers["RateLimit-Remaining"] == response.headers["X-RateLimit-Remaining"] == remaining
        assert response.headers["RateLimit-Reset"] == "1"
        assert abs(int(response.headers["X-RateLimit-Reset"]) - time.time()) < 3
    assert refused.text == "Too many requests, please try again later."
    assert refused.headers["content-type"].startswith("text/plain") and refused.headers["Retry-After"] == "1"
    with pytest.raises(json.JSONDecodeError):
        refused.json()
    assert client.get("/trackers", params={"page": 1, "limit": 1}).status_code == 200  # another endpoint
    assert sims.ship24.log.rate_limited >= 1


def test_bulk_allows_three_per_second(http, make_sims):
    sims = make_sims()
    client = http.ship24(sims)
    fresh_window()
    statuses = [client.post("/trackers/bulk", json=[{"trackingNumber": UPS}]).status_code for _ in range(4)]
    assert statuses[:3] == [201, 201, 201] and statuses[3] == 429
    assert sims.ship24.log.max_rate_per_second >= 4


def test_default_per_endpoint_limit_is_ten_per_second(http, make_sims):
    sims = make_sims()
    client = http.ship24(sims)
    fresh_window()
    statuses = [client.get("/trackers", params={"page": 1, "limit": 1}).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]


@pytest.mark.parametrize("fault", ["error_5xx_rate", "reset_rate"])
def test_transport_faults(http, make_sims, fault):
    sims = make_sims(lambda cfg: setattr(cfg.ship24.faults, fault, 1.0))
    client = http.ship24(sims)
    if fault == "reset_rate":
        with pytest.raises(httpx.TransportError):
            client.get("/couriers")
        return
    response = client.get("/couriers")
    assert response.status_code >= 500 and response.json()["errors"][0]["code"] == "internal_error"
