"""The engine's worker process: it runs the work, stops on shutdown(), ignores Ctrl-C, and dies with the app."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core import offload
from tests.helpers.procs import kill_tree, leftovers, tree, tree_env

ROOT = Path(__file__).resolve().parents[2]

# An "app": the worker process started and used once, then nothing until it is killed.
APP = """
import asyncio, os, time
from desktop.core import offload

if __name__ == "__main__":
    offload.use_processes()
    print("ready", asyncio.run(offload.run_cpu_bound(os.getpid)), flush=True)
    time.sleep(600)
"""


def _ignores(pid: int, signum: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16)
    return bool(mask & (1 << (signum - 1)))


def _worker_pids() -> set[int]:
    """The pids of the engine's worker processes (there are `ENGINE_WORKERS` of them once warmed up)."""
    async def all_of_them() -> set[int]:
        # More calls than workers, at once, so every worker has answered at least one of them.
        pids = await asyncio.gather(*(offload.run_cpu_bound(os.getpid) for _ in range(8 * offload.ENGINE_WORKERS)))
        return set(pids)
    return asyncio.run(all_of_them())


@pytest.fixture
def workers():
    """The pids of the engine's worker processes in this process; shut down afterwards."""
    offload.use_processes()
    try:
        pids = set(offload._executor._processes)  # the pool's own record: every worker it started
        assert pids and os.getpid() not in pids
        assert _worker_pids() <= pids
        yield pids
    finally:
        offload.shutdown()


def test_shutdown_ends_the_workers_and_later_work_runs_on_a_thread(workers):
    offload.shutdown()
    assert [pid for pid in workers if Path(f"/proc/{pid}").exists()] == []  # exited and reaped
    assert asyncio.run(offload.run_cpu_bound(os.getpid)) == os.getpid()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_workers_leave_ctrl_c_to_the_app(workers):
    for pid in workers:
        assert _ignores(pid, signal.SIGINT)
        os.kill(pid, signal.SIGINT)
    assert _worker_pids() <= workers  # the same workers answer: none died, the pool is not broken
    assert set(offload._executor._processes) == workers


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_worker_and_resource_tracker_end_when_the_app_is_sigkilled():
    marker, env = tree_env()
    app = subprocess.Popen([sys.executable, "-c", APP], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        assert app.stdout.readline().startswith("ready")
        commands = " | ".join(p.cmdline for p in tree(marker))
        assert "multiprocessing.spawn" in commands and "resource_tracker" in commands, commands
        app.send_signal(signal.SIGKILL)
        app.wait()
        assert leftovers(marker) == []
    finally:
        kill_tree(marker)
