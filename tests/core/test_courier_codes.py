"""Courier codes sent to Ship24 come from its live GET /couriers: a hint the list confirms, else the one
courier whose name is the shipment's carrier, else none (Ship24 detects it). Pure rules, then the worker
against the Ship24 simulator, whose courier list is its own data (not the app's table)."""

from __future__ import annotations

import asyncio

import pytest

from desktop.clients.errors import RateLimited
from desktop.clients.ship24 import Ship24Client
from desktop.core import requirements as req
from desktop.core.registration import RegistrationWorker
from desktop.core.tracking.couriers import COURIERS
from desktop.sim.ship24_data import COURIERS as SIM_COURIERS
from desktop.store import outbox, review
from tests.helpers.registration import SHIP24_KEY, add_shipment, numbers, ship24_sim

LIVE = req.parse_couriers([
    {"courierCode": "ups", "courierName": "UPS", "requiredFields": None, "isDeprecated": False},
    {"courierCode": "ca-post", "courierName": "Canada Post", "requiredFields": None},
    {"courierCode": "dhl", "courierName": "DHL"},
    {"courierCode": "dhl-de", "courierName": "DHL Paket"},
    {"courierCode": "dhl-other", "courierName": "D.H.L."},  # normalises to "dhl" too: ambiguous name
    {"courierCode": "lasership", "courierName": "LaserShip", "isDeprecated": True},
])


@pytest.mark.parametrize(("hints", "names", "expected"), [
    (["ups"], ["UPS"], ["ups"]),                                  # the hint is confirmed
    (["canada-post"], ["Canada Post"], ["ca-post"]),              # a wrong hint: found by name instead
    ([], [None, "Canada Post"], ["ca-post"]),                     # no hint; the engine's name matches
    (["not-a-code"], ["Nobody Express"], []),                     # unverified and unmatched: omitted
    (["lasership"], ["LaserShip"], []),                           # deprecated: Ship24 would ignore it
    ([], ["DHL"], []),                                            # two couriers of that name: let Ship24 decide
    (["dhl"], ["DHL"], ["dhl"]),                                  # ...unless the hint says which
    (["a", "ups", "ups"], [], ["ups"]),
])
def test_verified_codes(hints, names, expected):
    assert req.verified_codes(hints, names, LIVE) == expected


def test_without_the_list_no_code_is_sent():
    payload = {"trackingNumber": "1Z999AA10123456784", "courierCode": ["ups"], "clientTrackerId": "x"}
    assert req.verified_payload(payload, ["UPS"], None) == {"trackingNumber": "1Z999AA10123456784",
                                                           "clientTrackerId": "x"}
    assert req.verified_payload(payload, ["UPS"], LIVE) == payload


def test_the_simulators_list_is_its_own_data():
    """Not built from the app's table: for at least one app courier the simulator disagrees with the app's
    hint or name, so a guessed code or name would fail here, not on a real account."""
    sim_codes = {c[0]: c[1] for c in SIM_COURIERS}
    app_hints = {c.ship24_code for c in COURIERS.values() if c.ship24_code}
    assert app_hints <= set(sim_codes)  # the hints the app keeps are real codes in this list...
    disagreeing = [c.name for c in COURIERS.values()
                   if c.ship24_code is None and req.name_key(c.name) not in map(req.name_key, sim_codes.values())]
    assert disagreeing  # ...while some app names match nothing (e.g. "Canpar" vs "Canpar Express")


# -- the worker against the simulator ---------------------------------------------------------------------


def test_only_codes_the_live_list_confirms_are_sent(db):
    """Each shipment's courier hint and carrier name against the simulator's GET /couriers: what the tracker
    got is the confirmed code, the code found by name, or no code at all (no validation_error for a guess)."""
    a, b, c, d, e = numbers(5, seed=31)
    ids = {
        "ups": add_shipment(a),                                                          # hint confirmed
        "ca-post": add_shipment(b, courier="canada_post", courier_code="canada-post",
                                carrier="Canada Post"),                                  # by name
        "dhl": add_shipment(c, courier="dhl", courier_code=None, carrier="DHL Express"),  # engine name "DHL"
        "none-deprecated": add_shipment(d, courier="lasership", courier_code="lasership", carrier="LaserShip"),
        "none-unknown": add_shipment(e, courier="canpar", courier_code=None, carrier="Canpar"),
    }
    with ship24_sim() as sim:
        async def go(url):
            async with Ship24Client(url, SHIP24_KEY) as client:
                return await RegistrationWorker(client).drain_once()
        summary = asyncio.run(go(sim.url))
        assert summary.registered == 5 and sim.log.status_counts.get(400, 0) == 0
        sent = {name: sim.service.trackers[outbox.registration_for(sid).tracker_id].payload.get("courierCode")
                for name, sid in ids.items()}
    assert sent == {"ups": ["ups"], "ca-post": ["ca-post"], "dhl": ["dhl"], "none-deprecated": None,
                    "none-unknown": None}


def test_required_fields_follow_the_courier_found_by_name(db):
    """No hint, carrier "DPD": the live list names it and says it needs the destination postcode, so the
    worker asks for it instead of sending (the simulator in "reject" mode would refuse it anyway)."""
    sid = add_shipment(numbers(1, seed=32)[0], courier="dpd", courier_code=None, carrier="DPD")
    with ship24_sim(required_fields_mode="reject") as sim:
        async def go(url):
            async with Ship24Client(url, SHIP24_KEY) as client:
                worker = RegistrationWorker(client)
                await worker.drain_once()
                assert sim.log.create_requests == 0
                review.set_destination([sid], postcode="SW1A 1AA")
                await worker.drain_once()
        asyncio.run(go(sim.url))
        tracker = sim.service.trackers[outbox.registration_for(sid).tracker_id].payload
    assert [a.outcome for a in outbox.attempts_for(sid)] == ["needs_info", "registered"]
    assert tracker["courierCode"] == ["dpd"] and tracker["destinationPostCode"] == "SW1A 1AA"


def test_a_429_on_the_courier_list_is_waited_out_once():
    class Limited:
        calls = 0

        async def couriers(self):
            Limited.calls += 1
            if Limited.calls == 1:
                raise RateLimited("ship24", "Too many requests", 0.5)
            return [{"courierCode": "ups", "courierName": "UPS"}]

    cache = req.CourierRequirements(Limited())
    assert "ups" in asyncio.run(cache.current()) and (Limited.calls, cache.fetches) == (2, 2)
