"""FrontClient against the Front simulator on loopback (real HTTP), plus error paths with MockTransport."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from desktop.clients.errors import (
    ApiTimeout,
    AuthError,
    MalformedResponse,
    NotFound,
    RateLimited,
    ServerError,
)
from desktop.clients.front import FrontClient, search_query
from tests.helpers.synthetic import front_server

TOKEN = "demo-front-token"


@pytest.fixture
def front_sim():
    """A Front simulator over 300 synthetic conversations; yields (server, workspace); config is live."""
    with front_server(per_minute=600) as running:
        yield running


async def _list_all(client: FrontClient, since: float, until: float, inboxes=()) -> list:
    refs = []
    async for page in client.search(since, until, inboxes):
        refs += page
    return refs


def test_search_query_is_epoch_seconds_and_url_encoded():
    query = search_query(1_700_000_000.5, 1_700_086_400, "inb_a")
    assert query == "after:1699999999 before:1700086400 inbox:inb_a"


def test_search_lists_every_conversation_once(front_sim):
    server, ws = front_sim

    async def main():
        async with FrontClient(server.url, TOKEN) as client:
            refs = await _list_all(client, ws.start - 10, ws.end)
            return refs, client.last_total, client.stats

    refs, total, stats = asyncio.run(main())
    listed = {c.id for c in ws.conversations if c.messages}
    assert [r.id for r in refs].count(refs[0].id) == 1
    assert {r.id for r in refs} == listed
    assert total == len(listed)
    assert stats.search_requests == 3                       # 300 at limit=100
    assert all(r.last_message_id and r.last_message_id.startswith("msg_") for r in refs)
    assert any("search/after%3A" in route or "search" in route for route in server.log.requests_by_route)


def test_search_window_excludes_outside_activity(front_sim):
    server, ws = front_sim
    mid = ws.start + 10 * 86400

    async def main():
        async with FrontClient(server.url, TOKEN) as client:
            return await _list_all(client, ws.start - 10, mid)

    refs = asyncio.run(main())
    expected = {c.id for c in ws.conversations if any(m.created_at < mid for m in c.messages)}
    assert {r.id for r in refs} == expected


def test_several_inboxes_are_searched_separately_and_merged(front_sim):
    server, ws = front_sim

    async def main():
        async with FrontClient(server.url, TOKEN) as client:
            return await _list_all(client, ws.start - 10, ws.end, ["inb_a", "inb_b"])

    refs = asyncio.run(main())
    assert len(refs) == len({r.id for r in refs}) == 300
    assert {r.inbox_ids for r in refs} == {("inb_a",), ("inb_b",)}


@pytest.mark.parametrize("fault", ["repeat_next", "empty_tail"])
def test_pagination_faults_end_the_listing(front_sim, fault):
    server, ws = front_sim
    server.config.pagination_fault = fault

    async def main():
        async with FrontClient(server.url, TOKEN) as client:
            return await _list_all(client, ws.start - 10, ws.end), client.stats.search_requests

    refs, requests = asyncio.run(main())
    assert len({r.id for r in refs}) == len(refs) == 300
    assert requests <= 3 + 3                                # a few extra pages at most, never a loop


def test_drifting_pages_are_deduplicated_and_next_followed_as_given(front_sim):
    server, ws = front_sim
    server.config.drift = True
    server.config.next_host = "company"                     # next links use another host name

    async def main():
        async with FrontClient(server.url, TOKEN) as client:
            return await _list_all(client, ws.start - 10, ws.end)

    refs = asyncio.run(main())
    assert len(refs) == len({r.id for r in refs})
    assert len(refs) == 300                                  # drift repeats items; each listed once


def test_messages_every_page_oldest_first_and_merged_followed(front_sim):
    server, _ws = front_sim

    async def main():
        async with FrontClient(server.url, TOKEN) as client:
            huge = await client.conversation_messages("cnv_00001")
            merged = await client.conversation_messages("cnv_merged")
            inboxes = await client.inboxes()
            return huge, merged, inboxes

    (huge_id, huge), (merged_id, merged), inboxes = asyncio.run(main())
    assert huge_id == "cnv_00001" and len(huge) == 130
    assert [m.created_at for m in huge] == sorted(m.created_at for m in huge)
    assert merged_id == "cnv_00000" and len(merged) == 1
    assert merged[0].sender == "Customer <c@example.com>"
    assert [i.id for i in inboxes] == ["inb_a", "inb_b"]


def test_unknown_conversation_and_bad_token(front_sim):
    server, _ws = front_sim

    async def main():
        async with FrontClient(server.url, TOKEN) as client:
            with pytest.raises(NotFound):
                await client.conversation_messages("cnv_nope")
        async with FrontClient(server.url, "wrong") as client:
            with pytest.raises(AuthError):
                await client.inboxes()

    asyncio.run(main())


@pytest.mark.slow
def test_pacing_keeps_under_budget_before_any_429(front_sim):
    """A small budget (60 per 2 s window): 200 message fetches + search never see a 429."""
    server, ws = front_sim
    server.config.rate_limit_per_minute = 60
    server.config.window_seconds = 2.0
    waits = []

    async def main():
        async with FrontClient(server.url, TOKEN, on_wait=lambda s, r: waits.append((s, r))) as client:
            refs = await _list_all(client, ws.start - 10, ws.end)
            started = time.monotonic()
            await asyncio.gather(*(client.conversation_messages(r.id) for r in refs[:200]))
            return client.stats, time.monotonic() - started

    stats, seconds = asyncio.run(main())
    allowed = 0.8 * 60 / 2.0
    print(f"\n{stats.requests} requests, {seconds:.2f} s for 200 fetches; "
          f"{200 / allowed:.2f} s at the allowed {allowed:.0f}/s; 429s: {server.log.rate_limited}")
    assert server.log.rate_limited == 0 and stats.rate_limited == 0


def test_search_held_to_its_share(front_sim):
    """Search's own counter is 40% of the company limit: 16 per window here; we use at most 80% of it."""
    server, ws = front_sim
    server.config.rate_limit_per_minute = 40                 # search cap: 16 per window, ours: 12
    server.config.window_seconds = 1.0
    server.config.default_limit = 10

    async def main():
        async with FrontClient(server.url, TOKEN) as client:
            refs = []
            for _ in range(3):
                refs = await _list_all(client, ws.start - 10, ws.end)
            return refs, client.stats

    refs, stats = asyncio.run(main())
    assert len(refs) == 300 and stats.search_requests == 9
    assert server.log.rate_limited == 0


# -- error paths with a mock transport ------------------------------------------------------------------
def _mock(handler) -> FrontClient:
    return FrontClient("https://front.test", TOKEN, http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
                       max_attempts=3)


HEADERS = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "90", "x-ratelimit-reset": str(time.time() + 60)}


def _page(results, next_url=None) -> httpx.Response:
    return httpx.Response(200, headers=HEADERS, json={"_pagination": {"next": next_url}, "_results": results})


def test_429_honours_retry_after_at_least_one_second():
    calls, waits = [], []

    def handler(request):
        calls.append(time.monotonic())
        if len(calls) == 2:
            return httpx.Response(429, headers={**HEADERS, "x-ratelimit-remaining": "0", "retry-after": "0",
                                                "x-ratelimit-reset": str(time.time() + 0.2)},
                                  json={"_error": {"status": 429, "message": "Rate limit exceeded"}})
        return _page([{"id": "inb_1", "name": "A"}])

    async def main():
        client = _mock(handler)
        client.on_wait = lambda s, r: waits.append(s)
        await client.inboxes()
        await client.inboxes()
        return client.stats

    stats = asyncio.run(main())
    assert len(calls) == 3 and stats.rate_limited == 1
    assert calls[2] - calls[1] >= 0.95                     # retry-after 0 still waits the 1 s floor
    assert waits and max(waits) >= 0.95


def test_tier_429_pauses_only_that_resource():
    def handler(request):
        return httpx.Response(429, headers={**HEADERS, "retry-after": "3", "x-front-tier": "2"},
                              json={"_error": {"status": 429, "message": "tier-2"}})

    async def main():
        client = _mock(handler)
        client._max_attempts = 1
        with pytest.raises(RateLimited) as caught:
            await client.conversation_messages("cnv_1")
        assert caught.value.tier == "2"
        assert client.pacer.company.delay() in (0.0, None)          # the company budget is not paused
        assert client.pacer.resource_wait("conversation:cnv_1") > 2

    asyncio.run(main())


def test_tier_429_on_a_route_without_a_resource_holds_that_route():
    """`GET /inboxes` names no resource: its tier 429 holds the next inbox listing, not everything."""
    calls = []

    def handler(request):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx.Response(429, headers={**HEADERS, "retry-after": "1", "x-front-tier": "1"},
                                  json={"_error": {"status": 429, "message": "tier-1"}})
        return _page([{"id": "inb_1", "name": "Support"}])

    async def main():
        client = _mock(handler)
        inboxes = await client.inboxes()
        assert client.pacer.company.delay() in (0.0, None)
        return inboxes
    inboxes = asyncio.run(main())
    assert [i.id for i in inboxes] == ["inb_1"]
    assert calls[1] - calls[0] >= 0.95                               # retry-after honoured on that route


@pytest.mark.parametrize(("status", "error"), [(401, AuthError), (404, NotFound), (503, ServerError)])
def test_status_errors_are_typed(status, error):
    def handler(request):
        return httpx.Response(status, headers=HEADERS, json={"_error": {"status": status, "message": "nope"}})

    async def main():
        client = _mock(handler)
        client._backoff = _no_sleep
        with pytest.raises(error) as caught:
            await client.inboxes()
        return caught.value

    exc = asyncio.run(main())
    assert exc.status == status and "nope" in str(exc)


async def _no_sleep(attempt, exc):
    return None


def test_timeouts_and_bad_json():
    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    def bad(request):
        return httpx.Response(200, headers=HEADERS, content=b"{not json")

    async def main():
        client = _mock(slow)
        client._backoff = _no_sleep
        with pytest.raises(ApiTimeout):
            await client.inboxes()
        assert client.stats.requests == 3
        with pytest.raises(MalformedResponse):
            await _mock(bad).inboxes()

    asyncio.run(main())


def test_pages_follow_next_exactly_and_dedupe():
    seen = []

    def handler(request):
        seen.append(str(request.url))
        if "page_token" not in str(request.url):
            return _page([_conv("cnv_1"), _conv("cnv_2")], "https://other.test/conversations/search/x?page_token=ab")
        return _page([_conv("cnv_2"), _conv("cnv_3")], None)

    async def main():
        return await _list_all(_mock(handler), 0, 10)

    refs = asyncio.run(main())
    assert [r.id for r in refs] == ["cnv_1", "cnv_2", "cnv_3"]
    assert seen[1] == "https://other.test/conversations/search/x?page_token=ab"
    assert seen[0].startswith("https://front.test/conversations/search/after%3A-1%20before%3A10?limit=100")


def _conv(cid: str) -> dict:
    return json.loads(json.dumps({"id": cid, "subject": "s", "status": "archived", "created_at": 1.0,
                                  "_links": {"related": {"last_message": f"https://x/messages/msg_{cid}"}}}))
