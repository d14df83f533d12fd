"""No batch barrier: the rolling window of conversations, driven through the real pipeline and the Front
simulator over loopback (a slow conversation holds its own slot, never its batch's)."""

from __future__ import annotations

import asyncio

from desktop.clients.front import FrontClient
from desktop.core.events import BatchFinished, BatchStarted, ConversationFinished, ConversationStarted
from desktop.core.inflight import ConversationWindow
from desktop.core.pipeline import Scanner, ScanParams
from tests.core.test_pipeline import TOKEN, StubExtractor
from tests.helpers.synthetic import front_server


def test_a_slow_conversation_holds_only_its_own_slot(db):
    with front_server(60, per_minute=900) as (server, ws):
        refs = sorted((c for c in ws.conversations if c.messages and not c.merged_into),
                      key=lambda c: (-c.last_activity_at, c.id))
        slow = refs[1].id                                   # in batch 1 of 5 conversations
        events: list = []

        async def main():
            async with FrontClient(server.url, TOKEN) as front:
                scanner = Scanner(front, StubExtractor(delay=0.01, slow={slow: 1.5}), events.append)
                return await scanner.run(ScanParams(ws.start - 10, ws.end, batch_size=5, concurrent_batches=1))
        summary = asyncio.run(main())

    assert summary["state"] == "completed" and summary["conversations_scanned"] == len(refs)
    order = [e.conversation_id for e in events if isinstance(e, ConversationFinished)]
    # One batch at once, yet everything else finished while the slow one ran (with a barrier at the end
    # of each batch, batch 2 would have waited for it): at most 5 in flight, one slot held by it.
    assert order[-1] == slow and len(order) == len(refs)
    in_flight = peak = 0
    for event in events:
        if isinstance(event, ConversationStarted):
            in_flight += 1
            peak = max(peak, in_flight)
        elif isinstance(event, ConversationFinished):
            in_flight -= 1
    assert peak == 5
    # Batch 1 stays open (honestly) until its slow conversation is done; the later ones closed before it.
    closed = [e.batch for e in events if isinstance(e, BatchFinished)]
    opened = [e.batch for e in events if isinstance(e, BatchStarted)]
    assert opened == sorted(opened) and closed[-1] == 1 and sorted(closed) == opened
    assert summary["concurrency"]["allowed"] == 5 and summary["concurrency"]["conversations_in_flight_peak"] == 5


def test_the_first_failure_stops_the_window_and_is_raised():
    async def main():
        window = ConversationWindow(3, asyncio.get_running_loop().time)
        ran = []

        async def work(i):
            await asyncio.sleep(0.01 * i)
            if i == 2:
                raise RuntimeError("disk full")
            ran.append(i)
        try:
            for i in range(10):
                await window.start(lambda i=i: work(i))
            await window.drain()
        except RuntimeError as exc:
            await window.cancel()
            return str(exc), ran
        return None, ran
    error, ran = asyncio.run(main())
    assert error == "disk full" and len(ran) < 9


def test_the_lane_runs_a_slice_of_bookkeeping_per_turn_of_the_loop():
    """Bookkeeping of 4 ms each in a lane with an 10 ms slice: three per turn of the event loop, not one
    (that throttled a fast scan to the loop's turn rate) and not all twelve (that froze the window)."""
    from desktop.core.inflight import Lane

    async def main() -> dict[int, int]:
        now = [0.0]
        lane = Lane(lambda: now[0], slice_seconds=0.010)
        turns = [0]
        per_turn: dict[int, int] = {}
        loop = asyncio.get_running_loop()

        def tick() -> None:
            turns[0] += 1
            if turns[0] < 100:
                loop.call_soon(tick)

        async def bookkeeping() -> None:
            await lane.enter()
            per_turn[turns[0]] = per_turn.get(turns[0], 0) + 1
            now[0] += 0.004

        loop.call_soon(tick)
        await asyncio.gather(*(bookkeeping() for _ in range(12)))
        return per_turn

    per_turn = asyncio.run(main())
    assert sum(per_turn.values()) == 12
    assert max(per_turn.values()) == 3
