"""OpenAI double: POST /v1/chat/completions and POST /v1/responses as the real SDK sends them (stack-notes §1.5).

Before any work a request is checked as the real API checks it: the key (401), the body, the model and its
family's parameter rules (`openai_models`: unknown model 404 `model_not_found`; a reasoning model refuses a
non-default temperature and max_tokens), and a strict JSON schema's rules (`openai_answer.format_problem`,
400 `invalid_json_schema`). Then the rate limits: every response carries
x-ratelimit-{limit,remaining,reset}-{requests,tokens} (resets as Go-style durations like "12ms" or "6m0s");
over RPM or TPM it answers OpenAI's 429 body with retry-after and retry-after-ms. A request costs its
estimated input tokens (chars / chars_per_token) plus its max output tokens against TPM.

The answer is the "model" of `openai_reader`: it reads the user text with the simulator's own detector and
makes a small model's mistakes (OpenAISimConfig: missed, misread, decoy, wrong-carrier and invented
numbers, malformed JSON), plus refusals and cut-off answers (finish_reason "length" / status
"incomplete"). Every random choice of an answer comes from a generator seeded by (seed, the request's
text, how many times that text was asked before), so one seed gives the same answers whatever the order
the requests arrive in, and a retry of the same request may get a different one, as from a real model.
A reasoning model spends reasoning tokens (config.reasoning_tokens per effort) that count against the
request's max_completion_tokens / max_output_tokens: when they use it up, the answer is cut off, empty.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
import uuid
from typing import Any

from desktop.sim import openai_answer as oa
from desktop.sim import openai_models, openai_reader
from desktop.sim.config import LatencyConfig, OpenAISimConfig
from desktop.sim.server import SimLog, SimRequest, SimResponse, SimService, WindowCounter, json_response
from desktop.sim.workspace import Workspace

REFUSAL = "I'm sorry, but I can't help with that request."


class OpenAILog(SimLog):
    """SimLog plus calls (completions answered 200), tokens_in and tokens_out (usage reported)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.tokens_in = 0
        self.tokens_out = 0


def go_duration(seconds: float) -> str:
    """Go's time.Duration format as OpenAI sends it: "12ms", "1.5s", "6m0s", "1h2m3s"."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    return f"{int(minutes)}m{text}" if minutes else text


def error_body(message: str, kind: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class _Refused(Exception):
    def __init__(self, response: SimResponse) -> None:
        super().__init__(response.status)
        self.response = response


class OpenAIService(SimService):
    name = "openai"

    def __init__(self, workspace: Workspace | None, config: OpenAISimConfig, seed: int = 7) -> None:
        """`workspace` is accepted like the other services' but never read: the model answers from the text
        it is sent, never from the workspace's answer key."""
        super().__init__(config, OpenAILog(), seed)
        self.config: OpenAISimConfig = config
        self.log: OpenAILog
        self.seed = seed
        self._asked: dict[str, int] = {}   # request text digest -> times asked (seeds each answer)
        self._counter = WindowCounter()
        self._bucket: dict[str, tuple[float, float]] = {}   # key -> (amount in use, when last refilled)
        self.route("POST", "/v1/chat/completions", lambda r: self.complete(r, "chat"))
        self.route("POST", "/v1/responses", lambda r: self.complete(r, "responses"))
        self.route("GET", "/v1/models", self.models)

    # Framing -------------------------------------------------------------------------------------------
    def not_found(self, request: SimRequest) -> SimResponse:
        return json_response(404, error_body(f"Invalid URL ({request.method} {request.path})",
                                             "invalid_request_error", None))

    def server_error(self, request: SimRequest, status: int) -> SimResponse:
        return json_response(status, error_body("The server had an error while processing your request. "
                                                "Sorry about that!", "server_error", None))

    def finalize(self, request: SimRequest, response: SimResponse) -> SimResponse:
        response.headers.append(("x-request-id", "req_" + uuid.uuid4().hex))
        response.headers += request.context.get("ratelimit_headers") or self._headers(self.now())
        return response

    def _usage(self, key: str, limit: int, now: float) -> tuple[float, float]:
        """(amount of `key`'s budget in use, seconds until it is all available again)."""
        window = self.config.window_seconds
        if self.config.limiter == "window":
            used, end = self._counter.state(key, window, now)
            return float(used), (end - now) if used else 0.0
        used, last = self._bucket.get(key, (0.0, now))
        used = max(0.0, used - (now - last) * limit / window)   # refills continuously
        self._bucket[key] = (used, now)
        return used, used * window / limit

    def _take(self, key: str, amount: int, now: float) -> None:
        if self.config.limiter == "window":
            self._counter.hit(key, self.config.window_seconds, now, amount)
        else:
            used, _ = self._bucket.get(key, (0.0, now))
            self._bucket[key] = (used + amount, now)

    def _wait_for(self, key: str, used: float, amount: float, limit: int, reset: float) -> float:
        """Seconds until `amount` more fits: the window's end, or until the bucket has drained enough."""
        if self.config.limiter == "window":
            return reset
        return max(0.0, used + amount - limit) * self.config.window_seconds / limit

    def _headers(self, now: float) -> list[tuple[str, str]]:
        cfg = self.config
        with self.lock:
            requests_used, requests_reset = self._usage("requests", cfg.requests_per_minute, now)
            tokens_used, tokens_reset = self._usage("tokens", cfg.tokens_per_minute, now)
        return [("x-ratelimit-limit-requests", str(cfg.requests_per_minute)),
                ("x-ratelimit-remaining-requests", str(max(0, int(cfg.requests_per_minute - requests_used)))),
                ("x-ratelimit-reset-requests", go_duration(requests_reset) if requests_reset > 0 else "0s"),
                ("x-ratelimit-limit-tokens", str(cfg.tokens_per_minute)),
                ("x-ratelimit-remaining-tokens", str(max(0, int(cfg.tokens_per_minute - tokens_used)))),
                ("x-ratelimit-reset-tokens", go_duration(tokens_reset) if tokens_reset > 0 else "0s")]

    def _check_limits(self, request: SimRequest, model: str, cost: int) -> None:
        cfg, now = self.config, self.now()
        with self.lock:
            used_requests, requests_reset = self._usage("requests", cfg.requests_per_minute, now)
            used_tokens, tokens_reset = self._usage("tokens", cfg.tokens_per_minute, now)
            over = None
            if cfg.rate_limits and used_requests + 1 > cfg.requests_per_minute:
                wait = self._wait_for("requests", used_requests, 1, cfg.requests_per_minute, requests_reset)
                over = ("requests", "requests per min (RPM)", cfg.requests_per_minute, int(used_requests), 1)
            elif cfg.rate_limits and used_tokens + cost > cfg.tokens_per_minute:
                wait = self._wait_for("tokens", used_tokens, cost, cfg.tokens_per_minute, tokens_reset)
                over = ("tokens", "tokens per min (TPM)", cfg.tokens_per_minute, int(used_tokens), cost)
            else:
                self._take("requests", 1, now)
                self._take("tokens", cost, now)
        request.context["ratelimit_headers"] = self._headers(now)
        if over is not None:
            kind, label, limit, used, asked = over
            wait = max(wait, 0.001)
            message = (f"Rate limit reached for {model} in organization org-simulator on {label}: Limit {limit}, "
                       f"Used {used}, Requested {asked}. Please try again in {go_duration(wait)}. Visit "
                       "https://platform.openai.com/account/rate-limits to learn more.")
            raise _Refused(json_response(429, error_body(message, kind, "rate_limit_exceeded"), [
                ("retry-after-ms", str(math.ceil(wait * 1000))), ("retry-after", str(math.ceil(wait)))]))

    def _tokens(self, text: str) -> int:
        return max(1, math.ceil(len(text) / self.config.chars_per_token))

    def latency_for(self, route: str) -> LatencyConfig:
        return self.config.models_latency if route == "GET /v1/models" else self.config.latency

    # Handlers ------------------------------------------------------------------------------------------
    def models(self, request: SimRequest) -> SimResponse:
        try:
            self._authenticate(request)
        except _Refused as refused:
            return refused.response
        return json_response(200, {"object": "list", "data": [
            {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "system"}
            for name in openai_models.served(self.config)]})

    def _authenticate(self, request: SimRequest) -> None:
        token = request.bearer()
        if token != self.config.api_key:
            shown = (token[:3] + "*" * 4 + token[-2:]) if token else ""
            raise _Refused(json_response(401, error_body(
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key")))

    def _parse(self, request: SimRequest, kind: str) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _Refused(self._bad("We could not parse the JSON body of your request.", None))
        if not body.get("model"):
            raise _Refused(self._bad("you must provide a model parameter", "model"))
        if body.get("stream"):
            raise _Refused(self._bad("The simulator does not support stream=true.", "stream"))
        if kind == "chat" and not body.get("messages"):
            raise _Refused(self._bad("Missing required parameter: 'messages'.", "messages"))
        if kind == "responses" and not body.get("input"):
            raise _Refused(self._bad("Missing required parameter: 'input'.", "input"))
        return body

    def _bad(self, message: str, param: str | None) -> SimResponse:
        return json_response(400, error_body(message, "invalid_request_error", None, param))

    def complete(self, request: SimRequest, kind: str) -> SimResponse:
        try:
            self._authenticate(request)
            body = self._parse(request, kind)
            self._check_model(body, kind)
            schema, _strict = oa.request_schema(body, kind)
            user_text, all_text = oa.request_texts(body, kind)
            max_out = body.get("max_completion_tokens") or body.get("max_tokens") or body.get("max_output_tokens")
            tokens_in = self._tokens(all_text)
            self._check_limits(request, str(body["model"]), tokens_in + int(max_out or 0))
        except _Refused as refused:
            return refused.response
        rng = self._answer_rng(all_text)
        effort = openai_models.effort_used(body, kind, str(body["model"]), self.config)
        reasoning = self._reasoning_tokens(effort, tokens_in, rng)
        content, outcome = self._answer(user_text, schema, max_out, reasoning, rng)
        written = content if outcome != "refusal" else REFUSAL
        tokens_out = reasoning + (self._tokens(written) if written else 0)
        self.log.add("calls")
        self.log.add("tokens_in", tokens_in)
        self.log.add("tokens_out", tokens_out)
        render = self._chat_json if kind == "chat" else self._responses_json
        return json_response(200, render(str(body["model"]), content, outcome, tokens_in, tokens_out, reasoning))

    def _check_model(self, body: dict[str, Any], kind: str) -> None:
        """The model's and the response format's refusals, in OpenAI's shape (see the module docstring)."""
        refusal = openai_models.check(body, kind, self.config)
        if refusal is None:
            spec = oa.request_format(body, kind)
            problem = oa.format_problem(spec, kind, self.config.reject_non_strict_schema) if spec else None
            refusal = (400, *problem) if problem else None
        if refusal is not None:
            status, message, param, code = refusal
            raise _Refused(json_response(status, error_body(message, "invalid_request_error", code, param)))

    def _answer_rng(self, text: str) -> random.Random:
        """The generator of one answer: seeded by the seed, the request's text and how often it was asked."""
        digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
        with self._rng_lock:
            nth = self._asked.get(digest, 0)
            self._asked[digest] = nth + 1
        return random.Random(f"{self.seed}:{digest}:{nth}")

    def _reasoning_tokens(self, effort: str | None, tokens_in: int, rng: random.Random) -> int:
        """Reasoning tokens a reasoning model spends: around its effort's figure, more for long inputs."""
        base = int(self.config.reasoning_tokens.get(effort, 0)) if effort else 0
        return round(base * (0.5 + rng.random()) * (1 + tokens_in / 4000)) if base else 0

    def _answer(self, text: str, schema: dict[str, Any] | None, max_out: Any, reasoning: int,
                rng: random.Random) -> tuple[str | None, str]:
        """(content, outcome) where outcome is "stop", "length" or "refusal"."""
        cfg = self.config
        found = openai_reader.read(text)   # the detector can take a while on long texts: no lock held
        rolls = [rng.random() for _ in range(3)]
        found = openai_reader.make_mistakes(found, text, cfg, rng)
        if rolls[0] < cfg.refusal_rate:
            return None, "refusal"
        answer = oa.fill(schema, found) if schema is not None else oa.default_answer(found)
        content = json.dumps(answer, ensure_ascii=False)
        limit = int(max_out) if isinstance(max_out, int) and max_out > 0 else None
        room = limit - reasoning if limit is not None else None
        if room is not None and room <= 0:
            return "", "length"          # the reasoning used the whole budget: nothing was written
        if rolls[1] < cfg.cutoff_rate or (room is not None and self._tokens(content) > room):
            keep = room * int(cfg.chars_per_token) if room else max(1, len(content) * 2 // 3)
            return content[:min(keep, max(1, len(content) - 1))], "length"
        if rolls[2] < cfg.malformed_json_rate:
            return content[:max(1, len(content) // 2)] + ' ... }"', "stop"
        return content, "stop"

    def _chat_json(self, model: str, content: str | None, outcome: str, tokens_in: int,
                   tokens_out: int, reasoning: int = 0) -> dict[str, Any]:
        message = {"role": "assistant", "content": content, "refusal": REFUSAL if outcome == "refusal" else None,
                   "annotations": []}
        return {"id": "chatcmpl-" + uuid.uuid4().hex[:24], "object": "chat.completion", "created": int(time.time()),
                "model": model, "system_fingerprint": "fp_simulator",
                "choices": [{"index": 0, "message": message, "logprobs": None,
                             "finish_reason": "length" if outcome == "length" else "stop"}],
                "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out,
                          "total_tokens": tokens_in + tokens_out, "prompt_tokens_details": {"cached_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": reasoning}}}

    def _responses_json(self, model: str, content: str | None, outcome: str, tokens_in: int,
                        tokens_out: int, reasoning: int = 0) -> dict[str, Any]:
        if outcome == "refusal":
            part: dict[str, Any] = {"type": "refusal", "refusal": REFUSAL}
        else:
            part = {"type": "output_text", "text": content or "", "annotations": []}
        incomplete = outcome == "length"
        return {"id": "resp_" + uuid.uuid4().hex, "object": "response", "created_at": int(time.time()),
                "status": "incomplete" if incomplete else "completed", "model": model,
                "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None, "error": None,
                "output": [{"type": "message", "id": "msg_" + uuid.uuid4().hex[:24],
                            "status": "incomplete" if incomplete else "completed", "role": "assistant",
                            "content": [part]}],
                "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
                "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out,
                          "total_tokens": tokens_in + tokens_out, "input_tokens_details": {"cached_tokens": 0},
                          "output_tokens_details": {"reasoning_tokens": reasoning}}}
