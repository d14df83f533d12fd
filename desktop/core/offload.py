"""Running CPU-bound engine work (text preparation, candidate search, verification) off the event loop.

By default one dedicated worker thread, not the loop's default pool: the work holds the interpreter lock,
so ten threads would only take turns with each other and starve the event-loop thread.

The desktop app goes further with `use_processes()`: one worker *process*. Pure-Python work in any
thread of the GUI's process still competes for the interpreter lock, and a GUI thread that waits for the
lock after every socket call or SQLite statement freezes for tens to hundreds of milliseconds on a big
conversation. In a child process the engine never touches the GUI's lock. Functions sent there must be
module-level and their arguments picklable (the domain dataclasses are).
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_executor: Executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shipscan-engine")


def use_processes() -> None:
    """Run engine work in one child process from now on (started on first use, ended at exit)."""
    global _executor
    if isinstance(_executor, ProcessPoolExecutor):
        return
    previous = _executor
    # "spawn": a fork of a process running Qt and an event loop is not safe.
    _executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    previous.shutdown(wait=False)
    # Start the worker and load the engine now, at start-up, rather than during the first scan.
    _executor.submit(_warm_up)


def _warm_up() -> None:
    import desktop.core.llm_extractor  # noqa: F401  -- the heaviest engine import


async def run_cpu_bound(fn: Callable[..., T], *args: object) -> T:
    """Run `fn(*args)` on the engine worker and return its result (exceptions propagate)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, functools.partial(fn, *args))
