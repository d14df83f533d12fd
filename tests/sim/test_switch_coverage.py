"""Switches of SimConfig that no other simulator test exercised, each shown from a client's side (issue 2:
"the simulators' fault and limit switches are each covered by a test that shows a client seeing them").

Real httpx or the real openai SDK over loopback. Latency is checked twice, neither way able to flake: the
delays the server itself chose (its calls to `time.sleep`, recorded by a pass-through shim) and a generous
lower bound on what the client waited. Rate-limit bursts start at the beginning of a fresh window.
"""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openai
import pytest
from openai import AsyncOpenAI

from desktop.sim import DEMO_KEYS, SimConfig
from desktop.sim import server as sim_server
from tests.sim.conftest import T0
from tests.sim.test_front_sim import crawl, search_path

UPS = "1Z4G7VSU1331706697"


def fresh_window(seconds: float = 1.0) -> None:
    """Sleep into the start of a new fixed window, so a burst lands in one window."""
    time.sleep(seconds - (time.time() % seconds) + 0.02)


def no_limits(cfg: SimConfig) -> None:
    cfg.ship24.rate_limits = False


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


@pytest.fixture(autouse=True)
def _valid_cert_env(monkeypatch):
    """httpx2 fails to build a client when SSL_CERT_FILE names a missing file (stack-notes §0.3)."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if os.environ.get(name) and not os.path.exists(os.environ[name]):
            monkeypatch.delenv(name)


def call_openai(sims: Any, fn: Any, **options: Any) -> Any:
    """Run `await fn(client)` with a fresh AsyncOpenAI (no retries) aimed at the simulator."""
    async def go() -> Any:
        async with AsyncOpenAI(base_url=sims.openai_url, api_key=DEMO_KEYS["openai"], max_retries=0,
                               **options) as client:
            return await fn(client)
    return asyncio.run(go())


def say(text: str) -> Any:
    return lambda client: client.chat.completions.create(model="gpt-test",
                                                         messages=[{"role": "user", "content": text}])


class SleepRecorder:
    """Stands in for the `time` module of desktop.sim.server: records every sleep, then really sleeps."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def slept(monkeypatch) -> SleepRecorder:
    recorder = SleepRecorder()
    monkeypatch.setattr(sim_server, "time", recorder)
    return recorder


# Latency on Ship24 and OpenAI (Front: test_front_sim.py), and the spread ----------------------------------
def _latency(service: str, median: float, tail_probability: float, multiplier: float) -> Any:
    def tweak(cfg: SimConfig) -> None:
        latency = getattr(cfg, service).latency
        latency.median_ms, latency.spread = median, 0.0
        latency.tail_probability, latency.tail_multiplier = tail_probability, multiplier
    return tweak


def _one_request(service: str, sims: Any, http: Any) -> None:
    if service == "ship24":
        assert http.ship24(sims).get("/couriers").status_code == 200
    else:
        assert call_openai(sims, say("hello")).choices[0].finish_reason == "stop"


@pytest.mark.parametrize("service", ["ship24", "openai"])
@pytest.mark.parametrize(("median", "tail_probability", "multiplier", "delay"),
                         [(200.0, 0.0, 8.0, 0.2), (100.0, 1.0, 3.0, 0.3)], ids=["median", "tail"])
def test_latency_median_and_tail(http, make_sims, slept, service, median, tail_probability, multiplier, delay):
    sims = make_sims(_latency(service, median, tail_probability, multiplier))
    started = time.monotonic()
    _one_request(service, sims, http)
    waited = time.monotonic() - started
    assert slept.sleeps == [pytest.approx(delay)]  # what the server chose: the median, or median x multiplier
    assert waited >= delay * 0.75  # a lower bound only


def test_latency_spread_varies_delays_around_the_median(http, make_sims, slept):
    def tweak(cfg: SimConfig) -> None:
        cfg.ship24.latency.median_ms, cfg.ship24.latency.spread = 10.0, 0.8
        cfg.ship24.latency.tail_probability = 0.0
        cfg.ship24.rate_limits = False
    sims = make_sims(tweak)
    client = http.ship24(sims)
    for _ in range(21):
        client.get("/couriers")
    assert len(slept.sleeps) == 21 and len(set(slept.sleeps)) > 15  # log-normal: (almost) all different
    assert 0.005 < statistics.median(slept.sleeps) < 0.02  # seeded draws around the 10 ms median
    sims.ship24.config.latency.spread = 0.0  # live config: the next delays are exactly the median
    slept.sleeps.clear()
    for _ in range(3):
        client.get("/couriers")
    assert slept.sleeps == [pytest.approx(0.01)] * 3


# OpenAI: chars_per_token ----------------------------------------------------------------------------------
def test_chars_per_token_sets_usage_and_the_tpm_cost(make_sims):
    sims = make_sims()
    text = "x" * 400  # the whole request text: one user message, no system prompt
    for chars_per_token, prompt_tokens in ((4.0, 100), (2.0, 200), (1.0, 400)):
        sims.openai.config.chars_per_token = chars_per_token
        completion = call_openai(sims, say(text))
        assert completion.usage.prompt_tokens == prompt_tokens
        content = completion.choices[0].message.content
        assert completion.usage.completion_tokens == math.ceil(len(content) / chars_per_token)

    def tight(cfg: SimConfig) -> None:
        cfg.openai.tokens_per_minute, cfg.openai.window_seconds = 300, 3600.0
        cfg.openai.chars_per_token = 1.0
    limited = make_sims(tight)
    with pytest.raises(openai.RateLimitError) as caught:  # 400 tokens at 1 char/token > 300 TPM
        call_openai(limited, say(text))
    assert caught.value.type == "tokens" and "Requested 400" in caught.value.message
    limited.openai.config.chars_per_token = 4.0  # the same text now costs 100 tokens
    assert call_openai(limited, say(text)).usage.prompt_tokens == 100


# Ship24: per-endpoint limits, the window, the master switch ------------------------------------------------
def _burst(client: httpx.Client, method: str, path: str, n: int, **kw: Any) -> list[httpx.Response]:
    return [client.request(method, path, **kw) for _ in range(n)]


@pytest.mark.parametrize(("switch", "limit", "method", "path", "kw"), [
    ("per_second_bulk", 5, "POST", "/trackers/bulk", {"json": [{"trackingNumber": UPS}]}),
    ("per_second_couriers", 3, "GET", "/couriers", {}),
    ("per_second_resend", 2, "POST", "/trackers/{id}/webhook-events/resend", {}),
    ("per_second_default", 2, "GET", "/trackers", {"params": {"page": 1, "limit": 1}}),
])
def test_ship24_per_endpoint_limit_switches(http, make_sims, switch, limit, method, path, kw):
    sims = make_sims(lambda cfg: setattr(cfg.ship24, switch, limit))
    client = http.ship24(sims)
    if "{id}" in path:
        created = client.post("/trackers", json={"trackingNumber": "SHIP24_SAMPLE_DELIVERED_009"})
        path = path.format(id=created.json()["data"]["tracker"]["trackerId"])
    fresh_window()
    responses = _burst(client, method, path, limit + 1, **kw)
    assert [r.status_code for r in responses[:limit]] == [responses[0].status_code] * limit
    assert responses[0].status_code in (200, 201) and responses[-1].status_code == 429
    assert responses[0].headers["RateLimit-Limit"] == responses[0].headers["X-RateLimit-Limit"] == str(limit)
    assert responses[-1].text == "Too many requests, please try again later."
    assert sims.ship24.log.rate_limited == 1


def test_ship24_window_seconds(http, make_sims):
    def tweak(cfg: SimConfig) -> None:
        cfg.ship24.window_seconds = 2.0
    sims = make_sims(tweak)
    client = http.ship24(sims)
    fresh_window(2.0)
    ok, refused = _burst(client, "GET", "/couriers", 2)
    assert ok.status_code == 200 and refused.status_code == 429
    assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"] == "2"
    time.sleep(1.0)  # a 1-s window would have reset by now; this one has not
    assert client.get("/couriers").status_code == 429


def test_ship24_rate_limits_switch_off_keeps_the_headers(http, make_sims):
    sims = make_sims(no_limits)
    client = http.ship24(sims)
    responses = _burst(client, "GET", "/couriers", 4)
    assert [r.status_code for r in responses] == [200] * 4 and sims.ship24.log.rate_limited == 0
    assert responses[-1].headers["RateLimit-Limit"] == "1" and responses[-1].headers["RateLimit-Remaining"] == "0"


# Ship24: validation switches -------------------------------------------------------------------------------
def test_max_shipping_age_days(http, make_sims):
    sims = make_sims(lambda cfg: (no_limits(cfg), setattr(cfg.ship24, "max_shipping_age_days", 10)))
    client = http.ship24(sims)
    old = client.post("/trackers", json={"trackingNumber": UPS, "shippingDate": days_ago(20)})
    assert old.status_code == 400
    assert old.json()["errors"][0]["code"] == "shipping_date_outdated" and "10 days" in old.text
    bulk = client.post("/trackers/bulk", json=[{"trackingNumber": UPS, "shippingDate": days_ago(20)}])
    assert bulk.json()["data"][0]["errors"][0]["code"] == "shipping_date_outdated"
    assert client.post("/trackers", json={"trackingNumber": UPS, "shippingDate": days_ago(5)}).status_code == 201
    sims.ship24.config.max_shipping_age_days = 400  # the default 180 would refuse 200 days
    assert client.post("/trackers", json={"trackingNumber": UPS, "shippingDate": days_ago(200)}).status_code == 201


def _required(cfg: SimConfig, mode: str) -> None:
    no_limits(cfg)
    cfg.ship24.country_required_couriers = ("ups",)
    cfg.ship24.postcode_required_couriers = ("fedex",)
    cfg.ship24.required_fields_mode = mode
    cfg.ship24.timeline_step_seconds = 0.01  # a normal tracker shows its events at once


def test_required_courier_switches_accept_mode(http, make_sims):
    sims = make_sims(lambda cfg: _required(cfg, "accept"))
    client = http.ship24(sims)
    couriers = {c["courierCode"]: c for c in client.get("/couriers").json()["data"]["couriers"]}
    assert couriers["ups"]["requiredFields"] == ["destinationCountryCode"]
    assert couriers["fedex"]["requiredFields"] == ["destinationPostCode"]
    assert couriers["landmark-global"]["requiredFields"] is None and couriers["dpd"]["requiredFields"] is None
    cases = [({"courierCode": ["ups"]}, True), ({"courierCode": ["ups"], "destinationCountryCode": "US"}, False),
             ({"courierCode": "fedex"}, True), ({"courierCode": "fedex", "destinationPostCode": "10001"}, False),
             ({"courierCode": ["dpd"]}, False), ({"courierCode": "landmark-global"}, False)]
    ids = []
    for extra, _ in cases:
        created = client.post("/trackers", json={"trackingNumber": UPS, **extra})
        assert created.status_code == 201
        ids.append(created.json()["data"]["tracker"]["trackerId"])
    time.sleep(0.1)
    for tracker_id, (extra, pending) in zip(ids, cases, strict=True):
        tracking = client.get(f"/trackers/{tracker_id}/results").json()["data"]["trackings"][0]
        assert (tracking["events"] == []) is pending, extra
        assert (tracking["shipment"]["statusMilestone"] == "pending") is pending, extra


def test_required_courier_switches_reject_mode(http, make_sims):
    sims = make_sims(lambda cfg: _required(cfg, "reject"))
    client = http.ship24(sims)
    no_country = client.post("/trackers", json={"trackingNumber": UPS, "courierCode": ["ups"]})
    assert no_country.status_code == 400 and no_country.json()["errors"] == [{
        "code": "validation_error", "message": '"destinationCountryCode" is required for courier ups (requiredFields)'}]
    no_postcode = client.post("/trackers", json={"trackingNumber": UPS, "courierCode": "fedex"})
    assert no_postcode.status_code == 400 and "destinationPostCode" in no_postcode.text
    for extra in ({"courierCode": "landmark-global"}, {"courierCode": ["dpd"]},
                  {"courierCode": ["ups"], "destinationCountryCode": "US"}):
        assert client.post("/trackers", json={"trackingNumber": UPS, **extra}).status_code == 201
    assert sims.ship24.log.trackers_created == 3


def test_quota_none_is_unlimited(http, make_sims):
    sims = make_sims(lambda cfg: (no_limits(cfg), setattr(cfg.ship24, "quota", 1)))
    client = http.ship24(sims)
    assert client.post("/trackers", json={"trackingNumber": UPS}).status_code == 201
    assert client.post("/trackers", json={"trackingNumber": "794644790132"}).status_code == 403
    sims.ship24.config.quota = None
    assert client.post("/trackers", json={"trackingNumber": "794644790132"}).status_code == 201
    assert client.post("/trackers/bulk", json=[{"trackingNumber": "9400111899223100000011"}]).status_code == 201
    assert sims.ship24.log.trackers_created == 3


# Ship24: the timeout fault and its hold (5xx and reset: test_ship24_sim.py) --------------------------------
def test_ship24_timeout_fault_and_hold(http, make_sims):
    def tweak(cfg: SimConfig) -> None:
        cfg.ship24.faults.timeout_rate = 1.0
        cfg.ship24.faults.timeout_hold_seconds = 0.5
    sims = make_sims(tweak)
    with pytest.raises(httpx.ReadTimeout):
        http.ship24(sims, timeout=0.2).get("/couriers")
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):  # a patient client: dropped unanswered after the hold
        http.ship24(sims, timeout=5.0).get("/couriers")
    assert time.monotonic() - started >= 0.4
    assert sims.ship24.log.total_requests == 2 and sum(sims.ship24.log.status_counts.values()) == 0


# Front: default_limit ---------------------------------------------------------------------------------------
def test_front_default_limit(http, make_sims):
    sims = make_sims()
    client = http.front(sims)
    for limit in (9, 2):  # without a `limit` parameter, pages hold `default_limit` conversations
        sims.front.config.default_limit = limit
        results, pages = crawl(client, search_path(f"after:{T0 - 1} before:{T0 + 150_000}"))
        assert [len(p["_results"]) for p in pages[:-1]] == [limit] * (len(pages) - 1)
        assert 1 <= len(pages[-1]["_results"]) <= limit and len(pages) == -(-len(results) // limit)
        assert len({r["id"] for r in results}) == len(results) == pages[0]["_total"]
