"""The registration worker's leases (issue 16): renewed while an attempt waits for a slow Ship24, so no
other worker (another process or desktop) takes the rows and sends them a second time."""

from __future__ import annotations

import asyncio
import time

import pytest

from desktop.clients.ship24 import Ship24Client
from desktop.core.registration import RegistrationWorker
from desktop.sim.config import LatencyConfig
from desktop.store import outbox
from tests.helpers.registration import SHIP24_KEY, add_shipment, numbers, ship24_sim


@pytest.fixture
def db(db_both):
    return db_both


def test_a_slow_attempt_keeps_its_rows_leased(db):
    ids = [add_shipment(n) for n in numbers(3)]
    stolen: list[list[int]] = []

    async def main(url: str):
        async with Ship24Client(url, SHIP24_KEY, timeout=30.0) as client:
            worker = RegistrationWorker(client, lease_seconds=0.6, bulk_min=2)
            drain = asyncio.ensure_future(worker.drain_once())
            await asyncio.sleep(1.5)                        # well past the first lease, mid-answer
            stolen.append([row.shipment_id for row in outbox.claim_due(time.time())])  # another worker
            return await drain

    with ship24_sim(latency=LatencyConfig(median_ms=2500.0, spread=0.0, tail_probability=0.0)) as sim:
        summary = asyncio.run(main(sim.url))
    assert stolen == [[]]
    assert summary.registered == 3 and sim.log.trackers_created == 3
    assert {outbox.registration_for(sid).state for sid in ids} == {"registered"}
