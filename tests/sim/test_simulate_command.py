"""`shipscan simulate --seed 7 --conversations 500` as a real subprocess: it prints three base URLs, a search
over a date range returns the documented envelope, following `_pagination.next` visits every match once,
and terminating it ends it cleanly."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from desktop.cli import COMMAND_MODULES
from desktop.sim import DEMO_KEYS

REPO = Path(__file__).resolve().parents[2]


def _command() -> list[str]:
    """`python -m desktop simulate` once every sub-command module exists; before that, the module alone."""
    if all(importlib.util.find_spec(f"desktop.commands.{name}") for name in COMMAND_MODULES):
        return [sys.executable, "-m", "desktop", "simulate"]
    return [sys.executable, "-m", "desktop.commands.simulate"]


def _read_banner(process: subprocess.Popen[str], deadline: float) -> dict[str, str]:
    values: dict[str, str] = {}
    while time.monotonic() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            break
        name, sep, value = line.strip().partition(": ")
        if sep:
            values[name] = value
        if line.startswith("serving"):
            return values
    raise AssertionError(f"no banner; got {values}, stderr: {process.stderr.read() if process.stderr else ''}")


def test_simulate_prints_urls_and_serves_a_complete_search(tmp_path):
    config = tmp_path / "sim.json"
    config.write_text(json.dumps({"front": {"latency": {"median_ms": 0}}}))
    process = subprocess.Popen(
        [*_command(), "--seed", "7", "--conversations", "500", "--config", str(config)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = _read_banner(process, time.monotonic() + 60)
        for name in ("front_url", "openai_url", "ship24_url"):
            assert banner[name].startswith("http://127.0.0.1:")
        assert banner["openai_url"].endswith("/v1") and banner["front_key"] == DEMO_KEYS["front"]
        now = int(time.time())
        query = quote(f"after:{now - 40 * 86400} before:{now + 2 * 86400}", safe="")
        with httpx.Client(headers={"authorization": f"Bearer {banner['front_key']}"}, timeout=10) as client:
            first = client.get(f"{banner['front_url']}/conversations/search/{query}", params={"limit": 100})
            assert first.status_code == 200, first.text
            body = first.json()
            assert set(body) == {"_pagination", "_links", "_total", "_results"} and body["_total"] > 100
            ids = [c["id"] for c in body["_results"]]
            while body["_pagination"]["next"]:
                body = client.get(body["_pagination"]["next"]).json()
                ids += [c["id"] for c in body["_results"]]
        assert len(ids) == len(set(ids)) == first.json()["_total"]
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "front: " in out  # the log summary printed on exit


def test_bad_config_file_exits_2(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"front": {"no_such_switch": 1}}))
    result = subprocess.run([sys.executable, "-m", "desktop.commands.simulate", "--config", str(config)],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no_such_switch" in result.stderr
