"""Ship24 client: real HTTP to the simulator for behaviour, MockTransport for odd error bodies."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

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
from desktop.clients.ship24 import BULK_MAX, Ship24Client
from desktop.clients.ship24_models import parse_tracking
from tests.helpers.registration import SHIP24_KEY, numbers, ship24_sim


def payload(number: str, **extra) -> dict:
    return {"trackingNumber": number, "clientTrackerId": f"shipscan-{number.lower()}", **extra}


async def _with_client(url: str, coro, key: str = SHIP24_KEY, **kwargs):
    async with Ship24Client(url, key, **kwargs) as client:
        return await coro(client)


def run(url: str, coro, **kwargs):
    return asyncio.run(_with_client(url, coro, **kwargs))


# -- against the simulator ---------------------------------------------------------------------------------


def test_create_is_idempotent_and_free_the_second_time():
    number = numbers(1)[0]
    with ship24_sim() as sim:
        async def go(client):
            first = await client.create_tracker(payload(number, courierCode=["ups"]))
            again = await client.create_tracker(payload(number, courierCode=["ups"]))
            return first, again
        first, again = run(sim.url, go)
        assert first.tracker_id == again.tracker_id
        assert first.tracking_number == number and first.courier_codes == ("ups",)
        assert first.client_tracker_id == f"shipscan-{number.lower()}"
        assert sim.log.trackers_created == 1


def test_bulk_success_partial_and_all_failed():
    good = numbers(3)
    with ship24_sim() as sim:
        async def go(client):
            created = await client.create_trackers_bulk([payload(n) for n in good[:2]])
            partial = await client.create_trackers_bulk([payload(good[0]), payload("11111111"),
                                                         payload(good[2])])
            failed = await client.create_trackers_bulk([payload("TEST123"), payload("x")])
            return created, partial, failed
        created, partial, failed = run(sim.url, go)
    assert (created.http_status, created.status) == (201, "success")
    assert [i.status for i in created.items] == ["created", "created"]
    assert created.summary["totalCreated"] == 2
    assert (partial.http_status, partial.status) == (207, "partial")
    assert [i.status for i in partial.items] == ["existing", "error", "created"]
    bad = partial.items[1]
    assert not bad.ok and bad.code == "validation_error" and "dummy" in bad.message
    assert bad.client_tracker_id == "shipscan-11111111"
    assert partial.items[0].tracker.tracker_id == created.items[0].tracker.tracker_id
    assert (failed.http_status, failed.status) == (400, "error")
    assert failed.error.code == "processing_error"
    assert all(i.code == "validation_error" for i in failed.items)


def test_quota_exhausted_single_and_bulk():
    a, b, c = numbers(3)
    with ship24_sim(quota=1) as sim:
        async def go(client):
            await client.create_tracker(payload(a))
            with pytest.raises(ApiStatusError) as single:
                await client.create_tracker(payload(b))
            with pytest.raises(ApiStatusError) as bulk:
                await client.create_trackers_bulk([payload(b), payload(c)])
            return single.value, bulk.value
        single, bulk = run(sim.url, go)
    assert (single.status, single.code) == (403, "quota_limit_reached")
    assert (bulk.status, bulk.code) == (403, "quota_limit_reached")
    assert not single.temporary


def test_wrong_key_is_an_auth_error():
    with ship24_sim() as sim:
        async def go(client):
            await client.create_tracker(payload(numbers(1)[0]))
        with pytest.raises(AuthError) as info:
            run(sim.url, go, key="apik_wrong")
    assert info.value.code == "auth_invalid_api_key" and info.value.status == 401


def test_needs_postcode_and_conflict_codes_are_kept():
    a = numbers(1)[0]
    with ship24_sim(required_fields_mode="reject") as sim:  # a server that refuses a missing postcode
        async def go(client):
            with pytest.raises(ApiStatusError) as needs:
                await client.create_tracker(payload(a, courierCode=["dpd"]))
            await client.create_tracker(payload(a, orderNumber="1"))
            with pytest.raises(ApiStatusError) as conflict:
                await client.create_tracker(payload(a, destinationPostCode="SW1A 1AA"))
            return needs.value, conflict.value
        needs, conflict = run(sim.url, go)
    assert needs.code == "validation_error" and "destinationPostCode" in needs.detail
    assert (conflict.status, conflict.code) == (400, "tracker_conflict")


def test_results_and_not_found():
    with ship24_sim() as sim:
        async def go(client):
            tracker = await client.create_tracker(payload("SHIP24_SAMPLE_DELIVERED_001"))
            result = await client.tracker_results(tracker.tracker_id)
            by_client = await client.tracker_results("shipscan-ship24_sample_delivered_001", by_client_id=True)
            searched = await client.search_results("SHIP24_SAMPLE_DELIVERED_001")
            with pytest.raises(NotFound) as missing:
                await client.tracker_results("00000000-0000-4000-8000-000000000000")
            return result, by_client, searched, missing.value
        result, by_client, searched, missing = run(sim.url, go)
    assert result.milestone == "delivered" and result.latest_event is not None
    assert result.latest_event.milestone == "delivered"
    assert [e.order for e in result.events] == [5, 4, 3, 2, 1]  # as Ship24 sent them: newest first
    assert by_client.tracker.tracker_id == result.tracker.tracker_id
    assert [s.tracker.tracker_id for s in searched] == [result.tracker.tracker_id]
    assert missing.code == "tracker_not_found"


@pytest.mark.slow
def test_the_latest_event_is_ship24s_newest_not_the_latest_looking_local_time():
    """Issue 10: occurrenceDatetime is local time without an offset. Picked up in Shenzhen (+8 h), then
    arrived in the US (-5 h): the arrival's text looks 12 h older. Ship24's array order is the truth."""
    with ship24_sim() as sim:
        async def go(client):
            tracker = await client.create_tracker(payload("SHIP24_SAMPLE_IN_TRANSIT_004"))
            return await client.tracker_results(tracker.tracker_id)
        result = run(sim.url, go)
    latest = result.latest_event
    assert latest is not None and latest.status_code == "transit_arrival" == result.status_code
    assert latest.occurred_at < result.events[1].occurred_at  # what the old text sort got wrong
    assert [e.order for e in result.events] == [3, 2, 1]


def _event(event_id: str, at: str, order: int | None) -> dict:
    return {"eventId": event_id, "status": event_id, "occurrenceDatetime": at, "order": order}


def test_events_with_the_same_time_are_ordered_by_order():
    """The spec: `order` settles events with the same occurrenceDatetime (lower is older); otherwise the
    array's own order stands, whatever the times look like."""
    raw = {"tracker": {"trackerId": "t"}, "shipment": {},
           "events": [_event("b", "2026-03-04T10:00:00", 2), _event("c", "2026-03-04T10:00:00", 3),
                      _event("z", "2026-03-05T01:00:00", 1), _event("y", "2026-03-04T09:00:00", None),
                      _event("x", "2026-03-04T09:00:00", None)]}
    assert [e.event_id for e in parse_tracking(raw).events] == ["c", "b", "z", "y", "x"]


def test_update_tracker_by_client_id_and_its_lock():
    with ship24_sim(timeline_step_seconds=0.05) as sim:
        async def go(client):
            created = await client.create_tracker(payload("SSPATCH12345", courierCode=["ups"]))
            updated = await client.update_tracker(created.client_tracker_id, {"destinationPostCode": "10115"},
                                                  by_client_id=True)
            await asyncio.sleep(0.3)  # events appear: courier and destination are locked
            with pytest.raises(ApiStatusError) as locked:
                await client.update_tracker(created.tracker_id, {"courierCode": ["fedex"]})
            return created, updated, locked.value
        created, updated, locked = run(sim.url, go)
    assert updated.tracker_id == created.tracker_id
    assert (locked.status, locked.code) == (400, "tracker_not_updatable")


def test_keeps_under_the_per_second_limits_before_any_429():
    """30 single creates and 7 bulk calls fired at once: the client paces them, the simulator sends no 429."""
    nums = numbers(60, seed=5)
    with ship24_sim() as sim:
        async def go(client):
            await asyncio.gather(*(client.create_tracker(payload(n)) for n in nums[:30]))
            await asyncio.gather(*(client.create_trackers_bulk([payload(n)]) for n in nums[30:37]))
            return client.stats
        stats = run(sim.url, go)
        print(f"\nship24 pacing: max {sim.log.max_rate_per_second} req in any 1 s, "
              f"{sim.log.rate_limited} x 429, {stats.requests} requests")
        assert sim.log.rate_limited == 0 and stats.rate_limited == 0
        assert sim.log.trackers_created == 37


def test_transport_faults_become_typed_errors():
    with ship24_sim(faults={"timeout_rate": 1.0, "timeout_hold_seconds": 0.5}) as sim:
        with pytest.raises(ApiTimeout):
            run(sim.url, lambda c: c.create_tracker(payload(numbers(1)[0])), timeout=0.2)
    with ship24_sim(faults={"reset_rate": 1.0}) as sim:
        with pytest.raises(ApiConnectionError):
            run(sim.url, lambda c: c.create_tracker(payload(numbers(1)[0])))
    with ship24_sim(faults={"error_5xx_rate": 1.0}) as sim:
        with pytest.raises(ServerError) as info:
            run(sim.url, lambda c: c.create_trackers_bulk([payload(numbers(1)[0])]))
    assert info.value.temporary and info.value.status >= 500


def test_rejects_oversized_bulk_before_sending():
    async def go(client):
        with pytest.raises(ValueError):
            await client.create_trackers_bulk([payload(f"AB{i:08d}X") for i in range(BULK_MAX + 1)])
    run("http://127.0.0.1:9", go)


# -- odd answers through MockTransport ----------------------------------------------------------------------


def mock_client(handler) -> Ship24Client:
    return Ship24Client("https://api.ship24.test", SHIP24_KEY,
                        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


def call(handler, coro):
    async def go():
        client = mock_client(handler)
        try:
            return await coro(client), client
        finally:
            await client.aclose()
    return asyncio.run(go())


def test_plain_text_429_pauses_the_endpoint():
    def handler(request):
        return httpx.Response(429, text="Too many requests, please try again later.",
                              headers={"Retry-After": "2", "RateLimit-Remaining": "0"})

    async def go(client):
        with pytest.raises(RateLimited) as info:
            await client.create_tracker(payload("AB12345678"))
        return info.value, client.limiters["create"].delay()
    (error, delay), client = call(handler, go)
    assert error.retry_after == 2 and error.status == 429 and error.temporary
    assert "Too many requests" in error.detail
    assert delay > 1.0  # the next create waits for the announced window
    assert client.stats.rate_limited == 1


def test_remaining_zero_holds_the_next_request():
    def handler(request):
        body = {"data": {"tracker": {"trackerId": "t-1", "trackingNumber": "AB12345678"}}}
        return httpx.Response(201, json=body, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "1",
                                                       "X-RateLimit-Remaining": "0"})

    async def go(client):
        await client.create_tracker(payload("AB12345678"))
        return client.limiters["create"].delay(), client.limiters["results"].delay()
    (create_delay, other_delay), _ = call(handler, go)
    assert create_delay > 0.5 and other_delay == 0


def test_a_first_429_without_budget_headers_holds_the_endpoint_only_for_its_retry_after():
    """A proxy's bare 429 (Retry-After only) answers the first request to the couriers endpoint (1/s):
    the retry goes once the pause and the window it opened are over, instead of waiting for ever for an
    answer that would name the window."""
    answers = iter([httpx.Response(429, text="Too many requests", headers={"Retry-After": "1"}),
                    httpx.Response(200, json={"data": {"couriers": [{"courierCode": "ups"}]}})])

    def handler(request):
        return next(answers)

    async def go(client):
        with pytest.raises(RateLimited):
            await client.couriers()
        return await asyncio.wait_for(client.couriers(), 5)
    couriers, client = call(handler, go)
    assert couriers == [{"courierCode": "ups"}] and client.stats.requests == 2


def test_legacy_reset_header_is_an_epoch():
    import time

    def handler(request):
        body = {"data": {"tracker": {"trackerId": "t-1", "trackingNumber": "AB12345678"}}}
        return httpx.Response(201, json=body, headers={"X-RateLimit-Remaining": "0",
                                                       "X-RateLimit-Reset": str(int(time.time()) + 3)})

    async def go(client):
        await client.create_tracker(payload("AB12345678"))
        return client.limiters["create"].delay()
    delay, _ = call(handler, go)
    assert 1.0 < delay <= 3.5


@pytest.mark.parametrize(("status", "body", "error", "code"), [
    (403, {"status": "error", "summary": None, "data": None,
           "error": {"code": "bulk_create_limit_exceeded", "message": "at most 100"}},
     ApiStatusError, "bulk_create_limit_exceeded"),
    (405, {"status": "error", "summary": None, "data": None,
           "error": {"code": "quota_limit_reached", "message": "No more quota left."}},
     ApiStatusError, "quota_limit_reached"),
    (400, {"errors": [{"code": "auth_missing_header", "message": "missing"}], "data": None},
     AuthError, "auth_missing_header"),
    (502, "<html>Bad gateway</html>", ServerError, None),
])
def test_bulk_error_answers(status, body, error, code):
    def handler(request):
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    async def go(client):
        with pytest.raises(error) as info:
            await client.create_trackers_bulk([payload("AB12345678")])
        return info.value
    exc, _ = call(handler, go)
    assert exc.status == status and exc.code == code


def test_bulk_207_items_are_matched_to_inputs():
    def handler(request):
        items = json.loads(request.content)
        assert request.headers["content-type"].startswith("application/json")
        assert request.headers["authorization"] == f"Bearer {SHIP24_KEY}"
        return httpx.Response(207, json={"status": "partial", "summary": {"totalInputs": 2}, "error": None,
                                         "data": [
            {"itemStatus": "existing", "inputData": items[0], "errors": None,
             "tracker": {"trackerId": "t-0", "trackingNumber": items[0]["trackingNumber"],
                         "courierCode": "ups"}},
            {"itemStatus": "error", "inputData": items[1], "tracker": None,
             "errors": [{"code": "validation_error", "message": "bad"},
                        {"code": "validation_error", "message": "worse"}]}]})

    async def go(client):
        return await client.create_trackers_bulk([payload("AB12345678"), payload("CD12345678")])
    result, client = call(handler, go)
    assert result.items[0].ok and result.items[0].tracker.courier_codes == ("ups",)
    assert result.items[1].message == "bad; worse" and result.items[1].client_tracker_id == "shipscan-cd12345678"
    assert client.stats.existing == 1


def test_success_without_json_is_malformed():
    def handler(request):
        return httpx.Response(201, text="ok")

    async def go(client):
        with pytest.raises(MalformedResponse):
            await client.create_tracker(payload("AB12345678"))
    call(handler, go)


def test_announced_limit_sets_the_pace():
    def handler(request):
        body = {"data": {"tracker": {"trackerId": "t-1", "trackingNumber": "AB12345678"}}}
        return httpx.Response(201, json=body, headers={"RateLimit-Limit": "4", "RateLimit-Remaining": "3"})

    async def go(client):
        assert client.limiters["create"].limit is None      # one request goes alone until the answer says
        await client.create_tracker(payload("AB12345678"))
        return client.limiters["create"].limit
    limit, _ = call(handler, go)
    assert limit == 4


def test_tight_simulator_limits_cause_no_429():
    nums = numbers(6, seed=12)
    with ship24_sim(per_second_default=3) as sim:
        run(sim.url, lambda c: asyncio.gather(*(c.create_tracker(payload(n)) for n in nums)))
        assert sim.log.rate_limited == 0 and sim.log.trackers_created == 6


def test_track_list_and_couriers():
    with ship24_sim() as sim:
        async def go(client):
            result = await client.track(payload("SHIP24_SAMPLE_OUT_FOR_DELIVERY_004"))
            again = await client.track(payload("SHIP24_SAMPLE_OUT_FOR_DELIVERY_004"))
            page = await client.list_trackers(page=1, limit=10)
            couriers = await client.couriers()
            return result, again, page, couriers
        result, again, page, couriers = run(sim.url, go)
        assert sim.log.trackers_created == 1
    assert result.milestone == "out_for_delivery" and result.latest_event.status == "Out for delivery"
    assert again.tracker.tracker_id == result.tracker.tracker_id
    assert [t.tracker_id for t in page] == [result.tracker.tracker_id]
    dpd = next(c for c in couriers if c["courierCode"] == "dpd")
    assert dpd["requiredFields"] == ["destinationPostCode"]
