"""The OpenAI simulator as strict as the real API, driven by the real openai SDK over loopback: the model
catalogue (404 model_not_found), each family's parameter rules (400 unsupported_value/unsupported_parameter
in OpenAI's exact wording), reasoning tokens against the output budget, and the strict-schema rules."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from desktop.sim import DEMO_KEYS
from tests.sim import conftest
from tests.sim.test_openai_sim import Extraction, conversation_text


@pytest.fixture(autouse=True)
def _valid_cert_env(monkeypatch):
    """httpx2 fails to build a client when SSL_CERT_FILE names a missing file (stack-notes §0.3)."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if os.environ.get(name) and not os.path.exists(os.environ[name]):
            monkeypatch.delenv(name)


def call(sims: Any, fn: Any) -> Any:
    async def go() -> Any:
        async with AsyncOpenAI(base_url=sims.openai_url, api_key=DEMO_KEYS["openai"], max_retries=0) as client:
            return await fn(client)
    return asyncio.run(go())


def chat(model: str, **options: Any) -> Any:
    return lambda client: client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hello"}], **options)


def refused(sims: Any, fn: Any, error: type[openai.APIStatusError] = openai.BadRequestError) -> Any:
    with pytest.raises(error) as caught:
        call(sims, fn)
    return caught.value


# The catalogue ---------------------------------------------------------------------------------------------
def test_unknown_model_is_404_model_not_found(sims):
    error = refused(sims, chat("gpt-4.2-turbo-ultra"), openai.NotFoundError)
    assert error.status_code == 404 and error.code == "model_not_found" and error.type == "invalid_request_error"
    assert error.body["message"] == "The model `gpt-4.2-turbo-ultra` does not exist or you do not have access to it."
    assert error.body == {"message": error.body["message"], "type": "invalid_request_error", "param": None,
                          "code": "model_not_found"}


def test_models_lists_the_catalogue(sims):
    ids = {m.id for m in call(sims, lambda client: client.models.list()).data}
    assert {"gpt-5.4-mini", "gpt-5-mini", "gpt-4o-mini", "gpt-4.1-mini", "gpt-test"} <= ids
    assert "gpt-3.5-turbo" not in ids and "o1-mini" not in ids     # shut down


def test_the_model_list_answers_in_a_listing_time_not_a_model_time(make_sims):
    """Listing models does no inference: it takes `models_latency`, not the model's `latency` (the client
    asks it before the first call; at the model's answer time it held every scan back by one answer)."""
    def slow_model(cfg):
        cfg.openai.latency.median_ms, cfg.openai.latency.tail_probability = 900.0, 0.0
        cfg.openai.models_latency.median_ms, cfg.openai.models_latency.tail_probability = 20.0, 0.0
    sims = make_sims(slow_model)
    call(sims, lambda client: client.models.list())
    call(sims, chat("gpt-4o-mini"))
    drawn = sims.openai.log.latency_by_route
    assert drawn["GET /v1/models"]["max"] < 0.1 < 0.3 < drawn["POST /v1/chat/completions"]["max"]


def test_model_rules_switch_off_accepts_anything(make_sims):
    lenient = make_sims(lambda cfg: setattr(cfg.openai, "model_rules", False))
    answer = call(lenient, chat("llama3.1:8b", temperature=0, max_tokens=50, reasoning_effort="low"))
    assert answer.choices[0].finish_reason == "stop"


# Reasoning models ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["gpt-5-mini", "gpt-5.4-mini", "o3"])
def test_reasoning_model_refuses_a_non_default_temperature(sims, model):
    error = refused(sims, chat(model, temperature=0))
    assert (error.code, error.param, error.type) == ("unsupported_value", "temperature", "invalid_request_error")
    assert error.body["message"] == ("Unsupported value: 'temperature' does not support 0 with this model. Only the "
                             "default (1) value is supported.")
    assert call(sims, chat(model, temperature=1)).choices[0].finish_reason == "stop"   # the default is fine


def test_reasoning_model_refuses_max_tokens(sims):
    error = refused(sims, chat("gpt-5-mini", max_tokens=500))
    assert (error.code, error.param) == ("unsupported_parameter", "max_tokens")
    assert error.body["message"] == ("Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                             "'max_completion_tokens' instead.")
    assert call(sims, chat("gpt-5-mini", max_completion_tokens=5000)).choices[0].finish_reason == "stop"


def test_chat_model_takes_temperature_and_max_tokens_but_no_reasoning_effort(sims):
    assert call(sims, chat("gpt-4o-mini", temperature=0, max_tokens=500)).choices[0].finish_reason == "stop"
    error = refused(sims, chat("gpt-4o-mini", reasoning_effort="low"))
    assert (error.code, error.param) == ("unsupported_parameter", "reasoning_effort")
    assert error.body["message"] == "Unsupported parameter: 'reasoning_effort' is not supported with this model."


def test_each_reasoning_model_takes_only_its_own_efforts(sims):
    error = refused(sims, chat("gpt-5-mini", reasoning_effort="none"))     # gpt-5: minimal..high
    assert (error.code, error.param) == ("unsupported_value", "reasoning_effort")
    assert error.body["message"] == ("Unsupported value: 'reasoning_effort' does not support \"none\" with this model. "
                             "Supported values are: 'minimal', 'low', 'medium', and 'high'.")
    assert call(sims, chat("gpt-5.4-mini", reasoning_effort="none")).choices[0].finish_reason == "stop"
    responses = refused(sims, lambda client: client.responses.create(
        model="o3", input="hello", reasoning={"effort": "minimal"}))
    assert (responses.code, responses.param) == ("unsupported_value", "reasoning.effort")


def test_reasoning_tokens_count_against_the_output_budget(sims, tiny_ws):
    text = conversation_text(tiny_ws, "cnv_t021")
    starved = call(sims, lambda client: client.chat.completions.create(
        model="gpt-5-mini", max_completion_tokens=60, messages=[{"role": "user", "content": text}]))
    assert starved.choices[0].finish_reason == "length" and starved.choices[0].message.content == ""
    assert starved.usage.completion_tokens_details.reasoning_tokens >= 60    # medium effort by default
    roomy = call(sims, lambda client: client.chat.completions.create(
        model="gpt-5-mini", max_completion_tokens=5000, reasoning_effort="low",
        messages=[{"role": "user", "content": text}]))
    assert roomy.choices[0].finish_reason == "stop" and json.loads(roomy.choices[0].message.content)
    usage = roomy.usage
    assert 0 < usage.completion_tokens_details.reasoning_tokens < usage.completion_tokens
    plain = call(sims, chat("gpt-4o-mini"))
    assert plain.usage.completion_tokens_details.reasoning_tokens == 0


# Strict schemas --------------------------------------------------------------------------------------------
def _with_schema(schema: dict[str, Any], name: str = "shipments") -> Any:
    return chat("gpt-4o-mini", response_format={"type": "json_schema", "json_schema": {
        "name": name, "strict": True, "schema": schema}})


def test_strict_schema_must_require_every_property(sims):
    schema = {"type": "object", "additionalProperties": False, "required": ["items"], "properties": {
        "items": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                             "required": ["a"], "properties": {"a": {"type": "string"},
                                                                               "b": {"type": "string"}}}}}}
    error = refused(sims, _with_schema(schema))
    assert (error.code, error.param) == ("invalid_json_schema", "response_format")
    assert error.body["message"] == ("Invalid schema for response_format 'shipments': In context=('properties', 'items', "
                             "'items'), 'required' is required to be supplied and to be an array including every "
                             "key in properties. Missing 'b'.")


def test_strict_schema_root_must_be_a_closed_object(sims):
    error = refused(sims, _with_schema({"type": "array", "items": {"type": "string"}}))
    assert error.body["message"] == ("Invalid schema for response_format 'shipments': schema must be a JSON Schema of "
                             "'type: \"object\"', got 'type: \"array\"'.")
    opened = refused(sims, _with_schema({"type": "object", "properties": {}, "required": []}))
    assert "In context=(), 'additionalProperties' is required to be supplied and to be false." in opened.body["message"]


def test_schema_name_must_match_the_pattern(sims):
    closed = {"type": "object", "additionalProperties": False, "required": [], "properties": {}}
    error = refused(sims, _with_schema(closed, name="ship ments!"))
    assert error.param == "response_format.json_schema.name" and "does not match pattern" in error.body["message"]


def test_the_products_own_schema_passes(sims, tiny_ws):
    parsed = call(sims, lambda client: client.chat.completions.parse(
        model="gpt-5.4-mini", response_format=Extraction,
        messages=[{"role": "user", "content": conversation_text(tiny_ws, "cnv_t021")}]))
    assert parsed.choices[0].message.parsed.shipments


def test_test_config_serves_gpt_test_with_chat_rules():
    cfg = conftest.test_config()
    assert cfg.openai.extra_models == {"gpt-test": "chat"} and cfg.openai.missed_number_rate == 0.0
