"""Every process of a tree, found in /proc even after its root died and the rest was re-parented to init.

A test starts the root with `tree_env()`: a marker in its environment, which every descendant inherits
(subprocess, multiprocessing's spawn, its resource tracker). `tree(marker)` then lists the live processes
that carry it, wherever they now hang. Zombies do not count (/proc shows no environment for them): they
have ended, and reaping them is their new parent's job. Linux only.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MARKER_VAR = "SHIPSCAN_TEST_TREE"
PROC = Path("/proc")


@dataclass(frozen=True)
class Proc:
    pid: int
    cmdline: str


def tree_env(base: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """A fresh marker and a copy of `base` (default: os.environ) that carries it."""
    marker = uuid.uuid4().hex
    return marker, {**(os.environ if base is None else base), MARKER_VAR: marker}


def tree(marker: str) -> list[Proc]:
    """The live processes whose environment carries `marker`."""
    needle = f"{MARKER_VAR}={marker}".encode()
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if needle in environ.split(b"\0"):
            found.append(Proc(int(entry.name), cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def wait_until(condition: Callable[[], object], timeout: float, what: str, poll: float = 0.05) -> object:
    """Poll `condition` until it is truthy and return its value; AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def leftovers(marker: str, timeout: float = 5.0) -> list[Proc]:
    """Wait up to `timeout` s for the tree to vanish; returns what is still alive then (empty: all gone)."""
    deadline = time.monotonic() + timeout
    while (left := tree(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def kill_tree(marker: str) -> None:
    """SIGKILL whatever carries `marker`: a failed test must not leave its processes behind."""
    for proc in tree(marker):
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def holds_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open."""
    target = str(Path(path).resolve())
    try:
        fds = list((PROC / str(pid) / "fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) == target:
                return True
        except OSError:
            continue
    return False
