"""Team mode (issue 16, item 2): several `shipscan scan` processes on ONE database over the same range.

Real processes (`python -m desktop scan --json`) against ONE set of simulators in this process (their own
counters are the evidence), on SQLite and PostgreSQL (`db_target`):
- two scans started together share the work: every conversation's messages are fetched once in all, the
  LLM is asked once per conversation, the two runs' counts add up to one full scan, and two registration
  workers started together then register every shipment exactly once;
- a scan SIGKILLed mid-run loses nothing and duplicates nothing: its claims are taken up (at once on this
  machine, where its pid is seen dead; after the lease from another desktop) and a new scan finishes.

Why "fetched once in all" is read from the total: the listing holds each conversation once, every committed
conversation was fetched at least once, and a 429 (which would repeat a fetch) fails the test by itself.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import generate_workspace
from desktop.store import claims
from desktop.store.db import close_database, open_database
from desktop.store.tables import ConversationRow, RegistrationRow, ShipmentRow
from tests.helpers.procs import kill_tree, tree_env, wait_until

CONVERSATIONS = 80
LEASE = "3"


@pytest.fixture
def team(db_target):
    """(simulators, environment for the CLI, scan command, open database) over a fresh `db_target`."""
    ws = generate_workspace(seed=23, conversations=CONVERSATIONS)
    cfg = SimConfig.for_tests()
    cfg.front.rate_limit_per_minute, cfg.front.window_seconds = 150, 1.0
    cfg.openai.window_seconds = 3.0
    cfg.openai.latency.median_ms = 150.0      # conversations stay in flight: the two scans overlap
    database = open_database(db_target)       # migrated once, before the processes race to open it
    marker, env = tree_env()
    with start_simulators(ws, cfg) as sims:
        env.update({"FRONT_API_TOKEN": DEMO_KEYS["front"], "FRONT_API_URL": sims.front_url,
                    "OPENAI_API_KEY": DEMO_KEYS["openai"], "OPENAI_BASE_URL": sims.openai_url,
                    "SHIP24_API_KEY": DEMO_KEYS["ship24"], "SHIP24_API_URL": sims.ship24_url,
                    "SHIPSCAN_DB": str(db_target)})
        times = [m.created_at for c in ws.conversations for m in c.messages]
        since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(min(times) - 1))
        until = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(max(times) + 2))
        command = ["scan", "--since", since, "--until", until, "--batch-size", "5", "--concurrent-batches", "2",
                   "--json", "--db", str(db_target)]
        try:
            yield sims, env, command
        finally:
            kill_tree(marker)
            close_database(database)


def _start(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "desktop", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _summary(process: subprocess.Popen, codes: tuple[int, ...] = (0,)) -> dict:
    out, err = process.communicate(timeout=90)
    assert process.returncode in codes, err[-2000:]
    return json.loads(out)


def _scanned_conversations() -> int:
    return ConversationRow.select().where(ConversationRow.scan_state.in_(("ok", "no_shipments"))).count()


def _sent_to_ship24(sims) -> int:
    """Trackers the app asked Ship24 to create: single creates plus the items of bulk creates."""
    log = sims.ship24.log
    singles = sum(n for route, n in log.requests_by_route.items()
                  if route.startswith("POST ") and route.endswith(("/trackers", "/trackers/track")))
    return singles + log.bulk_items


@pytest.mark.slow
def test_two_scans_at_once_share_the_work_and_register_each_shipment_once(team):
    sims, env, command = team
    summaries = [_summary(p) for p in [_start(env, *command), _start(env, *command)]]
    listed = summaries[0]["conversations_listed"]
    fetches, llm_calls = sims.front.log.message_fetches, sims.openai.log.calls
    print(f"\ntwo scans of {listed}: scanned {[s['conversations_scanned'] for s in summaries]}, claimed "
          f"elsewhere {[s['claimed_elsewhere'] for s in summaries]}, unchanged "
          f"{[s['conversations_unchanged'] for s in summaries]}; {fetches} fetches, {llm_calls} LLM calls")
    assert listed == summaries[1]["conversations_listed"] > 0
    for s in summaries:
        assert s["state"] == "completed" and s["conversations_failed"] == 0 and s["front_429s"] == 0
        assert s["conversations_scanned"] + s["conversations_unchanged"] + s["claimed_elsewhere"] == listed
        assert s["conversations_scanned"] > 0                                  # both worked: they overlapped
    assert _scanned_conversations() == listed
    assert fetches == listed == sum(s["conversations_scanned"] for s in summaries)
    assert llm_calls == sum(s["llm_calls"] for s in summaries)
    assert llm_calls == listed - sum(s["llm_skipped_by_prefilter"] for s in summaries)
    shipments = ShipmentRow.select().count()
    assert shipments == sum(s["shipments_new"] for s in summaries) > 0
    queued = sum(s["registrations_queued"] for s in summaries)
    assert queued > 0 and RegistrationRow.select().count() == shipments
    assert claims.ScanClaimRow.select().count() == 0                           # every claim ended

    workers = [_start(env, "retry", "--all", "--json", "--db", command[-1]) for _ in range(2)]
    for worker in workers:
        _summary(worker, codes=(0, 1))    # 1: rows held by the other worker still waited when it ended
    rows = [(row.state, row.kind) for row in RegistrationRow.select(RegistrationRow.state, RegistrationRow.kind)]
    registered = rows.count(("registered", None))
    needs_info = rows.count(("failed", "needs_info"))         # a courier needs a postcode: never sent
    print(f"registrations: {registered} registered, {needs_info} need info, {sims.ship24.log.trackers_created} "
          f"trackers, {_sent_to_ship24(sims)} sent")
    assert registered + needs_info == queued
    assert registered == sims.ship24.log.trackers_created == _sent_to_ship24(sims) > 0


def _victim_state(pid: int) -> tuple[int | None, list[str], int]:
    """(run id, conversations claimed, conversations committed) of the scan process `pid`."""
    rows = [row for row in claims.ScanClaimRow.select() if row.owner.startswith(f"{pid}@")]
    run_id = rows[0].run_id if rows else None
    held = [row.key for row in rows if not row.key.startswith("run/")]
    committed = ConversationRow.select().where(ConversationRow.run == run_id).count() if run_id else 0
    return run_id, held, committed


@pytest.mark.slow
def test_a_scan_killed_mid_run_loses_nothing_and_duplicates_nothing(team):
    """The victim plays another desktop: after the kill its claims are renamed to another host, so they
    are free only when their lease ends (on this machine a dead pid frees them at once: test_claims.py)."""
    sims, env, command = team
    env = {**env, "SHIPSCAN_CLAIM_LEASE": LEASE}
    victim, other = _start(env, *command), _start(env, *command)
    wait_until(lambda: (lambda st: st[1] and st[2] >= 5)(_victim_state(victim.pid)), 60,
               "the first scan to commit some conversations and hold others", poll=0.01)
    victim.send_signal(signal.SIGSTOP)            # frozen first, so what it holds is read exactly
    run_id, held, committed = _victim_state(victim.pid)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    (claims.ScanClaimRow.update(owner=f"1@other-desktop#run{run_id}")
     .where(claims.ScanClaimRow.owner.startswith(f"{victim.pid}@")).execute())
    first = _summary(other)
    time.sleep(float(LEASE) + 0.5)                # past the lease: the dead desktop's claims are free
    final = _summary(_start(env, *command))
    listed = first["conversations_listed"]
    fetches, llm_calls = sims.front.log.message_fetches, sims.openai.log.calls
    print(f"\nkilled after committing {committed}, holding {len(held)}; the other scan scanned "
          f"{first['conversations_scanned']} (claimed elsewhere {first['claimed_elsewhere']}), the new one "
          f"{final['conversations_scanned']}; {fetches} fetches and {llm_calls} LLM calls for {listed}")
    assert first["state"] == final["state"] == "completed" and first["front_429s"] == final["front_429s"] == 0
    assert _scanned_conversations() == final["conversations_listed"] == listed     # nothing lost
    assert committed + first["conversations_scanned"] + final["conversations_scanned"] == listed
    # What the new scan did is only what the victim held (the rest was committed by someone already).
    assert final["conversations_scanned"] <= min(len(held), first["claimed_elsewhere"])
    assert listed <= fetches <= listed + len(held)                                 # only what was in flight twice
    assert llm_calls <= listed + len(held)
    numbers = [row.tracking_number for row in ShipmentRow.select(ShipmentRow.tracking_number)]
    assert numbers and len(numbers) == len(set(numbers))                           # nothing duplicated
    assert RegistrationRow.select().count() == len(numbers)
    # No live claim is left. (A lease this short can run out while a starved process works: then another
    # takes the conversation over, the first one's commit cannot release the new owner's claim, and that
    # claim simply expires. Harmless: an expired claim is free.)
    assert [row.key for row in claims.ScanClaimRow.select() if claims.holder(row.key) is not None] == []
