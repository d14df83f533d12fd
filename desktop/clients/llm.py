"""OpenAI-compatible LLM client: one structured-output call, paced, retried, counted and classified.

`LlmClient.parse(instructions, text, schema)` sends one request (Chat Completions by default, with the
strict `json_schema` response format `chat.completions.parse` would send, built once per schema; or the
Responses API `responses.parse` with `api="responses"`) asking for JSON that fits the pydantic `schema`
(strict structured outputs), and returns the parsed object.

Works with any current model and OpenAI-compatible servers: the optional parameters are chosen by model
family (`desktop.clients.llm_params`: temperature 0 for a non-reasoning model; no temperature, low
reasoning effort and room for reasoning tokens for a reasoning model), and a 400 that refuses a parameter
the request sent ("unsupported_parameter" / "unsupported_value") is not a failure: the parameter is
remembered for that model and the request goes again at once without it (counted as an attempt).

Why our own retry loop (the SDK's is switched off with `max_retries=0`): so every attempt is counted and
every failure classified, so a 429 pauses *all* callers (not just the one that got it), and so malformed
JSON, refusals and cut-off answers (which the SDK never retries) are retried too.

Pacing before any 429 (`desktop.clients.llm_pacing.LlmPacer`): the `x-ratelimit-*` headers of every
answer set the RPM and TPM limiters and pause them when the budget runs low. Waits are reported through
`on_wait(seconds, reason)`.

Retried (exponential backoff with jitter, up to `max_retries` retries): 408/409/429, 5xx, timeouts,
connection errors, malformed JSON, refusals and cut-off answers (`finish_reason == "length"`; the output
budget doubles on each retry). A 429 waits what the server says (`retry-after-ms`, then `retry-after`,
then the `x-ratelimit-reset-*` header of the exhausted limit). Not retried: 400, 401/403, 404,
`insufficient_quota`, and a `retry-after` longer than `max_retry_after`. After the last attempt the error
is raised as the `desktop.clients.errors` family (service "openai"):

    RateLimited (QuotaExceeded: temporary=False), ServerError, AuthError, NotFound, ApiStatusError,
    ApiTimeout, ApiConnectionError, MalformedResponse (Refused, CutOff: the model's answer itself was bad)

A refusal of the key (401/403) or of the account (`insufficient_quota`) is `permanent`: the client
remembers it (`refusal`) and every later `parse` raises it at once without sending, so the calls queued
behind the first refusal cost nothing. The key is asked about first, once: the first `parse` lists the
models (`GET /models`: no tokens, answered at once, where a chat answer takes seconds) and every other call
waits for that answer, so a wrong key costs one request, not the dozen calls a scan starts before the first
chat answer could say so. Any other outcome of that check (404 on a compatible server, 5xx, no connection)
is left to the calls themselves. `forget_refusal()` clears it (a new scan asks again: the key may
have been fixed or the account topped up meanwhile).

Keys are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai

from desktop.clients import llm_limits
from desktop.clients.backoff import Backoff
from desktop.clients.errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeout,
    AuthError,
    RateLimited,
)
from desktop.clients.llm_answer import (
    SERVICE,
    check_answer,
    classify_status,
    output_limit,
    parsed_by_sdk,
    parsed_chat,
    read_body,
    response_format,
    token_counts,
)
from desktop.clients.llm_answer import Adapted as _Adapted
from desktop.clients.llm_answer import Retry as _Retry
from desktop.clients.llm_pacing import LlmPacer, LlmTicket
from desktop.clients.llm_params import ModelParams
from desktop.clients.llm_types import CallUsage, CutOff, LlmReply, LlmStats, QuotaExceeded, Refused, T

__all__ = ["CallUsage", "CutOff", "LlmClient", "LlmReply", "LlmStats", "QuotaExceeded", "Refused",
           "response_format"]

log = logging.getLogger("shipscan.llm")

WaitCallback = Callable[[float, str], None]
MAX_OUTPUT_TOKENS = 16_384        # the ceiling when a cut-off answer doubles the output budget
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}



class LlmClient:
    """Structured-output calls to an OpenAI-compatible server (see the module docstring).

    Args:
        base_url: e.g. "https://api.openai.com/v1" or "http://127.0.0.1:11434/v1" (Ollama).
        api_key: the key (any non-empty string for servers that ignore it).
        model: the model name sent with every request.
        max_retries: retries after the first attempt (so `max_retries + 1` attempts at most).
        timeout: per-attempt timeout in seconds, or an `httpx2.Timeout`.
        on_wait: called as `on_wait(seconds, reason)` for waits of a second or more (pacing, 429, backoff).
        api: "chat" (Chat Completions, default: Ollama and vLLM speak it) or "responses".
        rpm, tpm: known request/token budgets per minute (otherwise learnt from the headers).
        rate_period: the seconds those budgets cover (60 at OpenAI; tests scale the simulator's window).
        max_output_tokens: output budget per call (None: the server's default); doubles on a cut-off.
        temperature: for non-reasoning models; None to omit it (reasoning models never get one).
        backoff_base, backoff_max: exponential backoff in seconds (tests scale them down).
        max_retry_after: a server-requested wait longer than this is not waited for (RateLimited raised).
        http_client: an `httpx2.AsyncClient` to use (tests); by default the SDK's own, or one with
            `trust_env=False` for loopback URLs (a broken SSL_CERT_FILE must not stop a local server).
    """

    def __init__(self, base_url: str, api_key: str, model: str, *, max_retries: int = 4,
                 timeout: float | httpx2.Timeout = 60.0, on_wait: WaitCallback | None = None,
                 api: str = "chat", rpm: float | None = None, tpm: float | None = None,
                 rate_period: float = 60.0, max_output_tokens: int | None = 1200,
                 temperature: float | None = 0.0,
                 backoff_base: float = 0.5, backoff_max: float = 20.0, max_retry_after: float = 120.0,
                 http_client: httpx2.AsyncClient | None = None, check_key: bool = True,
                 limits_file: Path | None = None) -> None:
        if api not in ("chat", "responses"):
            raise ValueError(f"api must be 'chat' or 'responses', not {api!r}")
        if not isinstance(timeout, httpx2.Timeout):
            timeout = httpx2.Timeout(timeout, connect=min(10.0, timeout))
        if http_client is None and urlsplit(base_url).hostname in _LOOPBACK:
            http_client = openai.DefaultAsyncHttpx2Client(trust_env=False, timeout=timeout)
        self._sdk = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout,
                                       http_client=http_client)
        self.model = model
        self.api = api
        self.max_retries = max(0, max_retries)
        self.max_output_tokens = max_output_tokens
        self.temperature = temperature
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self._on_wait = on_wait
        self._backoff_policy = Backoff(base=backoff_base, factor=2.0, cap=max(backoff_max, backoff_base),
                                       max_attempts=self.max_retries + 1, jitter=0.5)
        self.stats = LlmStats()
        #: Where the limits the server states are remembered between runs (`llm_limits`; None: nowhere).
        self.limits_file = limits_file
        self._server = base_url
        known = llm_limits.load(limits_file, base_url, model) if limits_file and rpm is None else None
        if known is not None:
            rpm, tpm, rate_period = known
        self.pacer = LlmPacer(rpm, tpm, period=rate_period, on_wait=on_wait,
                              start_level=llm_limits.START_SHARE if known else 1.0)
        #: The first permanent refusal (see the module docstring), raised by every later call.
        self.refusal: ApiError | None = None
        #: Ask about the key (`GET /models`) before the first call; off: the first call tells.
        self.check_key = check_key
        self._key_check: asyncio.Future[None] | None = None
        #: The optional parameters per model, and what each model refused (see `llm_params`).
        self.params = ModelParams()

    @classmethod
    def from_settings(cls, settings: Any, api_key: str, *, on_wait: WaitCallback | None = None,
                      **kwargs: Any) -> LlmClient:
        """A client for `desktop.settings.Settings`: `openai_url`, `model`, and `llm_api` ("chat" or
        "responses") when the settings have it (default "chat")."""
        return cls(settings.openai_url, api_key, settings.model, on_wait=on_wait,
                   api=getattr(settings, "llm_api", "chat") or "chat", **kwargs)

    def forget_refusal(self) -> None:
        """Let the next call ask the server again after a permanent refusal (the key check too)."""
        self.refusal = None
        self._key_check = None

    def check_key_soon(self) -> None:
        """Start the key check now, without waiting for it: a scan calls this as its first conversation's
        messages are fetched, so the check's round trip overlaps the fetch instead of delaying the first
        call (GET /models costs nothing; the calls wait for its answer as before)."""
        if self.check_key:
            self._key_check_task()

    async def _check_key(self) -> None:
        """The key check of the module docstring: one `GET /models` per key, shared by every caller."""
        if self.check_key:
            await asyncio.shield(self._key_check_task())

    def _key_check_task(self) -> asyncio.Future[None]:
        check = self._key_check
        if check is None or check.get_loop() is not asyncio.get_running_loop():
            check = self._key_check = asyncio.ensure_future(self._ask_models())
        return check

    async def _ask_models(self) -> None:
        try:
            await self._sdk.models.with_raw_response.list()
        except openai.APIStatusError as err:
            if err.status_code in (401, 403):
                self._count_error("auth")
                self.refusal = self._status_error(err)   # type: ignore[assignment]
                log.info("OpenAI refused the key (HTTP %d) when asked for its models", err.status_code)
        except (openai.APIError, httpx2.HTTPError):   # the calls themselves will tell
            pass

    async def aclose(self) -> None:
        """Close the HTTP connections (call before the event loop closes); remember the stated limits."""
        requests, tokens = self.pacer.requests, self.pacer.tokens
        if self.limits_file and requests.limit and tokens.limit:
            llm_limits.save(self.limits_file, self._server, self.model, requests.limit, tokens.limit,
                            requests.window)
        check = self._key_check
        if check is not None and not check.done() and check.get_loop() is asyncio.get_running_loop():
            check.cancel()   # started by `check_key_soon` for a scan that ended before its first call
            await asyncio.gather(check, return_exceptions=True)
        await self._sdk.close()

    async def parse(self, instructions: str, text: str, schema: type[T], *, cost: int | None = None,
                    usage: CallUsage | None = None) -> LlmReply[T]:
        """Ask the model for `schema` given `instructions` (system) and `text` (user); see module docstring.

        Args:
            cost: estimated input tokens (for TPM pacing; default ~chars/4); the output budget is added.
            usage: filled in with attempts and tokens as they happen (also when the call fails).

        Raises:
            ApiError: a subclass from `desktop.clients.errors` (or QuotaExceeded/Refused/CutOff) once retries
                are exhausted or the error is not temporary; at once, unsent, after a permanent refusal.
        """
        usage = usage if usage is not None else CallUsage()
        if cost is None:
            cost = (len(instructions) + len(text)) // 4
        await self._check_key()
        out_budget = self.max_output_tokens
        attempt = 0
        while True:
            if self.refusal is not None:
                raise self.refusal
            options = self.params.options(self.model, self.api, out_budget, self.temperature)
            # Servers count the output budget against TPM too (OpenAI and the simulator do).
            ticket = await self.pacer.pace(cost + (output_limit(options) or 500))
            if self.refusal is not None:     # it came while this call waited for its budget
                self.pacer.settle(ticket)
                raise self.refusal
            try:
                return await self._attempt(instructions, text, schema, options, usage, ticket)
            except _Adapted:
                # The model refused a parameter this request sent (now remembered): the same attempt
                # again without it. Bounded: each request sends fewer optional parameters than the last.
                self._count_error("unsupported_parameter")
                continue
            except _Retry as retry:
                self._count_error(retry.kind)
                if retry.kind == "cut_off" and out_budget:
                    # Temperature 0 gives the same cut-off again with the same budget.
                    out_budget = min(out_budget * 2, MAX_OUTPUT_TOKENS)
                if attempt >= self.max_retries:
                    self.stats.failures += 1
                    raise retry.error from retry.__cause__
                self.stats.retries += 1
                await self._backoff(attempt, retry)
                attempt += 1
            except ApiError as err:          # not worth retrying (401, 404, 400, quota, a long retry-after)
                self._count_error("auth" if isinstance(err, AuthError) else
                                  "rate_limited" if isinstance(err, RateLimited) else "status")
                if err.permanent and self.refusal is None:
                    self.refusal = err
                self.stats.failures += 1
                raise

    # -- one attempt ---------------------------------------------------------------------------------

    async def _attempt(self, instructions: str, text: str, schema: type[T], options: dict[str, Any],
                       usage: CallUsage, ticket: LlmTicket) -> LlmReply[T]:
        self.stats.calls += 1
        usage.attempts += 1
        raw = await self._exchange(instructions, text, schema, options, ticket)
        body = read_body(raw)
        self._count_tokens(body, usage)
        check_answer(body, self.api)
        parsed = parsed_by_sdk(raw, self.api) if self.api == "responses" else parsed_chat(body, schema)
        return LlmReply(parsed, usage.tokens_in, usage.tokens_out, usage.attempts,
                        raw.headers.get("x-request-id"))

    async def _exchange(self, instructions: str, text: str, schema: type[T], options: dict[str, Any],
                        ticket: LlmTicket) -> Any:
        """One HTTP call, counted in flight; its answer's headers (also an error's) feed the pacer."""
        self.stats.in_flight.add(1)
        try:
            raw = await self._send(instructions, text, schema, options)
        except openai.APIStatusError as err:
            self.pacer.learn(ticket, err.response.headers)
            if err.status_code == 400 and isinstance(err.body, dict) and \
                    self.params.learn(self.model, err.body, options):
                raise _Adapted from err
            raise self._status_error(err) from err
        except openai.APITimeoutError as err:
            raise _Retry(ApiTimeout(SERVICE, "no answer within the timeout"), "timeout") from err
        except openai.APIConnectionError as err:
            raise _Retry(ApiConnectionError(SERVICE, f"connection failed: {err}"), "connection") from err
        finally:
            self.stats.in_flight.add(-1)
            self.pacer.settle(ticket)
        self.pacer.learn(ticket, raw.headers)
        return raw

    async def _send(self, instructions: str, text: str, schema: type[T], options: dict[str, Any]) -> Any:
        """One request with the optional parameters `options` (chosen per model by `ModelParams`)."""
        if self.api == "responses":
            return await self._sdk.responses.with_raw_response.parse(
                model=self.model, instructions=instructions, input=text, text_format=schema, **options)
        # The same request `chat.completions.parse(response_format=schema)` sends, but the schema's JSON is
        # built once per schema and goes in as is: the SDK would rebuild and re-walk it on every call
        # (~6 ms of the event loop's time per call, measured), and parse the answer into its own models
        # first; `llm_answer.parsed_chat` validates the content against `schema` directly.
        return await self._sdk.chat.completions.with_raw_response.create(
            model=self.model, **options, extra_body={"response_format": response_format(schema)},
            messages=[{"role": "system", "content": instructions}, {"role": "user", "content": text}])

    def _count_tokens(self, body: dict[str, Any], usage: CallUsage) -> None:
        counts = token_counts(body)
        if counts is not None:
            usage.tokens_in += counts[0]
            usage.tokens_out += counts[1]
            self.stats.tokens_in += counts[0]
            self.stats.tokens_out += counts[1]

    def _status_error(self, err: openai.APIStatusError) -> Exception:
        """Map an HTTP error status to our family (`llm_answer.classify_status`); counts 429s."""
        if err.status_code == 429:
            self.stats.rate_limited += 1
        return classify_status(err, reset_wait=self.pacer.reset_wait, max_retry_after=self.max_retry_after,
                               backoff_max=self.backoff_max)

    # -- backoff ------------------------------------------------------------------------------------

    async def _backoff(self, attempt: int, retry: _Retry) -> None:
        """Wait before the next attempt; a 429 pauses every caller through the limiters."""
        delay = self._backoff_policy.delay(attempt + 1)
        if retry.wait is not None:
            delay = retry.wait + random.uniform(0.0, 0.1 * self.backoff_base)   # spread the herd a little
        log.info("openai attempt %d failed (%s): %s; retrying in %.2f s", attempt + 1, retry.kind,
                 retry.error.message, delay)
        if isinstance(retry.error, RateLimited):
            self.pacer.pause(retry.error.tier, delay, "OpenAI rate limit (429)")
            return   # the next `pacer.pace` waits (and reports the wait)
        if delay >= 1.0 and self._on_wait is not None:
            self._on_wait(delay, f"OpenAI {retry.kind} error, retrying")
        await asyncio.sleep(delay)

    def _count_error(self, kind: str) -> None:
        self.stats.errors[kind] = self.stats.errors.get(kind, 0) + 1
