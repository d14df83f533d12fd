"""The simulators' child process: it serves, leaves Ctrl-C to the app, and dies with the app however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from desktop.sim.process import start_simulators_process
from tests.helpers.procs import kill_tree, leftovers, tree, tree_env

ROOT = Path(__file__).resolve().parents[2]

# An "app" holding the simulators' child; it sleeps until killed.
APP = """
import time
from desktop.sim.process import start_simulators_process
sims = start_simulators_process(seed=3, conversations=12, days=3, end=time.time())
print("ready", sims.process.pid, flush=True)
time.sleep(600)
"""

# A child that only ties itself to the pid it is given: the kernel, not stdin, must end it.
TIED = """
import sys, time
from desktop.sim.process import _end_with_parent
_end_with_parent(int(sys.argv[1]))
print("ready", flush=True)
time.sleep(600)
"""

# Its parent; the child's stdin is /dev/null, which never closes.
TIED_PARENT = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(os.getpid())], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, text=True)
print(child.stdout.readline(), end="", flush=True)
time.sleep(600)
"""

def _answers(url: str) -> bool:
    """Whether the simulator at `url` answers HTTP at all (any status: the route is not the point)."""
    return httpx.get(url + "/no-such-route", timeout=10).status_code >= 200


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux's")


def test_serves_ignores_ctrl_c_and_stops_when_asked():
    sims = start_simulators_process(seed=3, conversations=12, days=3, end=time.time())
    with sims:
        assert _answers(sims.front_url)
        os.kill(sims.process.pid, signal.SIGINT)  # what Ctrl-C in the app's terminal sends it too
        assert _answers(sims.ship24_url) and sims.process.poll() is None
    assert sims.process.returncode == 0


@pytest.mark.slow
@linux_only
def test_the_child_ends_when_the_app_is_sigkilled():
    marker, env = tree_env()
    app = subprocess.Popen([sys.executable, "-c", APP], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        assert app.stdout.readline().startswith("ready")
        assert any("desktop.sim.process" in p.cmdline for p in tree(marker))
        app.send_signal(signal.SIGKILL)
        app.wait()
        assert leftovers(marker) == []
    finally:
        kill_tree(marker)


@linux_only
def test_the_kernel_ends_the_child_even_without_stdin():
    marker, env = tree_env()
    parent = subprocess.Popen([sys.executable, "-c", TIED_PARENT, TIED], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env=env)
    try:
        assert parent.stdout.readline().startswith("ready")
        assert len(tree(marker)) == 2
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert leftovers(marker) == []
    finally:
        kill_tree(marker)


def test_a_child_whose_app_is_already_gone_exits_at_once():
    done = subprocess.run([sys.executable, "-c", TIED, str(os.getpid() + 1_000_000)], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 1 and "ready" not in done.stdout
