"""The scan pipeline against the Front simulator (real HTTP) and a real SQLite file.

The extractor here is a small deterministic stub (a regex for UPS numbers), so these tests are about the
pipeline: streaming batches, unchanged conversations, failures, cancel/resume and the Front budget.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter

import httpx
import pytest

from desktop.clients.errors import ServerError
from desktop.clients.front import FrontClient
from desktop.core.events import (
    BatchFinished,
    BatchStarted,
    ConversationFinished,
    ErrorReported,
    ListingProgress,
    RateLimitWait,
    RunFinished,
    RunStarted,
    RunState,
)
from desktop.core.pipeline import Scanner, ScanParams
from desktop.domain import ExtractedShipment, ExtractionResult
from desktop.errors import ExtractionFailed
from desktop.sim.config import SimConfig
from desktop.sim.front import FrontService
from desktop.sim.server import SimServer
from desktop.sim.workspace import SimMessage
from desktop.store import scans
from desktop.store.db import close_database, open_database
from desktop.store.tables import ConversationRow, RegistrationRow, ShipmentRow
from tests.helpers.synthetic import front_server, synthetic_workspace

TOKEN = "demo-front-token"
UPS = re.compile(r"1Z[0-9A-Z]{16}")


class StubExtractor:
    """Finds UPS-shaped numbers; optional per-conversation delay and one-time failures."""

    name = "rules"

    def __init__(self, delay: float = 0.0, slow: dict[str, float] | None = None, fail_once=()) -> None:
        self.delay, self.slow, self.fail_once = delay, slow or {}, set(fail_once)
        self.calls = 0

    async def extract(self, conversation):
        self.calls += 1
        await asyncio.sleep(self.slow.get(conversation.ref.id, self.delay))
        if conversation.ref.id in self.fail_once:
            self.fail_once.discard(conversation.ref.id)
            raise ExtractionFailed("the model refused")
        found = [ExtractedShipment(n, "ups", "UPS", "ups", 0.9, "tracking number", True, message_id=m.id)
                 for m in conversation.messages for n in UPS.findall(m.text or "")]
        return ExtractionResult(tuple(found), self.name)


@pytest.fixture
def sim():
    with front_server(per_minute=900) as running:
        yield running


@pytest.fixture
def db(db_both):
    """This suite runs on SQLite and on PostgreSQL (issue 16): tests/conftest.py's `db_both`."""
    return db_both


def _scan(server, ws, extractor, events=None, **params):
    async def main():
        async with FrontClient(server.url, TOKEN) as front:
            scanner = Scanner(front, extractor, (events if events is not None else []).append)
            return await scanner.run(ScanParams(ws.start - 10, ws.end, **params))
    return asyncio.run(main())


def _expected_numbers(ws) -> set[str]:
    return {n for c in ws.conversations for m in c.messages for n in UPS.findall(m.text)}


def test_first_scan_commits_everything_and_the_second_is_free(sim, db):
    server, ws = sim
    events = []
    first = _scan(server, ws, StubExtractor(), events, batch_size=20)
    assert first["state"] == "completed"
    assert first["conversations_listed"] == first["conversations_scanned"] == 300
    assert {r.tracking_number for r in ShipmentRow.select()} == _expected_numbers(ws)
    assert RegistrationRow.select().count() == ShipmentRow.select().count() == first["shipments_new"]
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert len(first["batches"]) == 15

    fetches = server.log.message_fetches
    extractor = StubExtractor()
    second = _scan(server, ws, extractor, batch_size=20)
    assert second["conversations_unchanged"] == 300 and second["conversations_scanned"] == 0
    assert second["front_message_fetches"] == 0 and server.log.message_fetches == fetches
    assert extractor.calls == 0 and second["shipments_new"] == 0


def test_changed_conversation_is_scanned_again_and_rescan_forces_all(sim, db):
    server, ws = sim
    _scan(server, ws, StubExtractor())
    conversation = next(c for c in ws.conversations if c.id == "cnv_00010")
    last = conversation.messages[-1]
    conversation.messages.append(SimMessage(
        id="msg_new_one", created_at=last.created_at + 60, is_inbound=True, author_name=None, from_name="C",
        from_handle="c@example.com", to=[], subject="re", body_html="<p>UPS 1Z12345E0205271688</p>",
        text="UPS 1Z12345E0205271688", blurb=""))
    again = _scan(server, ws, StubExtractor())
    assert again["conversations_scanned"] == 1 and again["front_message_fetches"] == 1
    forced = _scan(server, ws, StubExtractor(), rescan=True)
    assert forced["conversations_scanned"] == 300 and forced["shipments_new"] == 0


def test_failed_conversations_are_retried_by_the_next_scan(sim, db):
    server, ws = sim
    first = _scan(server, ws, StubExtractor(fail_once={"cnv_00007", "cnv_00014"}))
    assert first["conversations_failed"] == 2
    row = scans.conversation("cnv_00007")
    assert row.scan_state == "failed" and "refused" in row.error and row.attempts == 1
    assert ShipmentRow.select().where(ShipmentRow.conversation == "cnv_00007").count() == 0
    second = _scan(server, ws, StubExtractor())
    assert second["conversations_scanned"] == 2 and second["conversations_unchanged"] == 298
    assert scans.conversation("cnv_00007").scan_state == "ok"
    assert {r.tracking_number for r in ShipmentRow.select()} == _expected_numbers(ws)


def test_batches_stream_and_a_free_slot_never_waits_for_a_group(db):
    """Batch 1 holds one slow conversation; batches 3, 4, ... run through the other slot meanwhile. Front
    answers in ~30 ms here: with instant answers the three listing pages could all be in before the first
    batch's plan came back from the store, and "batches start while pages are still listed" raced."""
    events = []
    with front_server(per_minute=900, latency_ms=30.0) as (server, ws):
        newest = max(ws.conversations, key=lambda c: c.last_activity_at).id   # listed first -> batch 1
        _scan(server, ws, StubExtractor(slow={newest: 1.5}), events, batch_size=10, concurrent_batches=2)
    order = [(type(e).__name__, getattr(e, "batch", None)) for e in events
             if isinstance(e, (BatchStarted, BatchFinished))]
    assert order.index(("BatchStarted", 5)) < order.index(("BatchFinished", 1))
    complete = next(i for i, e in enumerate(events) if isinstance(e, ListingProgress) and e.complete)
    first_batch = next(i for i, e in enumerate(events) if isinstance(e, BatchStarted))
    assert first_batch < complete                          # batches start while pages are still listed


def _committed_consistently() -> int:
    """Every committed conversation has all of its shipments and their outbox rows; returns the count."""
    committed = 0
    for row in ConversationRow.select():
        assert row.scan_state in ("ok", "no_shipments")
        shipments = list(ShipmentRow.select().where(ShipmentRow.conversation == row.id))
        assert (row.scan_state == "ok") == bool(shipments) or row.scan_state == "ok"
        assert all(RegistrationRow.select().where(RegistrationRow.shipment == s.id).count() == 1 for s in shipments)
        committed += 1
    return committed


@pytest.mark.parametrize("how", ["scanner.cancel", "task.cancel"])
def test_cancel_stops_fast_leaves_whole_conversations_and_resumes(sim, db, tmp_path, how):
    server, ws = sim

    async def cancelled_run():
        async with FrontClient(server.url, TOKEN) as front:
            finished, timing = [], {}

            def sink(event):
                if isinstance(event, ConversationFinished):
                    finished.append(event)
                    if len(finished) == 60 and not timing:
                        timing["cancel"] = time.monotonic()
                        scanner.cancel() if how == "scanner.cancel" else task.cancel()

            scanner = Scanner(front, StubExtractor(delay=0.3), sink)
            task = asyncio.ensure_future(scanner.run(ScanParams(ws.start - 10, ws.end, batch_size=25)))
            try:
                summary = await task
            except asyncio.CancelledError:
                summary = None
            return summary, time.monotonic() - timing["cancel"]

    summary, stop_seconds = asyncio.run(cancelled_run())
    print(f"\nstopped {stop_seconds:.3f} s after cancel")
    assert stop_seconds < 2.0
    if how == "scanner.cancel":
        assert summary["state"] == "cancelled"
    assert scans.recent_runs()[0].state == RunState.CANCELLED.value
    committed = _committed_consistently()
    assert 60 <= committed < 300

    resumed = _scan(server, ws, StubExtractor(), batch_size=25)
    assert resumed["resumed"] is True and resumed["run_id"] == scans.recent_runs()[0].id
    assert resumed["conversations_scanned"] == 300 - committed
    assert _committed_consistently() == 300
    assert {r.tracking_number for r in ShipmentRow.select()} == _expected_numbers(ws)


@pytest.mark.slow
def test_2000_conversations_within_the_front_budget(tmp_path):
    """Done-when: no 429 and finished within 1.15 x (requests made / allowed rate), window scaled to 3 s."""
    limit, window, share = 450, 3.0, 0.8
    ws = synthetic_workspace(2000)
    cfg = SimConfig.for_tests().front
    cfg.rate_limit_per_minute, cfg.window_seconds = limit, window
    service = CountingFront(ws, cfg)
    server = SimServer(service).start()
    database = open_database(tmp_path / "budget.sqlite3")
    try:
        started = time.monotonic()
        summary = _scan(server, ws, StubExtractor())
        seconds = time.monotonic() - started
    finally:
        close_database(database)
        server.stop()
    requests = server.log.total_requests
    allowed_rate = share * limit / window
    bound = 1.15 * requests / allowed_rate
    print(f"\n2000 conversations: {requests} requests in {seconds:.2f} s; allowed rate {allowed_rate:.0f}/s "
          f"({share:.0%} of {limit} per {window:.0f} s) -> ideal {requests / allowed_rate:.2f} s, bound "
          f"{bound:.2f} s; 429s: {server.log.rate_limited}; busiest second: {server.log.max_rate_per_second}")
    per_window = service.per_window()
    print(f"requests per {window:.0f} s window: {per_window} (our share: {share * limit:.0f})")
    assert summary["conversations_scanned"] == 2000 and summary["front_429s"] == 0
    assert server.log.rate_limited == 0
    assert max(per_window) <= share * limit
    assert seconds <= bound


class CountingFront(FrontService):
    """The Front simulator, also recording the window it counted each admitted request in (by the window's
    reset time, as its answer states it: a clock read after `admit` could fall in the next window when a
    request lands at a window's very end on a busy machine, and count it there)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.windows: list[int] = []

    def admit(self, request, kind="", key=""):
        super().admit(request, kind, key)
        self.windows.append(request.context["ratelimit"][2])

    def per_window(self) -> list[int]:
        counts = Counter(self.windows)
        return [counts[k] for k in sorted(counts)]


class FailingSearch(FrontClient):
    """Front whose listing breaks after the first page (the listed part must still be scanned)."""

    async def search(self, since, until, inboxes=()):
        async for page in super().search(since, until, inboxes):
            yield page
            raise ServerError("front", 503, "search is down")


def test_a_listing_failure_still_scans_what_was_listed_and_fails_the_run(sim, db):
    server, ws = sim
    events = []

    async def main():
        async with FailingSearch(server.url, TOKEN) as front:
            return await Scanner(front, StubExtractor(), events.append).run(
                ScanParams(ws.start - 10, ws.end, batch_size=30))

    summary = asyncio.run(main())
    assert summary["state"] == "failed" and "503" in summary["error"]
    assert summary["conversations_listed"] == summary["conversations_scanned"] == 100
    assert any(isinstance(e, ErrorReported) and "503" in e.message for e in events)
    assert scans.find_resumable(ws.start - 10, ws.end, ()) is not None


def test_front_waits_reach_the_sink_as_rate_limit_events(db):
    state = {"messages": 0}
    headers = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "90", "x-ratelimit-reset": str(time.time() + 60)}

    def handler(request):
        if "/search/" in request.url.path:
            return httpx.Response(200, headers=headers, json={"_pagination": {"next": None}, "_results": [
                {"id": "cnv_1", "subject": "s", "status": "archived", "created_at": 5.0,
                 "_links": {"related": {"last_message": "https://x/messages/msg_1"}}}]})
        state["messages"] += 1
        if state["messages"] == 1:
            return httpx.Response(429, headers={**headers, "x-ratelimit-remaining": "0", "retry-after": "1",
                                                "x-ratelimit-reset": str(time.time() + 0.5)})
        return httpx.Response(200, headers=headers, json={"_pagination": {"next": None}, "_results": [
            {"id": "msg_1", "created_at": 5.0, "is_inbound": True, "body": "<p>hi</p>", "text": "hi"}]})

    events = []

    async def main():
        front = FrontClient("https://front.test", TOKEN, http=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
        return await Scanner(front, StubExtractor(), events.append).run(ScanParams(0, 10))

    summary = asyncio.run(main())
    waits = [e for e in events if isinstance(e, RateLimitWait)]
    assert summary["front_429s"] == 1 and summary["conversations_scanned"] == 1
    assert waits and waits[0].service == "front" and waits[0].seconds >= 1.0
