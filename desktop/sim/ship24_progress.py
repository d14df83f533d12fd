"""Ship24 double, movement: which journey a new tracker takes, and how fast simulated time runs.

Pure code (no HTTP, no clock): `ship24.py` calls `plan()` when it creates a tracker and `step_seconds()`
wherever it turns elapsed time into events. A journey is a list of step keys of `ship24_data._STEPS`,
kept in `tracker.extra["steps"]` so it survives a restart of the simulator with its state file.

Contracts:
- `plan()` is deterministic per (seed, tracking number): the same seed gives the same journeys in any
  order of creation; another seed gives other journeys with the same rates.
- Sample numbers (SHIP24_SAMPLE_...) and trackers that can never find results keep their own behaviour
  (`plan` leaves them alone); so does everything while `movement.enabled` is off.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

#: Journey name -> its steps, oldest first. "delivered" takes whatever probability the rates leave.
JOURNEYS: dict[str, tuple[str, ...]] = {
    "delivered": ("info", "pickup", "arrival", "ofd", "delivered"),
    "exception": ("info", "pickup", "exception"),
    "failed_attempt": ("info", "pickup", "arrival", "ofd", "failed"),
    "pickup_point": ("info", "pickup", "arrival", "pickup_point"),
    "stall_after_label": ("info",),
    "stall_in_transit": ("info", "pickup", "arrival"),
}
#: Journey name -> its rate's name in Ship24MovementConfig (the order in which the draw is split).
_RATES = (("exception", "exception_rate"), ("failed_attempt", "failed_attempt_rate"),
          ("pickup_point", "pickup_point_rate"), ("stall_after_label", "stall_after_label_rate"),
          ("stall_in_transit", "stall_in_transit_rate"))


def journey(number: str, seed: int, movement: Any) -> str:
    """The journey name for `number` under `seed` and the rates of `movement` (a Ship24MovementConfig)."""
    digest = hashlib.sha256(f"{seed}:{number.upper()}".encode()).digest()
    roll = random.Random(int.from_bytes(digest[:8], "big")).random()
    bound = 0.0
    for name, rate in _RATES:
        bound += max(0.0, float(getattr(movement, rate)))
        if roll < bound:
            return name
    return "delivered"


def plan(tracker: Any, seed: int, movement: Any, sample: bool) -> None:
    """Give a NEW tracker its journey (in `tracker.extra`), when movement is on and it is not a sample
    number nor a tracker without a courier's required field."""
    if not movement.enabled or sample or tracker.extra.get("missing_required"):
        return
    name = journey(tracker.tracking_number, seed, movement)
    tracker.extra["journey"] = name
    tracker.extra["steps"] = list(JOURNEYS[name])


def step_seconds(timeline_step_seconds: float, movement: Any) -> float:
    """Real seconds between two events of a journey: the configured step divided by the time scale
    (only while movement is on; a non-positive scale counts as 1)."""
    scale = float(movement.time_scale) if movement.enabled and movement.time_scale > 0 else 1.0
    return timeline_step_seconds / scale
