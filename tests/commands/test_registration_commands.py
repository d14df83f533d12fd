"""`shipscan queue`, `retry` and `status`, and a registration process killed with SIGKILL mid-flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from desktop.store import outbox
from desktop.store.tables import RegistrationRow
from tests.helpers.registration import (
    SHIP24_KEY,
    add_shipment,
    numbers,
    open_tmp_db,
    ship24_sim,
    shipscan,
    shipscan_command,
)


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "shipscan.sqlite3"
    database = open_tmp_db(tmp_path)
    yield path
    database.close()


@pytest.fixture
def ship24_env(monkeypatch):
    def point_at(url: str) -> None:
        monkeypatch.setenv("SHIP24_API_KEY", SHIP24_KEY)
        monkeypatch.setenv("SHIP24_API_URL", url)
        monkeypatch.setenv("FRONT_API_TOKEN", "unused-by-these-commands")
    return point_at


def out_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_queue_lists_what_waits_and_why(db_path, capsys):
    ok, bad, hand = (add_shipment(n) for n in numbers(3))
    waiting = add_shipment("SSWAITING1234", review_state="pending")
    outbox.record_attempt(outbox.registration_for(ok).id, outcome="registered", state="registered",
                          tracker_id="trk")
    outbox.record_attempt(outbox.registration_for(bad).id, outcome="permanent", state="failed",
                          kind="permanent", message="Ship24 rejected the number: dummy.")
    assert shipscan(["queue", "--json", "--db", str(db_path)]) == 0
    report = out_json(capsys)
    items = {i["shipment_id"]: i for i in report["items"]}
    assert set(items) == {bad, hand, waiting}
    assert items[bad]["reason"] == "Ship24 rejected the number: dummy."
    assert items[hand]["reason"] == "Ready to register."
    assert items[waiting]["state"] == "waiting_approval"
    assert report["counts"]["registered"] == 1 and report["paused"] is False
    assert shipscan(["queue", "--db", str(db_path)]) == 0
    text = capsys.readouterr().out
    assert "Ship24 rejected the number: dummy." in text and "Waiting for someone to approve" in text


def test_queue_shows_a_pause(db_path, capsys):
    add_shipment(numbers(1)[0])
    outbox.pause_all("Ship24 quota used up: upgrade the plan.")
    shipscan(["queue", "--db", str(db_path)])
    assert "Registration is PAUSED: Ship24 quota used up" in capsys.readouterr().out


def test_retry_reports_each_outcome(db_path, capsys, ship24_env):
    good = add_shipment(numbers(1)[0])
    dummy = add_shipment("11111111")
    dpd = add_shipment(numbers(2)[1], courier="dpd", courier_code="dpd", carrier="DPD")
    RegistrationRow.update(next_attempt_at=4e9).execute()  # deep in backoff: retry ignores that
    with ship24_sim() as sim:
        ship24_env(sim.url)
        code = shipscan(["retry", "--all", "--json", "--db", str(db_path)])
        report = out_json(capsys)
        assert code == 1  # some still wait
        items = {i["shipment_id"]: i for i in report["items"]}
        assert items[good]["state"] == "registered"
        assert (items[dummy]["state"], items[dummy]["kind"]) == ("failed", "permanent")
        assert items[dummy]["reason"].startswith("Ship24 rejected the number")
        assert (items[dpd]["state"], items[dpd]["kind"]) == ("failed", "needs_info")
        assert report["summary"]["registered"] == 1
        # Retrying one id again, plus one that is not retryable.
        assert shipscan(["retry", str(good), str(dummy), "--db", str(db_path)]) == 1
        text = capsys.readouterr().out
        assert f"#{good:<6} not retried" in text and "Ship24 rejected the number" in text
        assert sim.log.trackers_created == 1


def test_retry_needs_ids_or_all_and_a_key(db_path, capsys):
    assert shipscan(["retry", "--db", str(db_path)]) == 2
    assert shipscan(["retry", "--all", "--db", str(db_path)]) == 2
    assert "SHIP24_API_KEY" in capsys.readouterr().err


def test_status_refresh_stores_milestones(db_path, capsys, ship24_env):
    # Ship24's sample numbers (with their underscores) have scripted timelines.
    delivered = add_shipment("SHIP24_SAMPLE_DELIVERED_002", courier_code=None)
    sample = add_shipment("SSFRESH123456", courier_code=None)
    with ship24_sim() as sim:
        ship24_env(sim.url)
        shipscan(["retry", "--all", "--db", str(db_path)])
        capsys.readouterr()
        assert shipscan(["status", "--refresh", "--json", "--db", str(db_path)]) == 0
        report = out_json(capsys)
    assert report["refresh"]["checked"] == 2 and report["refresh"]["changed"] == 2
    rows = {r["shipment_id"]: r for r in report["shipments"]}
    assert rows[delivered]["milestone"] == "delivered" and rows[delivered]["status_text"] == "Delivered"
    assert rows[delivered]["latest_event"] and rows[delivered]["latest_event_at"]
    assert rows[sample]["milestone"] == "pending"
    assert shipscan(["status", "--db", str(db_path)]) == 0
    assert "Delivered" in capsys.readouterr().out


# -- SIGKILL while registering ------------------------------------------------------------------------------

WORKER_SCRIPT = """
import asyncio, sys
from desktop.clients.ship24 import Ship24Client
from desktop.core.registration import RegistrationWorker
from desktop.store import outbox
from desktop.store.db import open_database

open_database(sys.argv[1])

async def main():
    async with Ship24Client(sys.argv[2], "SHIP24_KEY") as client:
        worker = RegistrationWorker(client, lease_seconds=1.0, batch_limit=10)
        while any(i.state == "queued" for i in outbox.queue_items()):
            await worker.drain_once()
            await asyncio.sleep(0.05)

asyncio.run(main())
""".replace("SHIP24_KEY", SHIP24_KEY)


def slow_answer_sim(delay: float):
    """The simulator answering creates `delay` s AFTER it created the trackers: a kill in that window
    loses the answer of work Ship24 has done (the case idempotency must make free)."""
    from desktop.sim.config import SimConfig
    from desktop.sim.server import SimServer
    from desktop.sim.ship24 import Ship24Service

    class SlowAnswer(Ship24Service):
        def finalize(self, request, response):
            if request.method == "POST":
                time.sleep(delay)
            return super().finalize(request, response)

    return SimServer(SlowAnswer(SimConfig.for_tests().ship24, seed=3)).start()


def registered() -> int:
    return RegistrationRow.select().where(RegistrationRow.state == "registered").count()


def kill_when(proc: subprocess.Popen, sim, created_at_least: int) -> None:
    """SIGKILL `proc` right after the simulator created trackers (their answer is still on its way)."""
    deadline = time.monotonic() + 60
    while sim.log.trackers_created < created_at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the worker never got going"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_sigkill_while_registering_loses_nothing_and_duplicates_nothing(db_path, tmp_path):
    ids = [add_shipment(n) for n in numbers(45, seed=4)]
    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT)
    sim = slow_answer_sim(0.3)
    try:
        figures = []
        for threshold in (5, 25):
            proc = subprocess.Popen([sys.executable, str(script), str(db_path), sim.url],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            kill_when(proc, sim, threshold)
            leased = RegistrationRow.select().where(RegistrationRow.lease_until.is_null(False)
                                                    & (RegistrationRow.state == "queued")).count()
            figures.append((sim.log.trackers_created, registered(), leased))
            # Ship24 created trackers whose answers died with the process; their rows are still leased.
            assert sim.log.trackers_created > registered() and leased > 0
        done = subprocess.run([sys.executable, str(script), str(db_path), sim.url], capture_output=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr.decode()
        print(f"\nSIGKILL rounds (created at Ship24, registered in db, leased): {figures}; "
              f"final {sim.log.trackers_created} trackers, {sim.log.create_requests} create requests")
        assert registered() == len(ids)
        assert sim.log.trackers_created == len(ids) == len(sim.service.trackers)
        for sid in ids:
            reg = outbox.registration_for(sid)
            assert sim.service.trackers[reg.tracker_id].client_tracker_id == reg.client_tracker_id
    finally:
        sim.stop()


@pytest.mark.slow
def test_sigkill_during_shipscan_retry_then_retry_again(db_path, ship24_env, capsys):
    ids = [add_shipment(n) for n in numbers(40, seed=8)]
    sim = slow_answer_sim(0.5)
    try:
        ship24_env(sim.url)
        proc = subprocess.Popen(shipscan_command(["retry", "--all", "--db", str(db_path)]),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
        kill_when(proc, sim, 40)  # the whole bulk call was processed; its answer never arrived
        assert registered() == 0
        again = subprocess.run(shipscan_command(["retry", "--all", "--json", "--db", str(db_path)]),
                               capture_output=True, timeout=120, env=os.environ.copy())
        assert again.returncode == 0, again.stderr.decode()
        report = json.loads(again.stdout)
        assert {i["state"] for i in report["items"]} == {"registered"} and len(report["items"]) == 40
        assert registered() == 40
        assert sim.log.trackers_created == 40 == len(sim.service.trackers)
        assert [a.outcome for a in outbox.attempts_for(ids[0])] == ["existing"]
    finally:
        sim.stop()


def test_demo_retry_uses_the_built_in_simulator(capsys):
    """`--demo`: open_services starts the simulators and uses the demo database."""
    from desktop import paths
    from desktop.store.db import open_database

    database = open_database(paths.demo_db_path())
    ids = [add_shipment(n) for n in numbers(3, seed=21)]
    database.close()
    assert shipscan(["retry", "--all", "--demo", "--json"]) == 0
    report = out_json(capsys)
    assert sorted(i["shipment_id"] for i in report["items"]) == ids
    assert {i["state"] for i in report["items"]} == {"registered"}
    assert shipscan(["queue", "--demo", "--json"]) == 0
    assert out_json(capsys)["counts"]["registered"] == 3


# -- issue 13: `retry ID...` retries exactly those ids ---------------------------------------------------------


def test_retry_of_an_unknown_id_registers_nothing(db_path, capsys, ship24_env):
    """Probe: `retry 999999` billed every due tracker while saying "#999999 not retried"."""
    due = [add_shipment(n) for n in numbers(3, seed=13)]
    with ship24_sim() as sim:
        ship24_env(sim.url)
        assert shipscan(["retry", "999999", "--json", "--db", str(db_path)]) == 1
        report = out_json(capsys)
        assert sim.log.create_requests == 0 and sim.log.trackers_created == 0
    assert report["not_retryable"] == [999999] and report["summary"]["attempted"] == 0
    assert {outbox.registration_for(sid).state for sid in due} == {"queued"}
    assert {outbox.registration_for(sid).attempts for sid in due} == {0}


def test_retry_of_some_ids_attempts_only_those(db_path, capsys, ship24_env):
    """Probe: `retry 1 2 3` attempted every due row (231), not the three."""
    first, second, *others = [add_shipment(n) for n in numbers(6, seed=14)]
    with ship24_sim() as sim:
        ship24_env(sim.url)
        assert shipscan(["retry", str(first), str(second), "--json", "--db", str(db_path)]) == 0
        report = out_json(capsys)
        assert sim.log.trackers_created == 2
    assert report["summary"]["attempted"] == 2
    assert {i["shipment_id"] for i in report["items"]} == {first, second}
    assert {outbox.registration_for(sid).state for sid in others} == {"queued"}
