"""The scan's rolling window: at most `size` conversations in flight, and no batch barrier.

A conversation that finishes frees its slot for the next listed one at once, whichever batch either
belongs to. Batches stay what users see and set (their numbers, sizes and live counts): a batch opens when
its first conversation starts and closes when its last one finishes, so several may be open at a time.

The window also measures itself: conversations in flight over time (a `Gauge`), and the moments the first
and the last conversation started, between which "conversations remain" to be started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from desktop.clients.gauge import Gauge


class ConversationWindow:
    """Starts coroutines while fewer than `size` run; the first one to fail stops the window.

    `start(make)` waits for a free slot and runs `make()` as a task; `drain()` waits for all of them.
    After a failure, `start` and `drain` raise it (the caller cancels the rest with `cancel()`).
    """

    def __init__(self, size: int, clock: Callable[[], float], companions: dict[str, Gauge] | None = None
                 ) -> None:
        if size < 1:
            raise ValueError("the window needs at least one slot")
        self.size = size
        self._slots = asyncio.Semaphore(size)
        self._tasks: set[asyncio.Task] = set()
        self._error: BaseException | None = None
        #: "conversations" in flight here, plus the gauges of other things in flight to read alongside
        #: (the LLM client's calls).
        self.gauges = {"conversations": Gauge(clock), **(companions or {})}
        self.gauge = self.gauges["conversations"]
        #: Readings of every gauge when the first and the last conversation started (None until then).
        self.first_start: dict[str, tuple[float, float]] | None = None
        self.last_start: dict[str, tuple[float, float]] | None = None

    def readings(self) -> dict[str, tuple[float, float]]:
        return {name: gauge.reading() for name, gauge in self.gauges.items()}

    async def start(self, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        await self._slots.acquire()
        if self._error is not None:
            self._slots.release()
            raise self._error
        self.gauge.add(1)
        if self.first_start is None:
            self.first_start = self.readings()
        task = asyncio.create_task(make())
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def all_started(self) -> None:
        """The listing is over and every conversation has started: none remain to be started."""
        self.last_start = self.readings()

    async def drain(self) -> None:
        while self._tasks and self._error is None:
            await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_EXCEPTION)
        if self._error is not None:
            raise self._error

    async def cancel(self) -> None:
        """Cancel whatever still runs and wait until it has stopped."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        self.gauge.add(-1)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None and self._error is None:
            self._error = task.exception()


def concurrency_figures(window: ConversationWindow) -> dict[str, Any]:
    """How much of the allowed concurrency a run used (the summary's `concurrency` object).

    For each gauge (conversations, and LLM calls when the client has one): the peak, the time-weighted
    average from the first conversation's start to now, and `..._while_remaining`: the same up to when
    the last conversation started (from then on the window can only empty).
    """
    figures: dict[str, Any] = {"allowed": window.size}
    end = window.readings()
    first, last = window.first_start, window.last_start or end
    for name, gauge in window.gauges.items():
        key = "conversations" if name == "conversations" else f"{name}_calls"
        figures[f"{key}_in_flight_peak"] = gauge.peak
        figures[f"{key}_in_flight_avg"] = round(Gauge.average(first[name], end[name]), 2) if first else 0.0
        figures[f"{key}_in_flight_avg_while_remaining"] = \
            round(Gauge.average(first[name], last[name]), 2) if first else 0.0
    return figures


class Lane:
    """Synchronous bookkeeping in slices: at most about `slice_seconds` of it per turn of the event loop.

    Answers come back in bursts (a budget window opens, a group of answers lands together). Committing
    all of a burst in one turn freezes the window that paints between turns; committing one per turn
    (a lock held across `sleep(0)`) throttles a fast scan to the loop's turn rate, and conversations
    waiting for their turn hold slots the LLM could use. `await lane.enter()` returns at once while the
    current turn has spent less than the slice, else it yields until a later turn.
    """

    def __init__(self, clock: Callable[[], float], slice_seconds: float = 0.008) -> None:
        self._clock = clock
        self._slice = slice_seconds
        self._turn_started: float | None = None

    async def enter(self) -> None:
        while True:
            now = self._clock()
            if self._turn_started is None:
                self._turn_started = now
                # call_soon callbacks run in the next turn: the slice is per turn, not per burst.
                asyncio.get_running_loop().call_soon(self._new_turn)
                return
            if now - self._turn_started < self._slice:
                return
            await asyncio.sleep(0)

    def _new_turn(self) -> None:
        self._turn_started = None
