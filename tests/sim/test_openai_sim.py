"""The OpenAI simulator driven by the real openai SDK (AsyncOpenAI over loopback): parse/create on chat and
responses, schema filling, usage, RPM/TPM limits with headers and the 429 body, answer and transport faults."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
from typing import Any

import openai
import pydantic
import pytest
from openai import AsyncOpenAI
from pydantic import BaseModel

from desktop.sim import DEMO_KEYS, SimConfig, numbers
from desktop.sim.openai_sim import go_duration


class Shipment(BaseModel):
    tracking_number: str
    carrier: str | None
    message_id: str | None
    order_number: str | None
    shipped_date: str | None
    confidence: float
    evidence: str
    weight_kg: float | None  # unknown to the simulator: filled with null


class Extraction(BaseModel):
    shipments: list[Shipment]
    summary: str


@pytest.fixture(autouse=True)
def _valid_cert_env(monkeypatch):
    """httpx2 fails to build a client when SSL_CERT_FILE names a missing file (stack-notes §0.3)."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if os.environ.get(name) and not os.path.exists(os.environ[name]):
            monkeypatch.delenv(name)


def call(sims: Any, fn: Any, **client_options: Any) -> Any:
    """Run `await fn(client)` with a fresh AsyncOpenAI aimed at the simulator (no retries by default)."""
    async def go() -> Any:
        client_options.setdefault("max_retries", 0)
        async with AsyncOpenAI(base_url=sims.openai_url, api_key=client_options.pop("api_key", DEMO_KEYS["openai"]),
                               **client_options) as client:
            return await fn(client)
    return asyncio.run(go())


def conversation_text(ws: Any, conversation_id: str) -> str:
    """What an extractor would send: one header line per message, oldest first."""
    conversation = next(c for c in ws.conversations if c.id == conversation_id)
    return "\n\n".join(f"[message {m.id} | 2023-11-14 | from {m.from_name}]\n{m.text}" for m in conversation.messages)


def chat_parse(text: str, model: type[BaseModel] = Extraction, **kw: Any) -> Any:
    return lambda client: client.chat.completions.parse(
        model="gpt-test", response_format=model, **kw,
        messages=[{"role": "system", "content": "Extract tracking numbers, e.g. 1Z999AA10123456784."},
                  {"role": "user", "content": text}])


# Answers -----------------------------------------------------------------------------------------------------
def test_chat_completions_parse_answers_what_the_text_says(sims, tiny_ws):
    truth = tiny_ws.truth["cnv_t021"][0]
    completion = call(sims, chat_parse(conversation_text(tiny_ws, "cnv_t021")))
    parsed = completion.choices[0].message.parsed
    assert [s.tracking_number for s in parsed.shipments] == [truth.tracking_number]
    shipment = parsed.shipments[0]
    assert shipment.carrier == truth.carrier and shipment.message_id == truth.message_id
    # Read from the text ("where is my order 1021?"); the answer key's ship date is not in the text, so the
    # model cannot know it (the simulator never copies the answer key).
    assert shipment.order_number == "1021" and truth.shipped_date and shipment.shipped_date is None
    assert shipment.weight_kg is None and 0 < shipment.confidence <= 1 and "tracking number" in shipment.evidence
    assert "1Z999AA10123456784" not in completion.choices[0].message.content  # the system prompt is ignored
    assert completion.usage.prompt_tokens > 10 and completion.usage.completion_tokens > 10


def test_numbers_are_found_despite_spaces_and_case(sims, tiny_ws):
    truth = tiny_ws.truth["cnv_t014"][0]
    spaced = " ".join(truth.tracking_number[i:i + 4] for i in range(0, len(truth.tracking_number), 4)).lower()
    completion = call(sims, chat_parse(f"Your parcel: {spaced}"))
    assert [s.tracking_number for s in completion.choices[0].message.parsed.shipments] == [truth.tracking_number]


def test_conversation_without_shipments_answers_an_empty_list(sims, tiny_ws):
    completion = call(sims, chat_parse(conversation_text(tiny_ws, "cnv_t001")))
    assert completion.choices[0].message.parsed.shipments == []


def test_responses_parse(sims, tiny_ws):
    truth = tiny_ws.truth["cnv_t028"][0]
    response = call(sims, lambda client: client.responses.parse(
        model="gpt-test", input=conversation_text(tiny_ws, "cnv_t028"), text_format=Extraction,
        instructions="Find shipments."))
    assert response.status == "completed"
    assert [s.tracking_number for s in response.output_parsed.shipments] == [truth.tracking_number]
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0


def test_hand_written_schema_with_other_names_and_enums(sims, tiny_ws):
    schema = {"type": "object", "additionalProperties": False, "required": ["parcels", "language"],
              "properties": {
                  "language": {"type": "string"},
                  "parcels": {"type": "array", "items": {
                      "type": "object", "additionalProperties": False,
                      "required": ["tracking_number", "carrier", "confidence", "destination_postcode", "count"],
                      "properties": {"tracking_number": {"type": "string"},
                                     "carrier": {"type": "string", "enum": ["ups", "usps", "fedex", "other"]},
                                     "confidence": {"type": "string", "enum": ["low", "medium", "high"]},
                                     "destination_postcode": {"type": ["string", "null"]},
                                     "count": {"type": "integer"}}}}}}
    text = conversation_text(tiny_ws, "cnv_t007")  # a FedEx number
    response = call(sims, lambda client: client.responses.create(
        model="gpt-test", input=[{"role": "user", "content": [{"type": "input_text", "text": text}]}],
        text={"format": {"type": "json_schema", "name": "parcels", "strict": True, "schema": schema}}))
    answer = json.loads(response.output_text)
    assert answer == {"language": "", "parcels": [{
        "tracking_number": tiny_ws.truth["cnv_t007"][0].tracking_number, "carrier": "fedex",
        "confidence": "high", "destination_postcode": None, "count": 0}]}
    chat = call(sims, lambda client: client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": text}],
        response_format={"type": "json_schema", "json_schema": {"name": "p", "strict": True, "schema": schema}}))
    assert json.loads(chat.choices[0].message.content) == answer


def test_unknown_text_uses_the_detector(sims):
    number = numbers.generate("fedex", random.Random(11))[0]
    text = f"Hi! Your FedEx shipment is on its way, tracking {number}. Order number 55512."
    completion = call(sims, chat_parse(text))
    shipments = completion.choices[0].message.parsed.shipments
    assert [(s.tracking_number, s.carrier) for s in shipments] == [(number, "FedEx")]
    assert shipments[0].message_id is None


def test_usage_and_log(make_sims, tiny_ws):
    fresh = make_sims()
    completion = call(fresh, chat_parse(conversation_text(tiny_ws, "cnv_t000")))
    log = fresh.openai.log
    assert log.calls == 1 and log.requests_by_route["POST /v1/chat/completions"] == 1
    assert log.tokens_in == completion.usage.prompt_tokens and log.tokens_out == completion.usage.completion_tokens


# Request errors ------------------------------------------------------------------------------------------------
def test_wrong_key_is_authentication_error(sims):
    with pytest.raises(openai.AuthenticationError) as caught:
        call(sims, chat_parse("hi"), api_key="sk-wrong")
    assert caught.value.code == "invalid_api_key"


def test_non_strict_schema_is_rejected(sims, make_sims):
    schema = {"type": "object", "properties": {"shipments": {"type": "array", "items": {"type": "string"}}}}
    with pytest.raises(openai.BadRequestError) as caught:
        call(sims, lambda client: client.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "x"}],
            response_format={"type": "json_schema", "json_schema": {"name": "s", "strict": True, "schema": schema}}))
    assert "additionalProperties" in str(caught.value)
    lenient = make_sims(lambda cfg: setattr(cfg.openai, "reject_non_strict_schema", False))
    completion = call(lenient, lambda client: client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "x"}],
        response_format={"type": "json_schema", "json_schema": {"name": "s", "strict": True, "schema": schema}}))
    assert json.loads(completion.choices[0].message.content) == {"shipments": []}


# Rate limits --------------------------------------------------------------------------------------------------
def test_rpm_limit_headers_and_429_body(make_sims):
    def tweak(cfg: SimConfig) -> None:
        cfg.openai.requests_per_minute = 2
        cfg.openai.window_seconds = 3600.0  # so the three calls cannot straddle two windows
    limited = make_sims(tweak)

    async def two_then_refused(client: AsyncOpenAI) -> Any:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-test", messages=[{"role": "user", "content": "hello"}])
        await client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "hello"}])
        try:
            await client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "x"}])
        except openai.RateLimitError as error:
            return raw.headers, error
        raise AssertionError("no 429")
    headers, error = call(limited, two_then_refused)
    assert headers["x-ratelimit-limit-requests"] == "2" and headers["x-ratelimit-remaining-requests"] == "1"
    assert re.fullmatch(r"(\d+h)?(\d+m)?[\d.]+m?s", headers["x-ratelimit-reset-requests"])
    assert int(headers["x-ratelimit-limit-tokens"]) == 200_000
    assert error.status_code == 429 and error.code == "rate_limit_exceeded" and error.type == "requests"
    assert "requests per min (RPM)" in error.message
    assert error.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert float(error.response.headers["retry-after-ms"]) > 0
    assert limited.openai.log.rate_limited == 1


def test_rate_limits_switch_off(make_sims):
    def tweak(cfg: SimConfig) -> None:
        cfg.openai.requests_per_minute = 1
        cfg.openai.rate_limits = False
    unlimited = make_sims(tweak)
    for _ in range(3):
        call(unlimited, chat_parse("hello"))
    assert unlimited.openai.log.rate_limited == 0


def test_tpm_limit(make_sims):
    limited = make_sims(lambda cfg: setattr(cfg.openai, "tokens_per_minute", 100))
    with pytest.raises(openai.RateLimitError) as caught:
        call(limited, chat_parse("tracking " * 100))
    assert caught.value.type == "tokens" and "TPM" in caught.value.message


def test_sdk_retries_a_429_using_retry_after(make_sims):
    def tweak(cfg: SimConfig) -> None:
        cfg.openai.requests_per_minute = 1
        cfg.openai.window_seconds = 1.0
    limited = make_sims(tweak)
    # Three calls at once against 1 per 1-s window: at least one 429, which the SDK waits out (retry-after-ms).
    completions = call(limited, lambda client: asyncio.gather(*(client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "x"}]) for _ in range(3))), max_retries=6)
    assert len(completions) == 3 and limited.openai.log.rate_limited >= 1 and limited.openai.log.calls == 3


# Answer faults -----------------------------------------------------------------------------------------------
def faulty(make_sims: Any, **rates: float) -> Any:
    return make_sims(lambda cfg: [setattr(cfg.openai, name, rate) for name, rate in rates.items()])


def test_missed_numbers(make_sims, tiny_ws):
    sims = faulty(make_sims, missed_number_rate=1.0)
    parsed = call(sims, chat_parse(conversation_text(tiny_ws, "cnv_t021"))).choices[0].message.parsed
    assert parsed.shipments == []


def test_invented_numbers_are_plausible_but_absent_from_the_text(make_sims, tiny_ws):
    sims = faulty(make_sims, invented_number_rate=1.0)
    text = conversation_text(tiny_ws, "cnv_t001")
    parsed = call(sims, chat_parse(text)).choices[0].message.parsed
    assert len(parsed.shipments) == 1
    invented = parsed.shipments[0].tracking_number
    assert len(invented) >= 10 and invented not in text.replace(" ", "")
    assert parsed.shipments[0].message_id == "msg_t001a"


def test_wrong_carriers(make_sims, tiny_ws):
    sims = faulty(make_sims, wrong_carrier_rate=1.0)
    truth = tiny_ws.truth["cnv_t021"][0]
    shipment = call(sims, chat_parse(conversation_text(tiny_ws, "cnv_t021"))).choices[0].message.parsed.shipments[0]
    assert shipment.tracking_number == truth.tracking_number and shipment.carrier != truth.carrier


def test_malformed_json(make_sims, tiny_ws):
    sims = faulty(make_sims, malformed_json_rate=1.0)
    completion = call(sims, lambda client: client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": conversation_text(tiny_ws, "cnv_t021")}]))
    with pytest.raises(json.JSONDecodeError):
        json.loads(completion.choices[0].message.content)
    with pytest.raises(pydantic.ValidationError):  # the SDK's parse helper cannot validate it either
        call(sims, chat_parse(conversation_text(tiny_ws, "cnv_t021")))


def test_refusals(make_sims, tiny_ws):
    sims = faulty(make_sims, refusal_rate=1.0)
    message = call(sims, chat_parse(conversation_text(tiny_ws, "cnv_t021"))).choices[0].message
    assert message.parsed is None and message.content is None and message.refusal
    response = call(sims, lambda client: client.responses.create(model="gpt-test", input="hello"))
    assert response.output[0].content[0].type == "refusal"


def test_cut_off_answers(make_sims, tiny_ws):
    sims = faulty(make_sims, cutoff_rate=1.0)
    with pytest.raises(openai.LengthFinishReasonError):
        call(sims, chat_parse(conversation_text(tiny_ws, "cnv_t021")))
    response = call(sims, lambda client: client.responses.create(model="gpt-test", input="hello"))
    assert response.status == "incomplete" and response.incomplete_details.reason == "max_output_tokens"


def test_max_tokens_cuts_off_for_real(sims, tiny_ws):
    with pytest.raises(openai.LengthFinishReasonError):
        call(sims, chat_parse(conversation_text(tiny_ws, "cnv_t021"), max_completion_tokens=5))


def test_server_errors_resets_and_timeouts(make_sims):
    def hello(client: AsyncOpenAI) -> Any:
        return client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "hi"}])
    errors = make_sims(lambda cfg: setattr(cfg.openai.faults, "error_5xx_rate", 1.0))
    with pytest.raises(openai.InternalServerError) as caught:
        call(errors, hello)
    assert caught.value.body["type"] == "server_error"
    resets = make_sims(lambda cfg: setattr(cfg.openai.faults, "reset_rate", 1.0))
    with pytest.raises(openai.APIConnectionError):
        call(resets, hello)

    def hold(cfg: SimConfig) -> None:
        cfg.openai.faults.timeout_rate = 1.0
        cfg.openai.faults.timeout_hold_seconds = 1.0
    holding = make_sims(hold)
    with pytest.raises(openai.APITimeoutError):
        call(holding, hello, timeout=0.3)


def test_go_durations():
    assert [go_duration(s) for s in (0.012, 1, 1.5, 360, 3723)] == ["12ms", "1s", "1.5s", "6m0s", "1h2m3s"]





@pytest.mark.parametrize("limiter", ["bucket", "window"])
def test_limiter_models(make_sims, limiter):
    """"bucket" (OpenAI's documented model) refills continuously: a refused call fits again after the share
    it lacks has refilled; "window" makes it wait for the window's end."""
    def tweak(cfg: SimConfig) -> None:
        cfg.openai.requests_per_minute, cfg.openai.window_seconds, cfg.openai.limiter = 4, 40.0, limiter
    limited = make_sims(tweak)

    async def five(client: AsyncOpenAI) -> Any:
        for _ in range(4):
            await client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "x"}])
        try:
            await client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "x"}])
        except openai.RateLimitError as error:
            return error
        raise AssertionError("no 429")
    error = call(limited, five)
    wait = float(error.response.headers["retry-after-ms"]) / 1000
    if limiter == "bucket":      # one request's share of the budget refills in 40 s / 4 = 10 s
        assert 9.0 < wait <= 10.0
    else:                        # until the current 40 s window ends
        assert 0 < wait <= 40.0
    assert limited.openai.log.rate_limited == 1
