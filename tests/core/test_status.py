"""Tracking status refresh: results endpoint of the simulator -> ShipmentRow status columns."""

from __future__ import annotations

import asyncio

from desktop.clients.ship24 import Ship24Client, Tracker, TrackingEvent, TrackingResult
from desktop.core.events import ErrorReported, StatusRefreshed
from desktop.core.registration import RegistrationWorker
from desktop.core.status import StatusRefresher, status_fields
from desktop.store import outbox
from desktop.store.tables import RegistrationRow, ShipmentRow
from tests.helpers.recorder import Recorder
from tests.helpers.registration import SHIP24_KEY, add_shipment, numbers, ship24_sim


async def register_all(client: Ship24Client) -> None:
    await RegistrationWorker(client).drain_once()


def ship(sid: int) -> ShipmentRow:
    return ShipmentRow.get_by_id(sid)


def test_status_fields_from_a_result():
    result = TrackingResult(
        tracker=Tracker("t", "N"), milestone="out_for_delivery", status_code="delivery_out_for_delivery",
        status_category="delivery", expected_delivery="2026-12-01",
        events=(TrackingEvent("e2", "Out for delivery", "2026-11-30T08:00:00", "Leeds", "out_for_delivery",
                              None),
                TrackingEvent("e1", "Arrived", "2026-11-29T18:00:00", None, "in_transit", None)))
    assert status_fields(result) == {
        "milestone": "out_for_delivery", "status_text": "Out for delivery",
        "latest_event": "Out for delivery (Leeds)", "latest_event_at": "2026-11-30T08:00:00",
        "expected_delivery": "2026-12-01"}
    empty = TrackingResult(Tracker("t", "N"), None, None, None, None)
    assert status_fields(empty)["milestone"] == "pending" and status_fields(empty)["latest_event"] is None


def test_refresh_stores_milestones_and_skips_delivered_next_time(db):
    names = ["DELIVERED", "IN_TRANSIT", "EXCEPTION", "OUT_FOR_DELIVERY"]
    ids = {name: add_shipment(f"SHIP24_SAMPLE_{name}_007", courier_code=None) for name in names}
    fresh = add_shipment(numbers(1)[0], courier_code=None)
    waiting = add_shipment("SSWAITING1234", review_state="pending")
    events = Recorder()

    async def scenario(url):
        async with Ship24Client(url, SHIP24_KEY) as client:
            await register_all(client)
            refresher = StatusRefresher(client, events)
            first = await refresher.refresh()
            second = await refresher.refresh()
            everything = await refresher.refresh(include_final=True)
            return first, second, everything

    with ship24_sim() as sim:
        first, second, everything = asyncio.run(scenario(sim.url))
    assert (first.checked, first.changed, first.failed) == (5, 5, 0)
    assert (second.checked, second.changed) == (4, 0)  # delivered is final: not asked again
    assert everything.checked == 5
    assert ship(ids["DELIVERED"]).milestone == "delivered"
    assert ship(ids["DELIVERED"]).status_text == "Delivered"
    assert ship(ids["IN_TRANSIT"]).milestone == "in_transit"
    assert ship(ids["EXCEPTION"]).status_text == "Problem with the delivery"
    assert ship(ids["OUT_FOR_DELIVERY"]).latest_event == "Out for delivery"
    assert ship(ids["OUT_FOR_DELIVERY"]).latest_event_at
    assert ship(fresh).milestone == "pending" and ship(fresh).latest_event is None
    assert ship(waiting).milestone is None and ship(waiting).status_checked_at is None
    refreshed = [e for e in events if isinstance(e, StatusRefreshed)]
    assert [(e.checked, e.changed) for e in refreshed] == [(5, 5), (4, 0), (5, 0)]


def test_a_status_change_is_seen(db):
    sid = add_shipment(numbers(1)[0], courier_code=None)

    async def scenario(url, sim):
        async with Ship24Client(url, SHIP24_KEY) as client:
            await register_all(client)
            refresher = StatusRefresher(client)
            before = await refresher.refresh()
            sim.config.timeline_step_seconds = 1e-6  # the carrier scans the parcel
            after = await refresher.refresh()
            return before, after
    with ship24_sim() as sim:
        before, after = asyncio.run(scenario(sim.url, sim))
    assert before.changed == 1 and after.changed == 1
    assert ship(sid).milestone != "pending" and ship(sid).latest_event


def test_one_missing_tracker_does_not_stop_the_rest(db):
    ids = [add_shipment(n, courier_code=None) for n in numbers(3)]
    events = Recorder()

    async def scenario(url):
        async with Ship24Client(url, SHIP24_KEY) as client:
            await register_all(client)
            RegistrationRow.update(tracker_id="00000000-0000-4000-8000-000000000000").where(
                RegistrationRow.shipment == ids[1]).execute()
            return await StatusRefresher(client, events).refresh()
    with ship24_sim() as sim:
        summary = asyncio.run(scenario(sim.url))
    assert (summary.checked, summary.failed) == (2, 1)
    assert "has no tracker" in summary.errors[0]
    assert any(isinstance(e, ErrorReported) and e.where == "status" for e in events)
    assert ship(ids[1]).status_checked_at is None and ship(ids[0]).status_checked_at is not None


def test_refresh_of_many_stays_under_the_results_limit(db):
    ids = [add_shipment(n, courier_code=None) for n in numbers(25, seed=3)]

    async def scenario(url):
        async with Ship24Client(url, SHIP24_KEY) as client:
            await register_all(client)
            return await StatusRefresher(client, concurrency=8).refresh()
    with ship24_sim() as sim:
        summary = asyncio.run(scenario(sim.url))
        print(f"\nstatus refresh: {summary.checked} trackers, {sim.log.rate_limited} x 429, "
              f"max {sim.log.max_rate_per_second} req in any 1 s")
        assert sim.log.rate_limited == 0
    assert summary.checked == len(ids)


def test_scheduled_refresh_runs_until_stopped(db):
    add_shipment("SHIP24_SAMPLE_IN_TRANSIT_003", courier_code=None)
    events = Recorder()

    async def scenario(url):
        async with Ship24Client(url, SHIP24_KEY) as client:
            await register_all(client)
            stop = asyncio.Event()
            task = asyncio.create_task(StatusRefresher(client, events).run(stop, interval_seconds=0.05))
            while len([e for e in events if isinstance(e, StatusRefreshed)]) < 3:
                await asyncio.sleep(0.01)
            stop.set()
            await asyncio.wait_for(task, 5)
            await StatusRefresher(client).run(stop, interval_seconds=0)  # 0 = never: returns at once
    with ship24_sim() as sim:
        asyncio.run(scenario(sim.url))
    assert outbox.status_rows()[0]["milestone"] == "in_transit"
