"""Extraction benchmark: prints figures, asserts nothing.

Times `shipscan extract --extractor rules --json THREAD.txt` on a generated 1 MB support thread (target
<= 0.5 s), as a user runs it (a fresh process: interpreter start and imports included); the same command on
a one-line file (its start-up: interpreter, imports, argument parsing); and the rules extractor alone on the
same conversation in this process, each run with the engine's memo cleared (as cold as in a fresh process).

The thread is built from the simulator's seed-7 workspace: its messages one after the other, each reply
quoting the message before it ("On ... wrote:" and "> " lines), as mail clients do, until it reaches the
size asked for. It holds the workspace's shipping notices, so the engine has real numbers to find.

Run: python tests/benchmarks/bench_extract.py [--megabytes 1.0] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from desktop.core.documents import read_document  # noqa: E402
from desktop.core.rules_extractor import RulesExtractor  # noqa: E402
from desktop.core.tracking import clear_caches  # noqa: E402
from desktop.sim.workspace import generate_workspace  # noqa: E402


def thread_text(size: int) -> str:
    """About `size` characters of one long thread: each message followed by a reply quoting it."""
    workspace = generate_workspace(seed=7, conversations=300)
    parts: list[str] = []
    total = 0
    previous = ""
    while total < size:
        for sim in workspace.conversations:
            for message in sim.messages:
                body = (message.text or message.blurb or "").strip()
                if not body:
                    continue
                block = body
                if previous:
                    quoted = "\n".join("> " + line for line in previous.splitlines())
                    block += f"\n\nOn Mon, 4 May 2026 at 10:12, {message.from_name} wrote:\n{quoted}"
                parts.append(block + "\n\n")
                total += len(parts[-1])
                previous = body
                if total >= size:
                    return "".join(parts)
    return "".join(parts)


def shipscan() -> list[str]:
    """The installed `shipscan` script beside this interpreter, else `python -m desktop.cli`."""
    script = Path(sys.executable).with_name("shipscan")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from desktop.cli import main; main()"]


def time_cli(path: Path, runs: int) -> tuple[list[float], int]:
    """Wall-clock seconds of each CLI run, and how many shipments the last one printed."""
    env = {**os.environ, "OPENAI_API_KEY": "", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    times, shipments = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([*shipscan(), "extract", "--extractor", "rules", "--json", str(path)],
                              capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"shipscan extract failed ({done.returncode}): {done.stderr[-2000:]}")
        shipments = len(json.loads(done.stdout)[0]["shipments"])
    return times, shipments


def time_in_process(path: Path, runs: int) -> list[float]:
    conversation = read_document(str(path))
    times = []
    for _ in range(runs):
        clear_caches()
        started = time.perf_counter()
        RulesExtractor().extract_sync(conversation)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    text = thread_text(int(args.megabytes * 1_000_000))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "thread.txt"
        path.write_text(text, encoding="utf-8")
        size = path.stat().st_size
        small = Path(folder) / "one-line.txt"
        small.write_text("UPS tracking number: 1Z999AA10123456784\n", encoding="utf-8")
        cli, shipments = time_cli(path, args.runs)
        start_up, _ = time_cli(small, args.runs)
        engine = time_in_process(path, args.runs)
    print(f"thread: {size / 1e6:.2f} MB, {text.count(' wrote:')} quoted replies; {shipments} shipments found")
    print(f"shipscan extract --extractor rules --json: median {statistics.median(cli):.3f} s, "
          f"best {min(cli):.3f} s over {len(cli)} runs (target <= 0.5 s)")
    print(f"  start-up (the same command on a one-line file): median {statistics.median(start_up):.3f} s, "
          f"best {min(start_up):.3f} s")
    print(f"rules extractor alone (in process): median {statistics.median(engine):.3f} s, best {min(engine):.3f} s")


if __name__ == "__main__":
    main()
