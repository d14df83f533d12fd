"""The Ship24 simulator's `state_file`: trackers, quota used and clientTrackerId ownership survive a restart
(as the real Ship24's trackers do), timelines continue from the original createdAt, a corrupt file starts
empty. Real HTTP to real servers; the file is a real JSON file in tmp_path."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from desktop.sim import DEMO_KEYS, SimConfig
from desktop.sim.server import SimServer
from desktop.sim.ship24 import Ship24Service

UPS = "1Z4G7VSU1331706697"
FEDEX = "794644790132"
PLAIN = "SSQ7WK2M9XR4TB"  # not a sample number: its events come one per timeline step after creation


@contextmanager
def ship24(state_file: Path, quota: int | None = 1000) -> Iterator[tuple[SimServer, httpx.Client]]:
    """A Ship24 simulator keeping its state in `state_file` (same seed every time: a restart replays the
    same random tracker ids, which must not collide with the loaded ones), and a client for it."""
    cfg = SimConfig.for_tests().ship24
    cfg.rate_limits, cfg.quota, cfg.state_file = False, quota, str(state_file)
    server = SimServer(Ship24Service(cfg, seed=9)).start()
    client = httpx.Client(base_url=server.url + "/public/v1",
                          headers={"authorization": f"Bearer {DEMO_KEYS['ship24']}"}, timeout=10.0)
    try:
        yield server, client
    finally:
        client.close()
        server.stop()


def tracker_of(response: httpx.Response) -> dict:
    return response.json()["data"]["tracker"]


def test_trackers_and_quota_survive_a_restart(tmp_path):
    state = tmp_path / "ship24.json"
    first_payload = {"trackingNumber": UPS, "courierCode": ["ups"], "clientTrackerId": "ship-1"}
    with ship24(state, quota=4) as (server, client):
        first = tracker_of(client.post("/trackers", json=first_payload))
        bulk = client.post("/trackers/bulk", json=[{"trackingNumber": "SHIP24_SAMPLE_DELIVERED_001"},
                                                   {"trackingNumber": PLAIN, "clientTrackerId": "ship-3"}])
        assert bulk.status_code == 201
        sample_id, plain_id = (item["tracker"]["trackerId"] for item in bulk.json()["data"])
        patched = client.patch(f"/trackers/{plain_id}", json={"destinationPostCode": "SW1A 1AA"})
        assert patched.status_code == 200
        assert server.log.trackers_created == 3
    assert json.loads(state.read_text())["trackers_created"] == 3
    assert not list(tmp_path.glob("*.tmp"))  # the atomic write left no temporary file behind

    with ship24(state, quota=4) as (server, client):
        assert server.log.trackers_created == 3 and set(server.log.trackers) == {first["trackerId"], sample_id,
                                                                                  plain_id}
        again = client.post("/trackers", json=first_payload)
        assert again.status_code == 201 and tracker_of(again) == first  # same id and createdAt, no quota
        conflict = client.post("/trackers", json={"trackingNumber": FEDEX, "clientTrackerId": "ship-1"})
        assert conflict.status_code == 400 and conflict.json()["errors"][0]["code"] == "tracker_conflict"
        results = client.get(f"/trackers/{sample_id}/results").json()["data"]["trackings"][0]
        assert results["shipment"]["statusMilestone"] == "delivered"
        patched_results = client.get(f"/trackers/{plain_id}/results").json()["data"]["trackings"][0]
        assert patched_results["shipment"]["recipient"]["postCode"] == "SW1A 1AA"  # the PATCH was kept
        listed = client.get("/trackers").json()["data"]["trackers"]
        assert [t["trackerId"] for t in listed] == [first["trackerId"], sample_id, plain_id]
        new = tracker_of(client.post("/trackers", json={"trackingNumber": FEDEX}))
        assert new["trackerId"] not in {first["trackerId"], sample_id, plain_id}
        assert server.log.trackers_created == 4
        quota = client.post("/trackers", json={"trackingNumber": "SSZZ99YY88XX77"})
        assert quota.status_code == 403  # the quota counter was kept: 4 of 4 used
        listed = client.get("/trackers").json()["data"]["trackers"]
        assert [t["trackerId"] for t in listed][-1] == new["trackerId"]  # created after the loaded ones


def test_timelines_continue_from_the_original_creation_time(tmp_path):
    state = tmp_path / "ship24.json"
    with ship24(state) as (_, client):
        created = tracker_of(client.post("/trackers", json={"trackingNumber": PLAIN}))
        fresh = client.get(f"/trackers/{created['trackerId']}/results").json()["data"]["trackings"][0]
        assert fresh["events"] == []  # the first event comes a quarter step (1.5 h) after creation
    data = json.loads(state.read_text())
    data["trackers"][0]["created_at"] -= 3 * 86400  # as if registered three days ago
    state.write_text(json.dumps(data))
    with ship24(state) as (_, client):
        later = client.get(f"/trackers/{created['trackerId']}/results").json()["data"]["trackings"][0]
        assert later["tracker"]["createdAt"] < created["createdAt"]
        assert later["events"] and later["shipment"]["statusMilestone"] != "pending"


def test_a_corrupt_state_file_starts_empty_and_is_replaced(tmp_path, caplog):
    state = tmp_path / "ship24.json"
    state.write_text('{"version": 1, "trackers": [{"tracker_id": ')
    with caplog.at_level(logging.WARNING, logger="shipscan.sim"), ship24(state) as (server, client):
        assert server.log.trackers_created == 0 and server.service.trackers == {}
        assert any("corrupt" in r.getMessage() for r in caplog.records)
        assert client.post("/trackers", json={"trackingNumber": UPS}).status_code == 201
    assert json.loads(state.read_text())["trackers_created"] == 1


def test_a_missing_folder_is_created_and_state_file_survives_the_json_config(tmp_path):
    state = tmp_path / "new" / "folder" / "ship24.json"
    cfg = SimConfig()
    cfg.ship24.state_file = str(state)
    assert SimConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))).ship24.state_file == str(state)
    with ship24(state) as (_, client):
        assert client.post("/trackers", json={"trackingNumber": UPS}).status_code == 201
    assert len(json.loads(state.read_text())["trackers"]) == 1
