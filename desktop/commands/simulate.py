"""`shipscan simulate [--seed N] [--conversations N] [--config FILE]`: run the three simulators until Ctrl-C.

Prints the three base URLs and the demo keys (lines "front_url: ...", "openai_url: ...", "ship24_url: ...",
then "<service>_key: ..."), flushes, and serves until interrupted; on exit prints each simulator's log.
Point the app at them with FRONT_API_URL / OPENAI_BASE_URL / SHIP24_API_URL and the printed keys.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "simulate", parents=[common], help="run loopback simulators of Front, OpenAI and Ship24",
        description="Serve a generated Front workspace plus OpenAI and Ship24 doubles on 127.0.0.1 "
                    "until Ctrl-C.")
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=7, help="workspace seed (default 7)")
    parser.add_argument("--conversations", type=int, default=300, help="number of conversations (default 300)")
    parser.add_argument("--days", type=int, default=30, help="days of history (default 30)")
    parser.add_argument("--config", metavar="FILE", help="JSON simulator config (see desktop/sim/config.py)")
    parser.add_argument("--truth", metavar="FILE", help="also write the ground truth JSON here")


def run(args: argparse.Namespace) -> int:
    from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
    from desktop.sim.workspace import generate_workspace

    try:
        config = SimConfig.from_file(args.config) if args.config else SimConfig()
    except (OSError, ValueError) as error:
        print(f"shipscan simulate: cannot read --config: {error}", file=sys.stderr)
        return 2
    workspace = generate_workspace(seed=args.seed, conversations=args.conversations, days=args.days)
    if args.truth:
        workspace.write_truth(args.truth)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():  # signal handlers only work there
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # terminate() ends as cleanly as Ctrl-C
    with start_simulators(workspace, config) as sims:
        print(f"front_url: {sims.front_url}")
        print(f"openai_url: {sims.openai_url}")
        print(f"ship24_url: {sims.ship24_url}")
        for service, key in DEMO_KEYS.items():
            print(f"{service}_key: {key}")
        print(f"serving {len(workspace.conversations)} conversations (seed {args.seed}); Ctrl-C to stop",
              flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        summary = {name: getattr(sims, name).log.snapshot() for name in ("front", "openai", "ship24")}
    for name, data in summary.items():
        data.pop("trackers", None)
        print(f"{name}: {json.dumps(data, sort_keys=True)}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m desktop.commands.simulate ...`: the same command without the other sub-commands."""
    parser = argparse.ArgumentParser(prog="shipscan simulate")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
