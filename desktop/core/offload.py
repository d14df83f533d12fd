"""Running CPU-bound engine work (text preparation, candidate search, verification) off the event loop.

By default one dedicated worker thread, not the loop's default pool: the work holds the interpreter lock,
so ten threads would only take turns with each other and starve the event-loop thread.

The desktop app goes further with `use_processes()`: worker *processes* (`ENGINE_WORKERS`, at a lower
scheduling priority than the app, whose event loop feeds the network). Pure-Python work in any
thread of the GUI's process still competes for the interpreter lock, and a GUI thread that waits for the
lock after every socket call or SQLite statement freezes for tens to hundreds of milliseconds on a big
conversation. In a child process the engine never touches the GUI's lock. Functions sent there must be
module-level and their arguments picklable (the domain dataclasses are).

The worker ends with the app however the app ends: `shutdown()` stops it in order, and if the app dies
without warning the worker follows (`desktop.lifeline`). multiprocessing's resource tracker, which the app
starts for the pool's semaphores, needs nothing of its own: it ignores SIGINT and SIGTERM by design and
reads a pipe until every holder of the write end has gone, which is the app and the worker (it inherits
the tracker's fd). Once both are dead it unlinks the semaphores and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TypeVar

from desktop import lifeline

T = TypeVar("T")


#: Worker processes: two where there are two cores or more. A scan starts a whole window of conversations
#: at once, and their engine passes queue here before any LLM call can go; the LLM-bound benchmark kept
#: 5-8 more calls in flight of 150 with two (`tests/benchmarks/bench_scan.py`).
ENGINE_WORKERS = min(2, os.cpu_count() or 1)
#: The workers' niceness above the app's: a backlog of engine work must not slow the loop that sends the
#: requests and paints the window.
WORKER_NICENESS = 5


def _thread_executor() -> Executor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="shipscan-engine")


_executor: Executor = _thread_executor()


def use_processes() -> None:
    """Run engine work in `ENGINE_WORKERS` child processes from now on (call it from the main thread).

    The main thread matters on Linux: the kernel ends the worker when the thread that started it ends.
    """
    global _executor
    if isinstance(_executor, ProcessPoolExecutor):
        return
    previous = _executor
    # "spawn": a fork of a process running Qt and an event loop is not safe.
    _executor = ProcessPoolExecutor(max_workers=ENGINE_WORKERS, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_start_worker, initargs=(os.getpid(),))
    previous.shutdown(wait=False)
    # Start the workers and load the engine now, at start-up, rather than during the first scan.
    for _ in range(ENGINE_WORKERS):
        _executor.submit(_warm_up)


def shutdown() -> None:
    """Stop the engine worker: queued work is cancelled, running work finishes first, a worker process
    has exited when this returns. Later work runs on a fresh worker thread."""
    global _executor
    previous, _executor = _executor, _thread_executor()
    previous.shutdown(wait=True, cancel_futures=True)


def _start_worker(parent_pid: int) -> None:
    """In the worker, before any work: end with the app, and leave Ctrl-C to it."""
    # Ctrl-C in a terminal signals the whole process group: the app then stops the worker in order, while
    # a KeyboardInterrupt here would break the pool mid-shutdown and print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lifeline.die_with_parent(parent_pid)
    with contextlib.suppress(OSError, AttributeError):   # not on every platform
        os.nice(WORKER_NICENESS)


def _warm_up() -> None:
    import desktop.core.llm_extractor  # noqa: F401  -- the heaviest engine import


async def run_cpu_bound(fn: Callable[..., T], *args: object) -> T:
    """Run `fn(*args)` on the engine worker and return its result (exceptions propagate)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, functools.partial(fn, *args))
