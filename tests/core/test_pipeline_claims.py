"""The scan pipeline's claims (issue 16, item 2) against the Front simulator, on SQLite and PostgreSQL:
a conversation another live scan holds is skipped and counted, one another scan committed after this one
planned it counts as unchanged, and a claim outlives a conversation that takes longer than the lease."""

from __future__ import annotations

import asyncio

import pytest

from desktop.clients.front import FrontClient
from desktop.core.events import ConversationFinished, ConversationStarted, Progress
from desktop.core.pipeline import Scanner, ScanParams
from desktop.domain import ExtractionResult
from desktop.store import claims, scans
from desktop.store.tables import ShipmentRow
from tests.core.test_pipeline import TOKEN, StubExtractor
from tests.helpers.synthetic import front_server

OTHER_DESKTOP = "4242@other-desktop#run99"


class Recording(StubExtractor):
    """The stub, remembering which conversations it was given (so: whose messages were fetched)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seen: list[str] = []

    async def extract(self, conversation):
        self.seen.append(conversation.ref.id)
        return await super().extract(conversation)


@pytest.fixture
def sim():
    with front_server(60, per_minute=900) as running:
        yield running


@pytest.fixture
def db(db_both):
    return db_both


def _scan(server, ws, extractor, sink=None, **params):
    async def main():
        async with FrontClient(server.url, TOKEN) as front:
            scanner = Scanner(front, extractor, sink or (lambda event: None))
            return await scanner.run(ScanParams(ws.start - 10, ws.end, **params))
    return asyncio.run(main())


def _listing(server, ws) -> dict:
    async def main():
        async with FrontClient(server.url, TOKEN) as front:
            return {ref.id: ref async for page in front.search(ws.start - 10, ws.end) for ref in page}
    return asyncio.run(main())


def test_a_conversation_another_scan_holds_is_skipped_and_counted(sim, db):
    server, ws = sim
    assert claims.claim("cnv_00005", OTHER_DESKTOP, 120.0)
    events, extractor = [], Recording()
    first = _scan(server, ws, extractor, events.append, batch_size=10)
    assert (first["conversations_scanned"], first["claimed_elsewhere"], first["state"]) == (59, 1, "completed")
    assert len(extractor.seen) == 59 and "cnv_00005" not in extractor.seen
    assert scans.conversation("cnv_00005") is None
    finished = {e.conversation_id: e.state for e in events if isinstance(e, ConversationFinished)}
    assert finished["cnv_00005"] == "claimed_elsewhere"
    assert sum(batch["claimed_elsewhere"] for batch in first["batches"]) == 1
    assert [e for e in events if isinstance(e, Progress)][-1].elsewhere == 1   # the window says so too
    assert claims.holder("cnv_00005").owner == OTHER_DESKTOP                  # never touched
    claims.release("cnv_00005", OTHER_DESKTOP)                                 # that scan gave up
    second = _scan(server, ws, StubExtractor(), batch_size=10)
    assert (second["conversations_scanned"], second["conversations_unchanged"], second["claimed_elsewhere"]) \
        == (1, 59, 0)


def test_a_conversation_committed_by_another_scan_after_planning_counts_as_unchanged(sim, db):
    server, ws = sim
    refs = _listing(server, ws)
    extractor = Recording()

    def other_scan_commits_it_first(event):
        # Between this scan's plan (at its batch's start) and its claim of the conversation.
        if isinstance(event, ConversationStarted) and event.conversation_id == "cnv_00007":
            scans.commit_conversation(refs["cnv_00007"], run_id=None, result=ExtractionResult((), "rules"))

    summary = _scan(server, ws, extractor, other_scan_commits_it_first, batch_size=60)
    assert (summary["conversations_scanned"], summary["conversations_unchanged"]) == (59, 1)
    assert len(extractor.seen) == 59 and "cnv_00007" not in extractor.seen
    assert claims.holder("cnv_00007") is None


def test_a_claim_outlives_a_conversation_slower_than_the_lease(sim, db, monkeypatch):
    server, ws = sim
    monkeypatch.setenv("SHIPSCAN_CLAIM_LEASE", "1")
    refused = []

    class Slow(StubExtractor):
        async def extract(self, conversation):
            if conversation.ref.id == "cnv_00003":
                await asyncio.sleep(2.5)                                     # two and a half leases
                refused.append(not claims.claim("cnv_00003", OTHER_DESKTOP, 1.0))
            return await super().extract(conversation)

    summary = _scan(server, ws, Slow(), batch_size=10)
    assert refused == [True] and summary["conversations_scanned"] == 60
    assert claims.holder("cnv_00003") is None and ShipmentRow.select().count() > 0
    assert claims.ScanClaimRow.select().count() == 0                           # the run's own lease ended too


def test_the_claims_of_conversations_started_together_share_store_calls(sim, db, monkeypatch):
    """A full window's conversations start at once: their claims go in a few grouped calls, not 60 in a row
    on the store thread, and each conversation still gets its own answer."""
    server, ws = sim
    assert claims.claim("cnv_00011", OTHER_DESKTOP, 120.0)
    groups: list[int] = []
    claim_many = claims.claim_many

    def counted(keys, *args, **kwargs):
        keys = list(keys)
        groups.append(len(keys))
        return claim_many(keys, *args, **kwargs)

    monkeypatch.setattr(claims, "claim_many", counted)
    extractor = Recording()
    summary = _scan(server, ws, extractor, batch_size=20, concurrent_batches=3)
    assert (summary["conversations_scanned"], summary["claimed_elsewhere"]) == (59, 1)
    assert sorted(extractor.seen) == sorted(f"cnv_{i:05d}" for i in range(60) if i != 11)
    assert sum(groups) == 60 and len(groups) < 10, groups
