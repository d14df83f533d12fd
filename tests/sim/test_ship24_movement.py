"""Issue 15: the Ship24 simulator moves trackers through statuses over time, with exceptions and stalls.

Real HTTP to the simulator on loopback. `movement` is a SimConfig switch (rates, time scale, seeded), so
both ways are tested: on (journeys drawn per seed) and off (the older per-number journeys).
"""

from __future__ import annotations

import collections
import time

from desktop.sim import SimConfig
from desktop.sim.config import Ship24MovementConfig
from desktop.sim.ship24_progress import JOURNEYS, journey
from tests.sim.test_switch_coverage import no_limits

#: Plausible, non-dummy numbers (the simulator refuses consecutive digits).
NUMBERS = [f"1ZX{(i * 7919) % 100000:05d}{i:04d}QA" for i in range(80)]


def _moving(seed: int, scale: float):
    def tweak(cfg: SimConfig) -> None:
        no_limits(cfg)
        cfg.seed = seed
        cfg.ship24.timeline_step_seconds = 3600.0
        cfg.ship24.movement.enabled = True
        cfg.ship24.movement.time_scale = scale
        cfg.ship24.movement.exception_rate = 0.2
        cfg.ship24.movement.stall_after_label_rate = 0.1
        cfg.ship24.movement.stall_in_transit_rate = 0.1
    return tweak


def _milestones(client, ids: list[str]) -> list[str]:
    return [client.get(f"/trackers/{tid}/results").json()["data"]["trackings"][0]["shipment"]["statusMilestone"]
            for tid in ids]


def _create(client) -> list[str]:
    ids = []
    for number in NUMBERS:
        response = client.post("/trackers", json={"trackingNumber": number})
        assert response.status_code == 201, response.text
        ids.append(response.json()["data"]["tracker"]["trackerId"])
    return ids


def test_trackers_move_through_statuses_with_exceptions_and_stalls(http, make_sims):
    sims = make_sims(_moving(seed=3, scale=36_000.0))          # a 1-hour step every 0.1 s
    client = http.ship24(sims)
    ids = _create(client)
    time.sleep(0.8)                                             # every journey's last step (5 x 0.1 s) is out
    final = collections.Counter(_milestones(client, ids))
    assert final["delivered"] > 20 and final["exception"] >= 5, final
    assert final["info_received"] >= 2 and final["in_transit"] >= 2, final   # the two kinds of stall
    # Each tracker followed the journey its seed and number chose, in order.
    tid, number = ids[0], NUMBERS[0]
    events = client.get(f"/trackers/{tid}/results").json()["data"]["trackings"][0]["events"]
    steps = JOURNEYS[journey(number, 3 + 2, sims.ship24.service.config.movement)]
    assert len(events) == len(steps)


def test_without_time_scale_nothing_moves_yet(http, make_sims):
    sims = make_sims(_moving(seed=3, scale=1.0))                # real time: the first event after 15 minutes
    client = http.ship24(sims)
    ids = _create(client)[:10]
    time.sleep(0.3)
    assert set(_milestones(client, ids)) == {"pending"}


def test_journeys_are_deterministic_per_seed():
    movement = Ship24MovementConfig(enabled=True, exception_rate=0.2, stall_in_transit_rate=0.2)
    first = [journey(n, 5, movement) for n in NUMBERS]
    assert first == [journey(n, 5, movement) for n in reversed(NUMBERS)][::-1]
    assert first != [journey(n, 6, movement) for n in NUMBERS]
    assert {"delivered", "exception", "stall_in_transit"} <= set(first)


def test_rates_of_zero_deliver_everything_and_movement_off_keeps_the_old_journeys(http, make_sims):
    calm = Ship24MovementConfig(enabled=True, exception_rate=0, failed_attempt_rate=0, pickup_point_rate=0,
                                stall_after_label_rate=0, stall_in_transit_rate=0)
    assert {journey(n, 1, calm) for n in NUMBERS} == {"delivered"}
    sims = make_sims(lambda cfg: (no_limits(cfg), setattr(cfg.ship24, "timeline_step_seconds", 0.05)))
    client = http.ship24(sims)
    tid = client.post("/trackers", json={"trackingNumber": NUMBERS[0]}).json()["data"]["tracker"]["trackerId"]
    assert "steps" not in sims.ship24.service.trackers[tid].extra
