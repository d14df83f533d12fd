"""LlmClient: the real openai SDK against the OpenAI simulator on loopback (faults, 429s, exhausted retries),
plus httpx2 MockTransport handlers for the odd error paths the simulator does not produce on demand."""

from __future__ import annotations

import asyncio
import json

import httpx2
import openai
import pytest

from desktop.clients.errors import (
    ApiConnectionError,
    ApiStatusError,
    ApiTimeout,
    AuthError,
    MalformedResponse,
    RateLimited,
    ServerError,
)
from desktop.clients.headers import duration as parse_duration
from desktop.clients.headers import retry_after as retry_after_seconds
from desktop.clients.llm import (
    CallUsage,
    CutOff,
    LlmClient,
    QuotaExceeded,
    Refused,
)
from desktop.core.llm_extractor import ShipmentList, load_prompt
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import generate_workspace

# The key check (GET /models) is tested in tests/core/test_refusals.py; here each request is a call.
FAST = {"check_key": False, "backoff_base": 0.01, "backoff_max": 0.05}


@pytest.fixture(scope="module")
def workspace():
    return generate_workspace(seed=7, conversations=40)


@pytest.fixture(scope="module")
def sims(workspace):
    cfg = SimConfig.for_tests()
    with start_simulators(workspace, cfg) as running:
        yield running


@pytest.fixture
def openai_sim(sims):
    """The OpenAI simulator with its config reset to "no faults, generous limits" for each test."""
    fresh = SimConfig.for_tests().openai
    for name in ("missed_number_rate", "invented_number_rate", "wrong_carrier_rate", "malformed_json_rate",
                 "refusal_rate", "cutoff_rate", "requests_per_minute", "tokens_per_minute", "window_seconds",
                 "rate_limits"):
        setattr(sims.openai.config, name, getattr(fresh, name))
    for name in ("error_5xx_rate", "timeout_rate", "reset_rate", "timeout_hold_seconds"):
        setattr(sims.openai.config.faults, name, getattr(fresh.faults, name))
    yield sims


@pytest.fixture
def sample(workspace):
    """(text of a message holding a real shipment, that shipment's normalised number)."""
    for conv in workspace.conversations:
        for shipment in workspace.truth[conv.id]:
            message = next(m for m in conv.messages if m.id == shipment.message_id)
            return f"[message {message.id} | 2026-01-01 | from shop]\n{message.text}", shipment.tracking_number
    pytest.skip("the workspace has no shipments")


def make_client(url: str, **kwargs) -> LlmClient:
    options = {"max_retries": 3, "timeout": 5.0, **FAST, **kwargs}
    return LlmClient(url, kwargs.pop("api_key", DEMO_KEYS["openai"]), "gpt-test", **options)


def numbers(reply) -> set[str]:
    return {item.tracking_number.replace(" ", "").replace("-", "").upper() for item in reply.parsed.shipments}


async def call(client: LlmClient, text: str, usage: CallUsage | None = None):
    try:
        return await client.parse(load_prompt(), text, ShipmentList, usage=usage)
    finally:
        await client.aclose()


# --- success --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_success_returns_parsed_answer_and_counts_tokens(openai_sim, sample, api):
    text, number = sample
    before = openai_sim.openai.log.snapshot()
    client = make_client(openai_sim.openai_url, api=api)
    reply = asyncio.run(call(client, text))
    assert number in numbers(reply)
    assert reply.attempts == 1 and client.stats.calls == 1 and client.stats.retries == 0
    assert reply.tokens_in > 0 and reply.tokens_out > 0
    assert (client.stats.tokens_in, client.stats.tokens_out) == (reply.tokens_in, reply.tokens_out)
    after = openai_sim.openai.log.snapshot()
    assert after["tokens_in"] - before["tokens_in"] == reply.tokens_in


# --- each fault switch: the first attempt fails, the retry succeeds -------------------------------------

FAULTS = [
    ("faults.error_5xx_rate", "server"),
    ("faults.reset_rate", "connection"),
    ("faults.timeout_rate", "timeout"),
    ("malformed_json_rate", "malformed"),
    ("refusal_rate", "refusal"),
    ("cutoff_rate", "cut_off"),
]


def _set(config, dotted: str, value: float) -> None:
    *path, name = dotted.split(".")
    for part in path:
        config = getattr(config, part)
    setattr(config, name, value)


def fault_once_client(sims, dotted: str, **kwargs) -> LlmClient:
    """A client whose first request meets the fault; a request hook switches it off for the second."""
    config = sims.openai.config
    _set(config, dotted, 1.0)
    sent = []

    async def on_request(request):
        sent.append(request)
        if len(sent) >= 2:
            _set(config, dotted, 0.0)

    http = openai.DefaultAsyncHttpx2Client(trust_env=False, event_hooks={"request": [on_request]})
    return make_client(sims.openai_url, http_client=http, **kwargs)


@pytest.mark.parametrize("dotted, kind", FAULTS)
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_each_fault_is_retried_and_counted(openai_sim, sample, dotted, kind, api):
    text, number = sample
    openai_sim.openai.config.faults.timeout_hold_seconds = 3.0
    client = fault_once_client(openai_sim, dotted, api=api, timeout=0.5)
    usage = CallUsage()
    reply = asyncio.run(call(client, text, usage))
    assert number in numbers(reply)
    assert client.stats.errors == {kind: 1}
    assert client.stats.retries == 1 and client.stats.calls == 2 and usage.attempts == 2
    assert client.stats.failures == 0


@pytest.mark.parametrize("dotted, error", [
    ("faults.error_5xx_rate", ServerError),
    ("faults.reset_rate", ApiConnectionError),
    ("malformed_json_rate", MalformedResponse),
    ("refusal_rate", Refused),
    ("cutoff_rate", CutOff),
])
def test_exhausted_retries_raise_our_error(openai_sim, sample, dotted, error):
    text, _ = sample
    _set(openai_sim.openai.config, dotted, 1.0)
    client = make_client(openai_sim.openai_url, max_retries=2)
    usage = CallUsage()
    with pytest.raises(error) as caught:
        asyncio.run(call(client, text, usage))
    assert caught.value.service == "openai" and caught.value.temporary
    assert usage.attempts == 3 and client.stats.calls == 3 and client.stats.retries == 2
    assert client.stats.failures == 1


def test_timeout_exhausted_raises_api_timeout(openai_sim, sample):
    openai_sim.openai.config.faults.timeout_rate = 1.0
    openai_sim.openai.config.faults.timeout_hold_seconds = 2.0
    client = make_client(openai_sim.openai_url, max_retries=1, timeout=0.3)
    with pytest.raises(ApiTimeout):
        asyncio.run(call(client, sample[0]))
    assert client.stats.errors == {"timeout": 2}


def test_wrong_key_is_auth_error_without_retry(openai_sim, sample):
    client = LlmClient(openai_sim.openai_url, "sk-wrong", "gpt-test", max_retries=3, **FAST)
    with pytest.raises(AuthError):
        asyncio.run(call(client, sample[0]))
    assert client.stats.calls == 1 and client.stats.retries == 0
    assert client.stats.failures == 1 and client.stats.errors == {"auth": 1}


# --- rate limits --------------------------------------------------------------------------------------


def test_rpm_limit_on_the_simulator_is_survived(openai_sim, sample):
    """A tiny RPM budget: every call still succeeds, 429s (if any) are retried, none is lost."""
    config = openai_sim.openai.config
    config.rate_limits, config.requests_per_minute, config.window_seconds = True, 3, 1.0
    before = openai_sim.openai.log.snapshot()
    waits: list[tuple[float, str]] = []
    client = make_client(openai_sim.openai_url, max_retries=6, rate_period=config.window_seconds,
                         on_wait=lambda s, r: waits.append((s, r)))

    async def run():
        try:
            # The first answer's x-ratelimit-* headers teach the client the budget; then 8 at once.
            first = await client.parse(load_prompt(), sample[0], ShipmentList)
            return [first, *await asyncio.gather(*(client.parse(load_prompt(), sample[0], ShipmentList)
                                                   for _ in range(8)))]
        finally:
            await client.aclose()

    replies = asyncio.run(run())
    assert all(sample[1] in numbers(r) for r in replies)
    after = openai_sim.openai.log.snapshot()
    sent_429 = after["rate_limited"] - before["rate_limited"]
    assert client.stats.rate_limited == sent_429
    assert client.stats.calls == 9 + client.stats.retries
    print(f"\nRPM 3 per 1 s window: 9 calls, {sent_429} x 429, retries {client.stats.retries}, "
          f"reported waits {len(waits)}, {after['calls'] - before['calls']} answered")


def test_tpm_limit_on_the_simulator_is_paced(openai_sim, sample):
    """A token budget of about two calls per 1 s window: after the first answer the client paces itself."""
    config = openai_sim.openai.config
    config.rate_limits, config.tokens_per_minute, config.window_seconds = True, 2000, 1.0
    before = openai_sim.openai.log.snapshot()
    client = make_client(openai_sim.openai_url, max_retries=6, rate_period=1.0, max_output_tokens=200)

    async def run():
        try:
            first = await client.parse(load_prompt(), sample[0], ShipmentList)
            return [first, *await asyncio.gather(*(client.parse(load_prompt(), sample[0], ShipmentList)
                                                   for _ in range(5)))]
        finally:
            await client.aclose()

    replies = asyncio.run(run())
    assert all(sample[1] in numbers(r) for r in replies)
    sent_429 = openai_sim.openai.log.snapshot()["rate_limited"] - before["rate_limited"]
    assert client.stats.rate_limited == sent_429 and client.stats.calls == 6 + client.stats.retries
    print(f"\nTPM 2000 per 1 s window: 6 calls, {sent_429} x 429, {client.stats.tokens_in} tokens in")


def _completion(content: str = '{"shipments": []}', finish: str = "stop") -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-test",
            "choices": [{"index": 0, "finish_reason": finish, "logprobs": None,
                         "message": {"role": "assistant", "content": content, "refusal": None}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}}


def _rate_body(kind: str = "requests", code: str = "rate_limit_exceeded") -> dict:
    return {"error": {"message": f"Rate limit reached on {kind}", "type": kind, "param": None, "code": code}}


def mock_client(handler, **kwargs) -> LlmClient:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return LlmClient("https://llm.invalid/v1", "sk-test", "gpt-test", http_client=http,
                     **{"max_retries": 3, **FAST, **kwargs})


def test_429_retry_after_ms_is_honoured_and_reported():
    seen = []

    def handler(request):
        seen.append(request)
        if len(seen) == 1:
            return httpx2.Response(429, headers={"retry-after-ms": "1100", "retry-after": "30"},
                                   json=_rate_body())
        return httpx2.Response(200, json=_completion())

    waits = []
    client = mock_client(handler, on_wait=lambda s, r: waits.append((s, r)))
    reply = asyncio.run(call(client, "hello"))
    assert reply.parsed.shipments == []
    assert client.stats.rate_limited == 1 and client.stats.retries == 1
    # retry-after-ms wins over retry-after; the wait went through the limiter and was reported.
    assert len(waits) == 1 and 1.0 <= waits[0][0] <= 1.3 and "429" in waits[0][1]


def test_429_without_retry_after_uses_the_reset_header():
    seen = []

    def handler(request):
        seen.append(request)
        if len(seen) == 1:
            return httpx2.Response(429, json=_rate_body("tokens"), headers={
                "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1.2s",
                "x-ratelimit-remaining-requests": "10", "x-ratelimit-reset-requests": "0s"})
        return httpx2.Response(200, json=_completion())

    waits = []
    client = mock_client(handler, on_wait=lambda s, r: waits.append((s, r)))
    asyncio.run(call(client, "hello"))
    assert len(waits) == 1 and waits[0][0] >= 1.0


def test_remaining_headers_pace_before_any_429():
    """An answer saying "0 requests left, reset in 1.5 s" holds the next call back before it is sent."""
    def handler(request):
        return httpx2.Response(200, json=_completion(), headers={
            "x-ratelimit-limit-requests": "1", "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "1.5s"})

    waits = []
    client = mock_client(handler, on_wait=lambda s, r: waits.append((s, r)))

    async def twice():
        try:
            await client.parse("sys", "a", ShipmentList)
            await client.parse("sys", "b", ShipmentList)
        finally:
            await client.aclose()

    asyncio.run(twice())
    assert client.stats.rate_limited == 0
    assert waits and waits[0][0] >= 1.0 and "requests" in waits[0][1]


def test_insufficient_quota_is_not_retried():
    client = mock_client(lambda r: httpx2.Response(429, json=_rate_body("insufficient_quota",
                                                                        "insufficient_quota")))
    with pytest.raises(QuotaExceeded) as caught:
        asyncio.run(call(client, "hello"))
    assert not caught.value.temporary and client.stats.calls == 1


def test_retry_after_beyond_the_limit_raises_rate_limited_at_once():
    client = mock_client(lambda r: httpx2.Response(429, headers={"retry-after": "600"}, json=_rate_body()))
    with pytest.raises(RateLimited) as caught:
        asyncio.run(call(client, "hello"))
    assert caught.value.retry_after == 600 and client.stats.calls == 1


def test_bad_request_is_not_retried():
    client = mock_client(lambda r: httpx2.Response(400, json={"error": {
        "message": "Invalid schema", "type": "invalid_request_error", "code": None, "param": None}}))
    with pytest.raises(ApiStatusError) as caught:
        asyncio.run(call(client, "hello"))
    assert caught.value.status == 400 and client.stats.calls == 1


def test_non_json_body_is_malformed_and_retried():
    seen = []

    def handler(request):
        seen.append(request)
        if len(seen) == 1:
            return httpx2.Response(200, text="<html>gateway</html>",
                                   headers={"content-type": "application/json"})
        return httpx2.Response(200, json=_completion())

    client = mock_client(handler)
    asyncio.run(call(client, "hello"))
    assert client.stats.errors == {"malformed": 1}


def test_cut_off_doubles_the_output_budget():
    budgets = []

    def handler(request):
        body = json.loads(request.content)
        budgets.append(body["max_completion_tokens"])
        finish = "length" if len(budgets) == 1 else "stop"
        return httpx2.Response(200, json=_completion('{"shipm' if finish == "length" else '{"shipments": []}',
                                                     finish))

    client = mock_client(handler, max_output_tokens=1000)
    asyncio.run(call(client, "hello"))
    assert budgets == [1000, 2000]


def test_request_is_strict_structured_output_at_temperature_zero():
    bodies = []

    def handler(request):
        bodies.append(json.loads(request.content))
        return httpx2.Response(200, json=_completion())

    asyncio.run(call(mock_client(handler), "hello"))
    body = bodies[0]
    assert body["temperature"] == 0 and body["model"] == "gpt-test"
    schema = body["response_format"]["json_schema"]
    assert schema["strict"] is True
    item = schema["schema"]["$defs"]["ShipmentItem"]
    assert item["additionalProperties"] is False and set(item["required"]) == set(item["properties"])
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_helpers():
    assert parse_duration("12ms") == pytest.approx(0.012)
    assert parse_duration("6m0s") == 360
    assert parse_duration("1h2m3.5s") == pytest.approx(3723.5)
    assert parse_duration("2.5") == 2.5
    assert parse_duration("soon") is None and parse_duration(None) is None
    assert retry_after_seconds({"retry-after-ms": "150", "retry-after": "3"}) == pytest.approx(0.15)
    assert retry_after_seconds({"retry-after": "3"}) == 3
    # An HTTP date counts from the answer's own Date, so the two clocks need not agree.
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT",
                                "date": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 30
    assert retry_after_seconds({"retry-after": "soon"}) is None
