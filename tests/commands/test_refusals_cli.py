"""`shipscan scan` and `shipscan status --refresh` with a wrong key, as real subprocesses against the
simulators: exit 1 after one refused request (or the few already in flight), one line naming the service."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

from desktop.clients.ship24 import Ship24Client
from desktop.core.registration import RegistrationWorker
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import generate_workspace
from tests.helpers.registration import SHIP24_KEY, add_shipment, numbers, open_tmp_db, ship24_sim


def _shipscan(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_scan_with_a_wrong_openai_key_exits_1_after_one_request(tmp_path):
    ws = generate_workspace(seed=11, conversations=80)
    config = SimConfig.for_tests()
    config.front.rate_limit_per_minute, config.front.window_seconds = 150, 3.0
    times = [m.created_at for c in ws.conversations for m in c.messages]
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(min(times) - 1))
    until = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(max(times) + 2))
    with start_simulators(ws, config) as sims:
        env = {"FRONT_API_TOKEN": DEMO_KEYS["front"], "FRONT_API_URL": sims.front_url,
               "OPENAI_API_KEY": "sk-wrong-key-0123456789", "OPENAI_BASE_URL": sims.openai_url}
        done = _shipscan("scan", "--since", since, "--until", until, "--db", str(tmp_path / "s.sqlite3"),
                         "--json", env=env)
        calls = sims.openai.log.requests_by_route.get("POST /v1/chat/completions", 0)
        checks = sims.openai.log.requests_by_route.get("GET /v1/models", 0)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)                   # still ONE object on stdout
    assert summary["state"] == "failed" and summary["conversations_failed"] == 0
    assert summary["error"].startswith("OpenAI refused the key (HTTP 401)")
    assert (calls, checks) == (0, 1)   # the key is asked about once (GET /models) before any call
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"scan failed: {summary['error']}"], done.stderr
    assert "sk-wrong-key-0123456789" not in done.stdout + done.stderr


def test_status_refresh_with_a_wrong_ship24_key_exits_1_after_one_401(tmp_path):
    database = open_tmp_db(tmp_path)
    for number in numbers(8, seed=4):
        add_shipment(number, courier_code=None)

    async def register(url):
        async with Ship24Client(url, SHIP24_KEY) as client:
            await RegistrationWorker(client).drain_once()

    with ship24_sim() as sim:
        asyncio.run(register(sim.url))
        database.close()
        env = {"SHIP24_API_KEY": "apik_wrong", "SHIP24_API_URL": sim.url, "FRONT_API_TOKEN": "unused"}
        done = _shipscan("status", "--refresh", "--db", str(tmp_path / "shipscan.sqlite3"), env=env)
        refused = sim.log.status_counts[401]
    assert done.returncode == 1, done.stderr
    assert refused == 1
    assert done.stderr.strip() == "shipscan status: Ship24 refused the key (HTTP 401): The API key is invalid"
