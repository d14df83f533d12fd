"""Ship24 double, persistence: the trackers (and the quota used) in a JSON file, so they outlive a restart.

The real Ship24 keeps trackers for ever; the demo keeps its database across runs, so its simulator must keep
its trackers too, or `status --refresh` finds "no tracker" for everything registered in an earlier run.

File format (version 1)::

    {"version": 1, "trackers_created": 12, "seq": 12,
     "trackers": [{"tracker_id": ..., "tracking_number": ..., "payload": {...}, "created_at": 1.7e9,
                   "seq": 1, "is_subscribed": true, "resent": 0, "extra": {...}}, ...]}

The payload is the create body as received, so idempotent re-create matching and clientTrackerId ownership
work as before; `created_at` is the original epoch, so result timelines continue from it.
Writes are atomic (a temporary file in the same folder, then `os.replace`): a crash mid-write leaves the
previous state intact. Pure code, no HTTP; `ship24.py` calls it under the service's lock.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.sim.ship24_data import Tracker

log = logging.getLogger("shipscan.sim")

VERSION = 1


@dataclass
class State:
    """What a Ship24 simulator keeps across restarts."""

    trackers: dict[str, Tracker] = field(default_factory=dict)
    trackers_created: int = 0  # quota used
    seq: int = 0  # the highest creation sequence number handed out (orders list/search results)


def load(path: str | Path) -> State:
    """The state saved in `path`; an empty State if the file does not exist, or (with a warning) if it
    cannot be read or parsed -- a broken file must not stop the simulator from starting."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return State()
    except OSError as error:
        log.warning("Ship24 simulator: cannot read its state file %s (%s); starting empty", path, error)
        return State()
    try:
        return _from_json(json.loads(raw))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        log.warning("Ship24 simulator: state file %s is corrupt (%s); starting empty, it will be replaced",
                    path, error)
        return State()


def save(path: str | Path, trackers: dict[str, Tracker], trackers_created: int, seq: int) -> None:
    """Write the state to `path` atomically. Failures are logged (the simulator keeps serving from memory)."""
    path = Path(path)
    data = json.dumps(_to_json(State(trackers, trackers_created, seq)), separators=(",", ":"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A unique temporary name in the same folder: os.replace is atomic only within one file system.
        handle, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as error:
        log.warning("Ship24 simulator: cannot save its state file %s (%s)", path, error)


def _to_json(state: State) -> dict[str, Any]:
    trackers = [{"tracker_id": t.tracker_id, "tracking_number": t.tracking_number, "payload": t.payload,
                 "created_at": t.created_at, "seq": t.seq, "is_subscribed": t.is_subscribed,
                 "resent": t.resent, "extra": t.extra} for t in state.trackers.values()]
    return {"version": VERSION, "trackers_created": state.trackers_created, "seq": state.seq,
            "trackers": trackers}


def _from_json(data: Any) -> State:
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError(f"not a version {VERSION} state object")
    trackers: dict[str, Tracker] = {}
    for item in data["trackers"]:
        payload = item["payload"]
        if not isinstance(payload, dict):
            raise ValueError("a tracker's payload is not an object")
        tracker = Tracker(str(item["tracker_id"]), str(item["tracking_number"]), payload,
                          float(item["created_at"]), int(item["seq"]), bool(item["is_subscribed"]),
                          int(item.get("resent", 0)), dict(item.get("extra") or {}))
        trackers[tracker.tracker_id] = tracker
    seq = max([int(data.get("seq", 0)), *(t.seq for t in trackers.values())])
    return State(trackers, int(data["trackers_created"]), seq)
