"""Couriers' required fields: the pure check and message, and the worker's in-memory courier-list cache
(fetched lazily, kept for a configurable time) against the Ship24 simulator on loopback."""

from __future__ import annotations

import asyncio
import time

from desktop.clients.ship24 import Ship24Client
from desktop.core import requirements as req
from desktop.core.registration import RegistrationWorker
from desktop.store import outbox
from tests.helpers.registration import SHIP24_KEY, add_shipment, numbers, ship24_sim

COURIERS_ROUTE = "GET /public/v1/couriers"
LIST = [{"courierCode": "dpd", "courierName": "DPD", "requiredFields": ["destinationPostCode"]},
        {"courierCode": "landmark-global", "courierName": "Landmark Global",
         "requiredFields": ["destinationCountryCode"]},
        {"courierCode": "both", "courierName": "Both Express",
         "requiredFields": ["destinationPostCode", "destinationCountryCode", "shipmentReference"]},
        {"courierCode": "ups", "courierName": "UPS", "requiredFields": None},
        {"courierName": "no code"}, "junk"]


# -- pure ------------------------------------------------------------------------------------------------


def test_missing_fields_of_the_named_couriers():
    couriers = req.parse_couriers(LIST)
    assert set(couriers) == {"dpd", "landmark-global", "both", "ups"}
    assert req.missing({"trackingNumber": "X", "courierCode": ["ups"]}, couriers) == []
    assert req.missing({"trackingNumber": "X"}, couriers) == []
    assert req.missing({"courierCode": ["dpd"], "destinationPostCode": "SW1A 1AA"}, couriers) == []
    assert req.missing({"courierCode": "dpd"}, couriers) == [req.Missing("dpd", "DPD", "destinationPostCode")]
    assert req.missing({"courierCode": ["unknown-courier"]}, couriers) == []
    # shipmentReference is not something a person can add through set_destination: never asked for.
    assert [m.field for m in req.missing({"courierCode": ["both"]}, couriers)] == [
        "destinationPostCode", "destinationCountryCode"]


def test_message_names_the_field_and_the_carrier():
    couriers = req.parse_couriers(LIST)
    one = req.needs_info_message(req.missing({"courierCode": ["dpd"]}, couriers))
    assert one == ("The carrier needs more details before Ship24 can track it: DPD needs the destination "
                   "postcode. Add the destination postcode to the shipment; it is registered as soon as it "
                   "is saved.")
    two = req.needs_info_message(req.missing({"courierCode": ["both", "landmark-global"]}, couriers))
    assert "Both Express needs the destination postcode and the destination country" in two
    assert "Landmark Global needs the destination country" in two
    assert "Add the destination postcode and country to the shipment" in two


# -- the cache ---------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_courier_list_is_fetched_lazily_and_cached_for_the_ttl(db):
    clock = Clock()
    plain = add_shipment(numbers(1, seed=3)[0], courier_code=None)
    dpd_numbers = numbers(3, seed=4)

    async def scenario(url, sim):
        async with Ship24Client(url, SHIP24_KEY) as client:
            worker = RegistrationWorker(client, clock=clock, couriers_ttl=3600.0)
            await worker.drain_once()
            assert outbox.registration_for(plain).state == "registered"
            assert sim.log.requests_by_route[COURIERS_ROUTE] == 1  # its carrier name is matched on the list
            fetched = []
            for number, advance in zip(dpd_numbers, (0.0, 3599.0, 2.0), strict=True):
                clock.now += advance
                add_shipment(number, courier="dpd", courier_code="dpd", carrier="DPD")
                await worker.drain_once()
                fetched.append(sim.log.requests_by_route[COURIERS_ROUTE])
            return fetched
    with ship24_sim() as sim:
        assert asyncio.run(scenario(sim.url, sim)) == [1, 1, 2]  # refreshed only once the TTL ran out
        assert sim.log.trackers_created == 1 and sim.log.create_requests == 1
    kinds = [r.kind for r in outbox.queue_items()]
    assert kinds == ["needs_info"] * 3


def test_concurrent_drains_share_one_fetch_and_a_failure_waits_before_asking_again(db):
    clock = Clock()

    class Counting:
        calls = 0
        fail = False

        async def couriers(self):
            Counting.calls += 1
            await asyncio.sleep(0.01)
            if Counting.fail:
                raise RuntimeError("courier list broken")
            return LIST

    async def scenario():
        cache = req.CourierRequirements(Counting(), ttl=10.0, retry_seconds=60.0, clock=clock)
        first = await asyncio.gather(*(cache.current() for _ in range(5)))
        assert Counting.calls == 1 and all(r is first[0] for r in first) and "dpd" in first[0]
        clock.now += 11.0
        Counting.fail = True
        assert await cache.current() is None and Counting.calls == 2
        clock.now += 30.0
        assert await cache.current() is None and Counting.calls == 2  # not asked again on every drain
        clock.now += 31.0
        Counting.fail = False
        assert "dpd" in await cache.current() and Counting.calls == 3
    asyncio.run(scenario())
