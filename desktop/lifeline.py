"""Child processes that end with their parent, however the parent ends.

A parent that exits in order stops its children itself (the app shuts the engine executor down). A parent
that is SIGKILLed (the OOM killer, a crash in native code) runs no code at all, and a child blocked on a
pipe it holds both ends of (a ProcessPoolExecutor worker waiting for work) then waits forever, re-parented
to init, with the engine in its memory. So such a child ties itself to its parent, first thing:

    lifeline.die_with_parent(parent_pid)   # in the child; `parent_pid` is the parent's os.getpid()

- Linux: the kernel sends the child SIGKILL when its parent dies (`prctl(PR_SET_PDEATHSIG)`). The kernel's
  "parent" is the parent *thread* that started the child: start such children from a thread that lives
  as long as the process (the app starts its worker from the main thread).
- Elsewhere, or if prctl fails: a daemon thread waits for the parent to end and ends the process. In a
  multiprocessing child it waits on multiprocessing's parent sentinel (every platform); otherwise it
  polls the parent pid, which works where orphans are re-parented (POSIX), not on Windows.

Either way the child then checks that its parent is still the one it was given: a parent that died before
the child asked would otherwise never be noticed. Stdlib only, no Qt.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time

#: `<linux/prctl.h>`: deliver a signal to this process when its parent (thread) dies.
PR_SET_PDEATHSIG = 1
#: The exit status of a child that found itself orphaned.
EXIT_ORPHANED = 1
POLL_SECONDS = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when process `parent_pid` ends; returns at once and never raises.

    If `parent_pid` is already gone (this process has been re-parented), the process ends here, with
    status EXIT_ORPHANED.
    """
    if not (sys.platform.startswith("linux") and ask_kernel(signal.SIGKILL)):
        watch_parent(parent_pid)
    if not _parent_is(parent_pid):
        os._exit(EXIT_ORPHANED)


def ask_kernel(signum: int) -> bool:
    """Linux: have the kernel send `signum` to this process when its parent dies. False if it cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signum), ctypes.c_ulong(0), ctypes.c_ulong(0),
                          ctypes.c_ulong(0)) == 0
    except (OSError, AttributeError):  # no libc by that name, or no prctl in it
        return False


def watch_parent(parent_pid: int, poll: float = POLL_SECONDS) -> threading.Thread:
    """Start a daemon thread that ends this process (os._exit, EXIT_ORPHANED) once `parent_pid` has ended."""
    thread = threading.Thread(target=_exit_when_orphaned, args=(parent_pid, poll), name="shipscan-lifeline",
                              daemon=True)
    thread.start()
    return thread


def _exit_when_orphaned(parent_pid: int, poll: float) -> None:
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid == parent_pid:
        parent.join()  # returns when the parent's end of the sentinel pipe (or its handle) closes
    else:
        while _parent_is(parent_pid):
            time.sleep(poll)
    # os._exit, not sys.exit: nothing of this process's state is worth saving, and no other thread (the
    # worker's main thread may be deep in engine work) must be able to keep it alive.
    os._exit(EXIT_ORPHANED)


def _parent_is(pid: int) -> bool:
    # Windows does not re-parent orphans (getppid keeps the dead parent's pid): there this stays True, and
    # only multiprocessing's sentinel above notices.
    return os.getppid() == pid
