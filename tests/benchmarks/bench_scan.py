"""Scan benchmark: `shipscan scan --json` against the simulators, as a ratio to the physical bound.

Prints one JSON object per scenario (and asserts nothing): the wall time from process start, the bound
for that configuration, their ratio, the 429s (the client's count and the simulators'), and the
conversations and LLM calls in flight (average, peak, and the average while conversations remained
to be started), plus the scan's own ETA checks (predicted total vs the real one from 20% on).

Bounds (what no client could beat on these budgets and answer times):
- Front-bound: (Front requests - our share of a window) / (our share per second).
- latency-bound: listing (the search pages, one after another) + the longest single answer
  (an OpenAI answer plus its message fetch) + the sum of all answer times / the allowed concurrency.
The bound is the larger of the two; a scenario's budgets are chosen so that one of them dominates.

Scenarios (`--scenario` picks some; `--clock` adds Front's clock 3 minutes fast and slow):
- week: the seed's headline case, first scan of one week: 120 conversations; Front 200 a minute with
  150 ms answers; OpenAI 500 a minute (200k tokens) with 1.2 s answers. Real-time windows.
- front: Front-bound: 2,000 conversations at 120 a minute (time runs 10x faster: 120 per 6 s window);
  OpenAI's budget out of the way.
- llm: LLM-bound with a heavy tail: 600 conversations, answers median 1.5 s, lognormal sigma 1.0; the
  Front and OpenAI budgets out of the way.

The model is the seed's class, a chat model (`--model`, default gpt-4o-mini). A reasoning model (the app's
default, gpt-5.4-mini) reserves room for its reasoning tokens against the tokens-per-minute budget, as OpenAI
counts it: on the week's 200k tokens a minute the token budget, not Front, is then what binds (pass
`--model gpt-5.4-mini` to see it).

The LLM-in-flight ceiling: how many LLM calls an ideal client (no CPU time at all: every request sent the
moment it may go) keeps in flight on average while conversations remain to be started, on the same window,
listing pages, fetch and answer times, and the share of conversations the run sent to the LLM (the others
end after their fetch). `llm_in_flight_ceiling` is its mean over 200 draws of those times; the run's own
figure is also given as a share of it (`llm_in_flight_of_ceiling`). Printed where the answer times bound the
run, not a budget (the ideal client knows no budget). Each conversation's fetch holds its slot before its call can go,
and the first calls wait for the first listing page and fetch: the ceiling is below the window.

Cold and warm: a first scan knows nothing of OpenAI's limits and sends only a blind few calls until the
first answer states them; later scans start from the limits remembered (`--warm` adds such a rescan).

`--latency-scale K` multiplies every answer time (Front's and OpenAI's) by K: the client's own CPU time
then weighs K times less against them, which shows how much of a gap to the ceiling is this machine's CPU.

Run: python tests/benchmarks/bench_scan.py [--scenario week front llm] [--clock] [--repeat N] [--model M]
     [--warm] [--latency-scale K]
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from desktop.clients.front import PAGE_LIMIT  # noqa: E402
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators  # noqa: E402
from desktop.sim.config import LatencyConfig  # noqa: E402
from desktop.sim.workspace import generate_workspace  # noqa: E402

BUDGET_SHARE = 0.8          # the app's default share of Front's company budget
BATCH_SIZE, BATCHES = 50, 3
CLOCK_OFFSET = 180.0
PAGE_SIZE = PAGE_LIMIT      # the Front client's listing page
FRONT_SPREAD = LatencyConfig().spread   # the Front simulator's latency sigma (the scenarios keep the default)


@dataclass
class Scenario:
    name: str
    conversations: int
    days: int
    front_per_minute: int
    front_window: float
    front_ms: float
    openai_ms: float
    openai_sigma: float
    openai_rpm: int
    openai_tpm: int
    openai_window: float = 60.0
    clock_offset: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def config(self) -> SimConfig:
        cfg = SimConfig()
        front, openai = cfg.front, cfg.openai
        front.rate_limit_per_minute, front.window_seconds = self.front_per_minute, self.front_window
        front.latency.median_ms, front.latency.tail_probability = self.front_ms, 0.0
        front.clock_offset_seconds = self.clock_offset
        openai.requests_per_minute, openai.tokens_per_minute = self.openai_rpm, self.openai_tpm
        openai.window_seconds = self.openai_window
        openai.latency.median_ms, openai.latency.spread = self.openai_ms, self.openai_sigma
        openai.latency.tail_probability = 0.0
        return cfg


SCENARIOS = {
    "week": Scenario("week", 120, 7, 200, 60.0, 150.0, 1200.0, 0.35, 500, 200_000),
    "front": Scenario("front", 2000, 30, 120, 6.0, 150.0, 1200.0, 0.35, 100_000, 100_000_000, 6.0),
    "llm": Scenario("llm", 600, 30, 100_000, 60.0, 150.0, 1500.0, 1.0, 30_000, 150_000_000),
}


def run_scan(scenario: Scenario, workdir: Path, model: str, warm: bool = False) -> list[dict[str, Any]]:
    """The scenario's figures: one cold scan (nothing remembered), and with `warm` then a rescan of the
    same range by the same installation (which remembers OpenAI's limits from the first) after Front's
    window has reset; the simulators' logs are cleared in between, so each figure is its own run's."""
    workspace = generate_workspace(seed=11, conversations=scenario.conversations, days=scenario.days)
    config_dir = workdir / "shipscan"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "settings.json").write_text(json.dumps({"model": model}), encoding="utf-8")
    sims = start_simulators(workspace, scenario.config())
    env = {**os.environ, "FRONT_API_URL": sims.front_url, "FRONT_API_TOKEN": DEMO_KEYS["front"],
           "OPENAI_BASE_URL": sims.openai_url, "OPENAI_API_KEY": DEMO_KEYS["openai"],
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "XDG_DATA_HOME": str(workdir),
           "XDG_CONFIG_HOME": str(workdir), "XDG_CACHE_HOME": str(workdir)}
    env.pop("SHIP24_API_KEY", None)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(workspace.start - 86400))
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(workspace.end + 86400))
    profile = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if os.environ.get("BENCH_PROFILE") else []
    command = [sys.executable, *profile, "-m", "desktop", "scan", "--json", "--since", since, "--until", until,
               "--db", str(workdir / f"{scenario.name}.sqlite3"), "--batch-size", str(BATCH_SIZE),
               "--concurrent-batches", str(BATCHES)]
    results = []
    try:
        results.append({"model": model, "start": "cold", **scan_once(scenario, command, env, sims)})
        if warm:
            for service in (sims.front, sims.openai):
                service.log.latency_by_route.clear()
            time.sleep(scenario.front_window)
            results.append({"model": model, "start": "warm",
                            **scan_once(scenario, [*command, "--rescan"], env, sims)})
    finally:
        sims.front.stop()
        sims.openai.stop()
        sims.ship24.stop()
    return results


def scan_once(scenario: Scenario, command: list[str], env: dict[str, str], sims: Any) -> dict[str, Any]:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{scenario.name}: scan failed ({done.returncode}): {done.stderr[-2000:]}")
    return figures(scenario, json.loads(done.stdout), wall, sims)


def bounds(scenario: Scenario, summary: dict[str, Any], sims: Any) -> dict[str, float]:
    share = BUDGET_SHARE * scenario.front_per_minute
    requests = summary["front_requests"]
    front_bound = max(0.0, (requests - share) / (share / scenario.front_window))
    front_lat = sims.front.log.latency_by_route
    llm_lat = sims.openai.log.latency_by_route.get("POST /v1/chat/completions", {"total": 0.0, "max": 0.0})
    search = front_lat.get("GET /conversations/search/{query}", {"total": 0.0})
    fetches = front_lat.get("GET /conversations/{id}/messages", {"total": 0.0, "max": 0.0})
    concurrency = BATCH_SIZE * BATCHES
    latency_bound = (search["total"] + llm_lat["max"] + fetches["max"]
                     + (llm_lat["total"] + fetches["total"]) / concurrency)
    return {"front_bound": round(front_bound, 2), "latency_bound": round(latency_bound, 2),
            "bound": round(max(front_bound, latency_bound), 2)}


def llm_in_flight_ceiling(scenario: Scenario, llm_share: float, draws: int = 200) -> float:
    """The average LLM calls in flight while conversations remain, for an ideal client (module docstring)."""
    figures = [_ideal_run(scenario, llm_share, random.Random(seed)) for seed in range(draws)]
    return sum(figures) / len(figures)


def _ideal_run(scenario: Scenario, llm_share: float, rng: random.Random) -> float:
    """One draw: conversations listed a page per Front answer, each started in the first free slot of the
    window, fetched, then (with probability `llm_share`) one LLM answer; nothing else takes time."""
    def draw(median_ms: float, sigma: float) -> float:
        return median_ms / 1000.0 * math.exp(rng.gauss(0.0, sigma))

    slots = [0.0] * (BATCH_SIZE * BATCHES)
    listed_at, calls, starts = 0.0, [], []
    for index in range(scenario.conversations):
        if index % PAGE_SIZE == 0:
            listed_at += draw(scenario.front_ms, FRONT_SPREAD)
        start = max(heapq.heappop(slots), listed_at)
        starts.append(start)
        end = start + draw(scenario.front_ms, FRONT_SPREAD)
        if rng.random() < llm_share:
            calls.append((end, end + draw(scenario.openai_ms, scenario.openai_sigma)))
            end = calls[-1][1]
        heapq.heappush(slots, end)
    first, last = starts[0], starts[-1]
    in_flight = sum(max(0.0, min(b, last) - max(a, first)) for a, b in calls)
    return in_flight / (last - first) if last > first else 0.0


def ceiling_figures(scenario: Scenario, summary: dict[str, Any], limits: dict[str, float]) -> dict[str, Any]:
    """The ceiling and the run's LLM calls in flight as a share of it, for a run that made LLM calls while
    conversations remained and whose bound is the answer times (the ideal client knows no budget)."""
    concurrency = summary.get("concurrency") or {}
    measured = concurrency.get("llm_calls_in_flight_avg_while_remaining")
    listed = summary["conversations_listed"]
    if not measured or not listed or not summary["llm_calls"] or limits["front_bound"] > limits["latency_bound"]:
        return {}
    ceiling = llm_in_flight_ceiling(scenario, min(1.0, summary["llm_calls"] / listed))
    return {"llm_in_flight_ceiling": round(ceiling, 1),
            "llm_in_flight_of_ceiling": round(measured / ceiling, 3) if ceiling else None}


def eta_error(summary: dict[str, Any]) -> float | None:
    """The largest |predicted total - real total| / real total among the ETA checks from 20% done on."""
    checks = [c for c in summary.get("eta_checks", []) if c["done_fraction"] >= 0.2]
    total = summary["seconds"]
    errors = [abs(c["predicted_total"] - total) / total for c in checks if total > 0]
    return round(max(errors), 3) if errors else None


def figures(scenario: Scenario, summary: dict[str, Any], wall: float, sims: Any) -> dict[str, Any]:
    limits = bounds(scenario, summary, sims)
    return {
        "scenario": scenario.name, "clock_offset_s": scenario.clock_offset,
        "answer_ms": {"front": scenario.front_ms, "openai": scenario.openai_ms},
        "conversations_listed": summary["conversations_listed"],
        "conversations_failed": summary["conversations_failed"],
        "wall_s": round(wall, 2), "scan_s": summary["seconds"], **limits,
        "ratio": round(wall / limits["bound"], 3) if limits["bound"] else None,
        "front_requests": summary["front_requests"], "llm_calls": summary["llm_calls"],
        "front_429s": summary["front_429s"], "llm_429s": summary["llm_429s"],
        "sim_429s": sims.front.log.rate_limited + sims.openai.log.rate_limited,
        "concurrency": summary.get("concurrency"), **ceiling_figures(scenario, summary, limits),
        "eta_max_error_from_20pct": eta_error(summary),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", nargs="+", choices=sorted(SCENARIOS), default=["week", "front", "llm"])
    parser.add_argument("--clock", action="store_true", help="also with Front's clock 3 min fast and slow")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--warm", action="store_true",
                        help="also rescan with OpenAI's limits remembered from the first scan")
    parser.add_argument("--latency-scale", type=float, default=1.0,
                        help="multiply Front's and OpenAI's answer times by this (default 1)")
    args = parser.parse_args()
    offsets = [0.0, CLOCK_OFFSET, -CLOCK_OFFSET] if args.clock else [0.0]
    print(json.dumps({"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}))
    for name in args.scenario:
        for offset in offsets:
            for _ in range(args.repeat):
                scenario = SCENARIOS[name]
                scenario = Scenario(**{**scenario.__dict__, "clock_offset": offset,
                                       "front_ms": scenario.front_ms * args.latency_scale,
                                       "openai_ms": scenario.openai_ms * args.latency_scale})
                with tempfile.TemporaryDirectory(prefix="bench-scan-") as workdir:
                    for result in run_scan(scenario, Path(workdir), args.model, args.warm):
                        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
