"""desktop.lifeline with real processes: a parent is SIGKILLed and its child must follow within 5 s.

Each test runs a parent script that starts a child, waits for the child's "ready", SIGKILLs the parent
(no code of it runs) and looks for the child in /proc. The control test shows the rig can fail: a child
without a lifeline outlives its parent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import lifeline
from tests.helpers.procs import kill_tree, leftovers, tree, tree_env

ROOT = Path(__file__).resolve().parents[1]

# The child: ties itself to the parent whose pid it is given (or not, with "none"), then sleeps.
CHILD = """
import sys, time
from desktop import lifeline
how, parent = sys.argv[1], int(sys.argv[2])
if how != "none":
    getattr(lifeline, how)(parent)
print("ready", flush=True)
time.sleep(600)
"""

# The parent: starts CHILD with its own pid, passes the child's "ready" on, then sleeps until killed.
PARENT = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2], str(os.getpid())],
                         stdout=subprocess.PIPE, text=True)
print(child.stdout.readline(), end="", flush=True)
time.sleep(600)
"""

# The parent: one ProcessPoolExecutor worker watched through multiprocessing's parent sentinel (the
# path other platforms take), blocked waiting for work as the engine's worker is.
POOL_PARENT = """
import multiprocessing, os, time
from concurrent.futures import ProcessPoolExecutor
from desktop import lifeline

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=lifeline.watch_parent, initargs=(os.getpid(),))
    print("ready", pool.submit(os.getpid).result(), flush=True)
    time.sleep(600)
"""


def _start(script: str, *args: str) -> tuple[str, subprocess.Popen]:
    marker, env = tree_env()
    parent = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env=env)
    assert parent.stdout.readline().startswith("ready"), "the child did not start"
    return marker, parent


def _sigkill(parent: subprocess.Popen) -> None:
    parent.send_signal(signal.SIGKILL)
    parent.wait()


@pytest.fixture
def started():
    """`started(script, *args)` runs a parent script; whatever it left behind is killed afterwards."""
    markers = []

    def start(script: str, *args: str) -> tuple[str, subprocess.Popen]:
        marker, parent = _start(script, *args)
        markers.append(marker)
        return marker, parent

    yield start
    for marker in markers:
        kill_tree(marker)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_kernel_kills_the_child_of_a_sigkilled_parent(started):
    marker, parent = started(PARENT, CHILD, "die_with_parent")
    assert len(tree(marker)) == 2
    _sigkill(parent)
    assert leftovers(marker) == []


@pytest.mark.skipif(sys.platform == "win32", reason="orphans keep their parent's pid on Windows")
def test_watcher_thread_ends_the_child_of_a_sigkilled_parent(started):
    marker, parent = started(PARENT, CHILD, "watch_parent")
    _sigkill(parent)
    assert leftovers(marker) == []


def test_pool_worker_watching_the_parent_sentinel_ends_with_it_and_so_does_the_tracker(started):
    marker, parent = started(POOL_PARENT)
    commands = " | ".join(p.cmdline for p in tree(marker))
    assert "multiprocessing.spawn" in commands and "resource_tracker" in commands, commands
    _sigkill(parent)
    assert leftovers(marker) == []


def test_control_a_child_without_lifeline_outlives_its_sigkilled_parent(started):
    marker, parent = started(PARENT, CHILD, "none")
    _sigkill(parent)
    assert len(leftovers(marker, timeout=1.0)) == 1  # what every test above guards against


def test_a_child_whose_parent_is_already_gone_exits_at_once():
    not_my_parent = str(os.getpid() + 1_000_000)  # above pid_max: no process has it
    done = subprocess.run([sys.executable, "-c", CHILD, "die_with_parent", not_my_parent], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert done.returncode == lifeline.EXIT_ORPHANED and "ready" not in done.stdout
