"""The core's database calls, on one thread of their own: the event loop (the window's GUI thread) never
waits for the database.

    outcome = await store_call(scans.commit_conversation, ref, run_id=run.run_id, ...)

With the database on a server 50 ms away, every statement run on the event loop's thread freezes the
window for a round trip; so the pipeline, the claims, the registration worker and the status refresh hand
their store calls to ONE thread (a single-thread executor), which runs them in submission order with its
own connection (peewee keeps one connection per thread), and await the answer.

Contracts:
- Calls run one at a time, in the order they were submitted, so writes keep their order and a
  transaction never spans threads (each store function opens and ends its own on that thread).
- A submitted call always runs to its end. Cancelling the awaiting task while the call waits or runs
  does not cut it short and does not lose its result: `store_call` still returns it (or raises its
  error) once it has ended, and the cancellation is delivered at the caller's next await, exactly as it
  was when the call ran synchronously on the loop. (A commit is thus whole and always counted.)
- The thread uses whatever database `desktop.store.tables.database` is bound to when a call runs; when
  that changes (another database opened), it first closes its connection to the previous one.
- `close()` closes the thread's connection and ends the thread (the services' close path); a later call
  starts a new thread, which first waits for the old one to end, so order holds across a close.
- A batch: where a loop would make many calls, hand the whole loop over as one function (a thread hop
  costs ~50-100 us on SQLite).
No Qt here: the core runs the same under the command line's asyncio loop and the window's qasync loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from desktop.store import tables

log = logging.getLogger("shipscan.store")

T = TypeVar("T")
#: Seconds `close()` waits for a call in hand to end (a server that stopped answering) before going on.
CLOSE_TIMEOUT = 5.0


class StoreThread:
    """One daemon thread running store calls in order (see the module's contracts)."""

    def __init__(self, name: str = "shipscan-store") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue | None = None
        self._thread: threading.Thread | None = None

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        """Queue `fn(*args, **kwargs)`; the future holds its result or error once it ran."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self._queue is None:
                self._start()
            assert self._queue is not None
            self._queue.put((future, fn, args, kwargs))
        return future

    def close(self, timeout: float = CLOSE_TIMEOUT) -> bool:
        """Run what is queued, close the thread's connection and end the thread. False when a call was
        still running after `timeout` seconds (the thread is a daemon: it never holds the process)."""
        with self._lock:
            jobs, thread = self._queue, self._thread
            self._queue = self._thread = None
        if jobs is None or thread is None:
            return True
        jobs.put(None)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("a database call is still running; not waiting for it")
            return False
        return True

    def _start(self) -> None:
        previous = self._thread
        self._queue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, args=(self._queue, previous), name=self._name,
                                        daemon=True)
        self._thread.start()

    @staticmethod
    def _run(jobs: queue.SimpleQueue, previous: threading.Thread | None) -> None:
        if previous is not None:   # a close that timed out: its calls end first (order holds)
            previous.join()
        database = None            # the peewee database this thread last used
        while (job := jobs.get()) is not None:
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                current = tables.database.obj
                if database is not None and database is not current:
                    _close_connection(database)
                database = current
                result = fn(*args, **kwargs)
            except BaseException as exc:  # delivered to the awaiting caller, who handles it as before
                future.set_exception(exc)
            else:
                future.set_result(result)
        if database is not None:
            _close_connection(database)


def _close_connection(database: Any) -> None:
    """Close this thread's connection to `database` (peewee: the calling thread's only)."""
    try:
        database.close()
    except Exception:  # an already broken connection (a dropped database): nothing more to release
        log.debug("closing the store thread's connection failed", exc_info=True)


_thread = StoreThread()


async def store_call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on the store thread; its result, or its exception raised here.

    See the module's contracts for cancellation: the call is never cut short, and a cancellation that
    arrives meanwhile is delivered at the caller's next await."""
    return await uncut(asyncio.wrap_future(_thread.submit(fn, *args, **kwargs), loop=asyncio.get_running_loop()))


async def uncut(future: asyncio.Future[T]) -> T:
    """`future`'s result (or exception), awaited to its end: a cancellation that arrives meanwhile is
    delivered at the caller's next await, as for `store_call`."""
    interrupted = False
    while not future.done():
        try:
            await asyncio.wait((future,))
        except asyncio.CancelledError:
            interrupted = True
    if interrupted:
        _cancel_again()
    return future.result()


def _cancel_again() -> None:
    """Deliver a cancellation swallowed while a call ran at the current task's next await."""
    task = asyncio.current_task()
    if task is None:
        return
    task.uncancel()   # the cancellation we swallowed...
    task.cancel()     # ...requested again, so the count of requests stays what the canceller made it


def close(timeout: float = CLOSE_TIMEOUT) -> bool:
    """Close the store thread's connection and end it (the app closing its database, tests between
    databases). Returns False when a call was still running after `timeout` seconds."""
    return _thread.close(timeout)
