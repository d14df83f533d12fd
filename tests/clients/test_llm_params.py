"""LlmClient with any current model: parameters chosen by model family, and a 400 that refuses a parameter
dropped, retried once and remembered for that model. The real openai SDK against the OpenAI simulator
(whose models apply OpenAI's family rules), plus MockTransport servers for other compatible servers'
wordings."""

from __future__ import annotations

import asyncio
import json

import httpx2
import openai
import pytest

from desktop.clients.errors import ApiStatusError
from desktop.clients.llm import LlmClient
from desktop.clients.llm_params import REASONING_ALLOWANCE, is_reasoning
from desktop.core.llm_extractor import ShipmentList, load_prompt
from desktop.settings import Settings
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import generate_workspace

# The key check (GET /models) is tested in tests/core/test_refusals.py; here each request is a call.
FAST = {"check_key": False, "backoff_base": 0.01, "backoff_max": 0.05, "max_retries": 2, "timeout": 5.0}


@pytest.fixture(scope="module")
def sims():
    with start_simulators(generate_workspace(seed=7, conversations=20), SimConfig.for_tests()) as running:
        yield running


class Recorder:
    """Request bodies the SDK sent (an httpx2 event hook)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []

    async def __call__(self, request) -> None:
        self.bodies.append(json.loads(request.content))


def sim_client(sims, model: str, recorder: Recorder, **kwargs) -> LlmClient:
    http = openai.DefaultAsyncHttpx2Client(trust_env=False, event_hooks={"request": [recorder]})
    return LlmClient(sims.openai_url, DEMO_KEYS["openai"], model, http_client=http, **{**FAST, **kwargs})


async def twice(client: LlmClient, text: str = "UPS tracking 1Z999AA10123456784"):
    try:
        first = await client.parse(load_prompt(), text, ShipmentList)
        second = await client.parse(load_prompt(), text, ShipmentList)
        return first, second
    finally:
        await client.aclose()


def test_families():
    assert all(is_reasoning(m) for m in ("gpt-5", "gpt-5-mini", "gpt-5.4-mini", "o3", "o4-mini", "openai/gpt-5.1",
                                         "gpt-5.3-chat-latest", "gpt-6-luna"))
    assert not any(is_reasoning(m) for m in ("gpt-4o-mini", "gpt-4.1-mini", "llama3.1:8b", "qwen2.5", "gpt-test",
                                             "gpt-oss-20b", "mistral-o3x"))


def test_default_model_is_served_with_structured_outputs(sims):
    recorder = Recorder()
    first, _ = asyncio.run(twice(sim_client(sims, Settings().model, recorder)))
    assert Settings().model == "gpt-5.4-mini" and first.attempts == 1


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_reasoning_model_gets_no_temperature_and_room_to_reason(sims, api):
    recorder = Recorder()
    first, second = asyncio.run(twice(sim_client(sims, "gpt-5-mini", recorder, api=api, max_output_tokens=1200)))
    assert first.attempts == second.attempts == 1          # the old client's temperature 0: a 400, every call
    body = recorder.bodies[0]
    assert "temperature" not in body and "max_tokens" not in body
    if api == "chat":
        assert body["reasoning_effort"] == "low" and body["max_completion_tokens"] == 1200 + REASONING_ALLOWANCE
    else:
        assert body["reasoning"] == {"effort": "low"} and body["max_output_tokens"] == 1200 + REASONING_ALLOWANCE
    assert "1Z999AA10123456784" in {s.tracking_number for s in first.parsed.shipments}


def test_chat_model_keeps_temperature_zero(sims):
    recorder = Recorder()
    asyncio.run(twice(sim_client(sims, "gpt-4o-mini", recorder, max_output_tokens=800)))
    body = recorder.bodies[0]
    assert body["temperature"] == 0 and body["max_completion_tokens"] == 800 and "reasoning_effort" not in body


def test_refused_parameter_is_dropped_retried_once_and_remembered(sims):
    """gpt-5.3-chat-latest takes only "medium" effort: the first call's "low" gets a 400 unsupported_value;
    the same call goes again without it, and the next call never sends it."""
    recorder = Recorder()
    client = sim_client(sims, "gpt-5.3-chat-latest", recorder, max_retries=0)
    first, second = asyncio.run(twice(client))
    assert first.attempts == 2 and second.attempts == 1
    assert [b.get("reasoning_effort") for b in recorder.bodies] == ["low", None, None]
    assert client.params.refused("gpt-5.3-chat-latest") == {"reasoning_effort"}
    assert client.stats.calls == 3 and client.stats.errors == {"unsupported_parameter": 1}
    assert client.stats.failures == 0 and client.stats.retries == 0


def _server(refusals: dict[str, dict], seen: list[dict]):
    """A compatible server that answers a 400 {"error": refusals[name]} while a request holds `name`."""
    def handler(request):
        body = json.loads(request.content)
        seen.append(body)
        for name, error in refusals.items():
            if name in body:
                return httpx2.Response(400, json={"error": error})
        content = '{"shipments": []}'
        return httpx2.Response(200, json={
            "id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}})
    return handler


def mock_client(handler, model: str = "local-model") -> LlmClient:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return LlmClient("http://127.0.0.1:9/v1", "sk-local", model, http_client=http, **FAST)


def test_an_older_server_without_max_completion_tokens_gets_max_tokens():
    seen: list[dict] = []
    refusal = {"message": "Unrecognized request argument supplied: max_completion_tokens",
               "type": "invalid_request_error", "param": None, "code": None}
    client = mock_client(_server({"max_completion_tokens": refusal}, seen))
    first, second = asyncio.run(twice(client))
    assert first.attempts == 2 and second.attempts == 1
    assert [("max_completion_tokens" in b, b.get("max_tokens")) for b in seen] == [(True, None), (False, 1200),
                                                                                  (False, 1200)]


def test_a_400_about_something_not_sent_is_not_retried():
    seen: list[dict] = []
    refusal = {"message": "Unsupported parameter: 'logprobs' is not supported with this model.",
               "type": "invalid_request_error", "param": "logprobs", "code": "unsupported_parameter"}
    client = mock_client(_server({"model": refusal}, seen))
    with pytest.raises(ApiStatusError) as caught:
        asyncio.run(twice(client))
    assert caught.value.status == 400 and len(seen) == 1 and client.stats.failures == 1


def test_every_optional_parameter_refused_still_answers():
    seen: list[dict] = []
    error = {"type": "invalid_request_error", "code": "unsupported_parameter"}
    refusals = {name: {**error, "param": name, "message": f"Unsupported parameter: '{name}'."}
                for name in ("temperature", "max_completion_tokens", "max_tokens")}
    client = mock_client(_server(refusals, seen))
    first, second = asyncio.run(twice(client))
    assert first.attempts == 4 and second.attempts == 1
    assert set(seen[-1]) == {"model", "messages", "response_format"}
