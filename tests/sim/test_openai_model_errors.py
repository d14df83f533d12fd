"""The OpenAI simulator's "model" errs like a small real model, from the text it is sent alone: it never reads
the workspace's answer key, each mistake is a switch with a default, and one seed gives one set of answers
whatever the order the requests arrive in."""

from __future__ import annotations

import asyncio
import json
import os
import random
from typing import Any

import pytest
from openai import AsyncOpenAI

from desktop.sim import DEMO_KEYS, SimConfig, SimServer, numbers
from desktop.sim.openai_reader import Found, make_mistakes
from desktop.sim.openai_sim import OpenAIService
from tests.sim.test_openai_sim import conversation_text

TEXTS = [f"cnv_t{i:03d}" for i in range(0, 120, 7)]     # every conversation with a shipment


@pytest.fixture(autouse=True)
def _valid_cert_env(monkeypatch):
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if os.environ.get(name) and not os.path.exists(os.environ[name]):
            monkeypatch.delenv(name)


def ask_all(url: str, texts: list[str]) -> dict[str, Any]:
    """{text: the parsed answer's shipments as tuples}, asked one after another."""
    async def go() -> dict[str, Any]:
        out = {}
        async with AsyncOpenAI(base_url=url, api_key=DEMO_KEYS["openai"], max_retries=0) as client:
            for text in texts:
                answer = await client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
                out[text] = answer.choices[0].message.content
        return out
    return asyncio.run(go())


def serve(workspace: Any, seed: int, **rates: float) -> SimServer:
    cfg = SimConfig.for_tests().openai
    defaults = SimConfig().openai
    for name in cfg.MODEL_ERRORS:          # the default model errors (for_tests turns them off)
        setattr(cfg, name, rates.get(name, getattr(defaults, name)))
    cfg.rate_limits = False
    return SimServer(OpenAIService(workspace, cfg, seed)).start()


def test_defaults_err_like_a_small_model():
    cfg = SimConfig().openai
    assert cfg.missed_number_rate >= 0.05
    assert all(getattr(cfg, name) > 0 for name in cfg.MODEL_ERRORS)
    assert all(getattr(SimConfig.for_tests().openai, name) == 0 for name in cfg.MODEL_ERRORS)


def test_answers_come_from_the_text_never_from_the_answer_key(tiny_ws):
    texts = [conversation_text(tiny_ws, cid) for cid in TEXTS]
    with_key, blind = serve(tiny_ws, 3), serve(None, 3)
    try:
        assert ask_all(with_key.url + "/v1", texts) == ask_all(blind.url + "/v1", texts)
    finally:
        with_key.stop()
        blind.stop()


def test_one_seed_one_set_of_answers_in_any_order(tiny_ws):
    texts = [conversation_text(tiny_ws, cid) for cid in TEXTS]
    rates = {"missed_number_rate": 0.5, "wrong_carrier_rate": 0.5, "malformed_json_rate": 0.3}
    first, again, other = serve(tiny_ws, 3, **rates), serve(tiny_ws, 3, **rates), serve(tiny_ws, 4, **rates)
    try:
        forward = ask_all(first.url + "/v1", texts)
        assert ask_all(again.url + "/v1", texts[::-1]) == forward
        assert ask_all(other.url + "/v1", texts) != forward
    finally:
        for server in (first, again, other):
            server.stop()


def test_a_retry_of_the_same_request_may_get_another_answer(tiny_ws):
    text = conversation_text(tiny_ws, "cnv_t021")
    server = serve(tiny_ws, 3, malformed_json_rate=0.5)
    try:
        answers = {ask_all(server.url + "/v1", [text])[text] for _ in range(12)}
    finally:
        server.stop()
    assert len(answers) > 1       # broken and whole JSON both came back for the very same request


def _found(count: int) -> list[Found]:
    rng = random.Random(1)
    return [Found(numbers.generate("ups", rng)[0], "ups", "UPS") for _ in range(count)]


@pytest.mark.parametrize("switch", ["missed_number_rate", "misread_digit_rate", "wrong_carrier_rate"])
def test_each_per_number_rate_is_what_it_says(switch):
    cfg = SimConfig.for_tests().openai
    setattr(cfg, switch, 0.06)
    original = _found(3000)
    answered = make_mistakes([Found(f.tracking_number, f.courier, f.carrier) for f in original], "", cfg,
                             random.Random(7))
    if switch == "missed_number_rate":
        share = 1 - len(answered) / len(original)
    elif switch == "misread_digit_rate":
        share = sum(a.tracking_number != o.tracking_number for a, o in zip(answered, original, strict=True)) / 3000
    else:
        share = sum(a.courier != "ups" for a in answered) / 3000
    assert 0.045 <= share <= 0.075


def test_misread_number_differs_in_one_digit(tiny_ws):
    truth = tiny_ws.truth["cnv_t014"][0].tracking_number
    server = serve(tiny_ws, 3, **{**dict.fromkeys(SimConfig().openai.MODEL_ERRORS, 0.0),
                                    "misread_digit_rate": 1.0})
    try:
        content = ask_all(server.url + "/v1", [conversation_text(tiny_ws, "cnv_t014")])
    finally:
        server.stop()
    number = json.loads(next(iter(content.values())))["shipments"][0]["tracking_number"]
    assert number != truth and len(number) == len(truth)
    assert sum(a != b for a, b in zip(number, truth, strict=True)) == 1


def test_decoys_are_order_and_phone_numbers_of_the_text():
    cfg = SimConfig.for_tests().openai
    cfg.decoy_number_rate = 1.0
    text = ("Your order number 4471234 shipped. Questions? Call 1-800-555-0199.\n"
            "UPS tracking number 1Z999AA10123456784")
    offered = {f.tracking_number for f in make_mistakes([], text, cfg, random.Random(2))}
    assert offered and offered <= {"4471234", "1-800-555-0199"}
