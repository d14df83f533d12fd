"""The three simulators in a child process, for the demo app.

In-process simulators share the app's interpreter lock: while they build a megabyte of JSON or answer an
LLM call, the GUI thread waits. Real services never compete with the window for the CPU, so the desktop
demo runs them in a child process instead (tests keep them in-process to read their logs).

    sims = start_simulators_process(seed=7, conversations=300, days=30, end=end, config=SimConfig())
    sims.front_url, sims.openai_url, sims.ship24_url, sims.front.config
    sims.stop()

The child serves until its standard input closes, so it also ends when the parent dies (even by SIGKILL):
the kernel closes the pipe. On Linux the kernel also kills it outright when the parent dies (see
`_end_with_parent`). It ignores SIGINT: Ctrl-C in a terminal reaches the whole process group, and the app
then stops the child in order.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import Any

from desktop.sim.config import SimConfig

START_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass
class SimProcess:
    """Handle on the child: the three base URLs, each service's config (as sent), and `stop()`."""

    process: subprocess.Popen
    urls: dict[str, str]
    config: SimConfig

    def __post_init__(self) -> None:
        # The same attribute shape as in-process `Simulators` (`.front.config`); there is no live log here.
        for name in ("front", "openai", "ship24"):
            setattr(self, name, SimpleNamespace(config=getattr(self.config, name), log=None))

    @property
    def front_url(self) -> str:
        return self.urls["front"]

    @property
    def openai_url(self) -> str:
        return self.urls["openai"]

    @property
    def ship24_url(self) -> str:
        return self.urls["ship24"]

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()  # the child's signal to stop
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def start_simulators_process(*, seed: int, conversations: int, days: int, end: float,
                             config: SimConfig | None = None) -> SimProcess:
    """Start the child and wait until it serves; raises RuntimeError if it fails to start."""
    config = config or SimConfig()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config.to_dict(), handle)
        config_path = handle.name
    command = [*_self_command(), "--seed", str(seed), "--conversations",
               str(conversations), "--days", str(days), "--end", repr(end), "--config", config_path,
               "--parent-pid", str(os.getpid())]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        urls = _read_urls(process)
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        Path(config_path).unlink(missing_ok=True)
    return SimProcess(process, urls, config)


def _self_command() -> list[str]:
    """`python -m desktop.sim.process`; a PyInstaller bundle has no `-m`, so there its executable is told
    to run this module (`--run-module`, handled by desktop/frozen.py, the bundle's entry script)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--run-module", "desktop.sim.process"]
    return [sys.executable, "-m", "desktop.sim.process"]


def _read_urls(process: subprocess.Popen) -> dict[str, str]:
    result: dict[str, Any] = {}
    reader = threading.Thread(target=lambda: result.update(line=process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    line = result.get("line") or ""
    if not line.strip():
        raise RuntimeError(f"the simulators did not start (exit code {process.poll()})")
    return json.loads(line)


def _serve(argv: list[str]) -> int:
    import argparse

    from desktop.sim import start_simulators
    from desktop.sim.workspace import generate_workspace

    parser = argparse.ArgumentParser(prog="python -m desktop.sim.process")
    for name, kind in (("--seed", int), ("--conversations", int), ("--days", int), ("--end", float),
                       ("--config", str), ("--parent-pid", int)):
        parser.add_argument(name, type=kind, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with_parent(args.parent_pid)
    workspace = generate_workspace(seed=args.seed, conversations=args.conversations, days=args.days,
                                   end=args.end)
    with start_simulators(workspace, SimConfig.from_file(args.config)) as sims:
        urls = {"front": sims.front_url, "openai": sims.openai_url, "ship24": sims.ship24_url}
        print(json.dumps(urls), flush=True)
        sys.stdin.read()  # returns when the parent closes our stdin or dies
    return 0


def _end_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel SIGKILL this process when the app dies; exit now if it already has.

    Elsewhere stdin's end-of-file is the only watch. (`desktop.lifeline` does the same for the product;
    the simulators import nothing of the product, hence these few lines twice.)
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL),
                                                    ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
        except (OSError, AttributeError):
            pass  # stdin's end-of-file still ends us
    if os.getppid() != parent_pid:  # the app died before we asked: nobody would signal us
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1:]))
