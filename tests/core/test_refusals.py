"""A refused key or an empty account stops the work at the first answer (issue 13, item 6).

The scan and the status refresh run against the simulators on loopback and a real SQLite file: a wrong
OpenAI or Front key fails the run with one line naming the service, after one request (or the few
already in flight), and leaves the conversations not yet scanned untouched, so the next scan resumes.
"""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from desktop.clients.errors import AuthError, ServiceRefused
from desktop.clients.front import FrontClient
from desktop.clients.llm import LlmClient, QuotaExceeded
from desktop.clients.ship24 import Ship24Client
from desktop.core.events import ErrorReported, RunState
from desktop.core.llm_extractor import LlmExtractor, ShipmentList, load_prompt
from desktop.core.pipeline import Scanner, ScanParams
from desktop.core.registration import RegistrationWorker
from desktop.core.status import StatusRefresher
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import generate_workspace
from desktop.store.tables import ConversationRow, ScanRunRow
from tests.helpers.registration import SHIP24_KEY, add_shipment, numbers, ship24_sim

CHAT = "POST /v1/chat/completions"
MODELS = "GET /v1/models"
FAST = {"backoff_base": 0.01, "backoff_max": 0.05}


@pytest.fixture(scope="module")
def sims():
    workspace = generate_workspace(seed=5, conversations=40)
    config = SimConfig.for_tests()
    config.openai.window_seconds = 3.0     # the per-minute budgets refill in 3 s
    config.front.rate_limit_per_minute, config.front.window_seconds = 150, 3.0
    with start_simulators(workspace, config) as running:
        yield running, workspace


def _scan(sims, *, openai_key=DEMO_KEYS["openai"], front_key=DEMO_KEYS["front"], llm=None, events=None):
    running, ws = sims

    async def main():
        client = llm or LlmClient(running.openai_url, openai_key, "gpt-test", max_retries=2, rate_period=3.0,
                                  **FAST)
        async with FrontClient(running.front_url, front_key) as front:
            scanner = Scanner(front, LlmExtractor(client), (events if events is not None else []).append,
                              llm=client)
            try:
                return await scanner.run(ScanParams(ws.start - 10, ws.end + 10, batch_size=10))
            finally:
                await client.aclose()
    return asyncio.run(main())


def _states() -> dict[str, str]:
    return {row.id: row.scan_state for row in ConversationRow.select()}


def test_a_wrong_openai_key_fails_the_run_after_one_call_and_the_next_run_resumes(db, sims):
    running, _ws = sims
    log = running.openai.log.requests_by_route
    before, models_before = log[CHAT], log.get(MODELS, 0)
    events = []
    summary = _scan(sims, openai_key="sk-wrong-key", events=events)
    calls = log[CHAT] - before
    assert summary.state == "failed"
    assert summary["error"].startswith("OpenAI refused the key (HTTP 401): Incorrect API key")
    # The key is asked about once (GET /models) before any chat call: a wrong one costs that one request.
    assert calls == 0 and log[MODELS] - models_before == 1, (calls, log)
    assert summary["conversations_failed"] == 0 and "failed" not in _states().values()
    assert [e.message for e in events if isinstance(e, ErrorReported)] == [summary["error"]]
    assert ScanRunRow.get_by_id(summary["run_id"]).state == RunState.FAILED.value

    again = _scan(sims)
    assert again["resumed"] and again["run_id"] == summary["run_id"] and again.state == "completed"
    assert again["llm_calls"] > 0 and again["conversations_failed"] == 0


def test_a_wrong_front_key_fails_the_run_naming_front(db, sims):
    summary = _scan(sims, front_key="wrong-front-token")
    assert summary.state == "failed"
    assert summary["error"].startswith("Front refused the key (HTTP 401)")
    assert _states() == {}


def test_an_empty_account_fails_the_run_after_one_call(db, sims):
    sent = []

    def handler(request):
        sent.append(request)
        return httpx2.Response(429, json={"error": {"message": "You exceeded your current quota.",
                                                    "type": "insufficient_quota", "param": None,
                                                    "code": "insufficient_quota"}})
    client = LlmClient("https://llm.invalid/v1", "sk-test", "gpt-test", max_retries=3, **FAST,
                       http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)))
    summary = _scan(sims, llm=client)
    assert summary.state == "failed" and 1 <= len(sent) <= 5, len(sent)
    assert summary["error"] == ("OpenAI refused the request (HTTP 429 insufficient_quota): "
                                "You exceeded your current quota.")
    assert "failed" not in _states().values()


def test_the_client_remembers_a_refusal_until_told_to_forget(sims):
    running, _ws = sims

    log = running.openai.log.requests_by_route

    def requests() -> int:
        return log.get(MODELS, 0) + log.get(CHAT, 0)

    async def main():
        client = LlmClient(running.openai_url, "sk-wrong", "gpt-test", max_retries=3, **FAST)
        before = requests()
        for _ in range(3):
            with pytest.raises(AuthError):
                await client.parse(load_prompt(), "hello", ShipmentList)
        sent = requests() - before
        client.forget_refusal()
        with pytest.raises(AuthError):
            await client.parse(load_prompt(), "hello", ShipmentList)
        await client.aclose()
        return sent, requests() - before
    assert asyncio.run(main()) == (1, 2)   # one request per key check: the wrong key is asked about once


def test_an_empty_account_is_remembered_too():
    sent = []

    def handler(request):
        sent.append(request)
        return httpx2.Response(429, json={"error": {"message": "quota", "type": "insufficient_quota",
                                                    "code": "insufficient_quota"}})

    async def main():
        client = LlmClient("https://llm.invalid/v1", "sk-test", "gpt-test", **FAST, check_key=False,
                           http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)))
        for _ in range(3):
            with pytest.raises(QuotaExceeded):
                await client.parse(load_prompt(), "hello", ShipmentList)
        await client.aclose()
    asyncio.run(main())
    assert len(sent) == 1


def test_status_refresh_stops_at_the_first_refused_key(db):
    for number in numbers(6, seed=9):
        add_shipment(number, courier_code=None)
    events = []

    async def main(url):
        async with Ship24Client(url, SHIP24_KEY) as good:
            await RegistrationWorker(good).drain_once()
        async with Ship24Client(url, "apik_wrong") as wrong:
            return await StatusRefresher(wrong, events.append, concurrency=4).refresh()

    with ship24_sim() as sim:
        with pytest.raises(ServiceRefused) as caught:
            asyncio.run(main(sim.url))
        refused = sim.log.status_counts[401]
    assert refused == 1
    assert str(caught.value) == "Ship24 refused the key (HTTP 401): The API key is invalid"


def test_the_key_check_starts_early_once_and_a_scan_with_nothing_to_read_never_asks(db, sims):
    """`check_key_soon` sends GET /models at once, without a call waiting for it; the first call then
    shares that answer (one models request in all). A scan whose conversations are all unchanged fetches
    nothing, so it never warms the extractor up: no models request at all."""
    running, _ws = sims
    log = running.openai.log.requests_by_route

    async def early():
        client = LlmClient(running.openai_url, DEMO_KEYS["openai"], "gpt-test", rate_period=3.0, **FAST)
        before = log.get(MODELS, 0)
        client.check_key_soon()
        client.check_key_soon()                       # idempotent
        for _ in range(200):
            if log.get(MODELS, 0) > before:
                break
            await asyncio.sleep(0.01)
        asked = log.get(MODELS, 0) - before
        await client.parse("Reply with no shipments.", "hello", ShipmentList)
        await client.aclose()
        return asked, log.get(MODELS, 0) - before

    assert asyncio.run(early()) == (1, 1)

    async def closed_before_the_answer():
        client = LlmClient(running.openai_url, DEMO_KEYS["openai"], "gpt-test", rate_period=3.0, **FAST)
        client.check_key_soon()
        await client.aclose()                         # cancels the pending check quietly
        return client._key_check.cancelled() or client._key_check.done()

    assert asyncio.run(closed_before_the_answer())
    assert _scan(sims).state == "completed"          # everything read once...
    before = log.get(MODELS, 0)
    again = _scan(sims)                              # ...so this one has nothing to fetch
    assert again["conversations_unchanged"] > 0 and again["llm_calls"] == 0
    assert log.get(MODELS, 0) == before
