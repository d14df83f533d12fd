"""How the LLM client reads and classifies one answer: pure functions, no I/O, no state.

Contract: every function here either returns what the answer holds or raises `Retry` (the attempt failed
in a way worth retrying; `Retry.error` is the `desktop.clients.errors` error to raise after the last
attempt) or, for HTTP statuses, returns the error to raise (`classify_status`). `Adapted` marks a 400 that
refused a parameter the request sent. Nothing here counts, waits or logs: `desktop.clients.llm.LlmClient`
does that with what these functions say.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import openai
import pydantic
from openai.lib._parsing._completions import type_to_response_format_param

from desktop.clients.errors import (
    ApiError,
    ApiStatusError,
    AuthError,
    MalformedResponse,
    NotFound,
    RateLimited,
    ServerError,
)
from desktop.clients.llm_pacing import retry_after_seconds
from desktop.clients.llm_types import CutOff, QuotaExceeded, Refused, T

SERVICE = "openai"


class Adapted(Exception):
    """A 400 refused a parameter the request sent; `ModelParams` now leaves it out."""


class Retry(Exception):
    """This attempt failed in a way worth retrying; `error` is what to raise at the end."""

    def __init__(self, error: ApiError, kind: str, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.kind = kind
        self.wait = wait


def read_body(raw: Any) -> dict[str, Any]:
    """The answer's JSON object; `Retry("malformed")` when it is not JSON or not an object."""
    try:
        body = json.loads(raw.http_response.content)
    except ValueError as err:
        raise Retry(MalformedResponse(SERVICE, "the answer is not JSON"), "malformed") from err
    if not isinstance(body, dict):
        raise Retry(MalformedResponse(SERVICE, "the answer is not a JSON object"), "malformed")
    return body


def token_counts(body: dict[str, Any]) -> tuple[int, int] | None:
    """(input, output) tokens from the answer's `usage` (either API's names); None when not integers."""
    data = body.get("usage") or {}
    tokens_in = data.get("prompt_tokens", data.get("input_tokens")) or 0
    tokens_out = data.get("completion_tokens", data.get("output_tokens")) or 0
    if isinstance(tokens_in, int) and isinstance(tokens_out, int):
        return tokens_in, tokens_out
    return None


def check_answer(body: dict[str, Any], api: str) -> None:
    """Classify refusals and cut-offs from the raw body (the SDK raises for some, not all)."""
    if api == "responses":
        reason = (body.get("incomplete_details") or {}).get("reason")
        if body.get("status") == "incomplete" or reason:
            raise Retry(CutOff(SERVICE, f"answer incomplete ({reason or 'unknown'})"), "cut_off")
        for item in body.get("output") or []:
            for part in (item.get("content") or []) if isinstance(item, dict) else []:
                if isinstance(part, dict) and part.get("type") == "refusal":
                    raise Retry(Refused(SERVICE, f"refused: {part.get('refusal', '')[:200]}"), "refusal")
        return
    choices = body.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        raise Retry(MalformedResponse(SERVICE, "the answer has no choices"), "malformed")
    choice = choices[0]
    if choice.get("finish_reason") == "length":
        raise Retry(CutOff(SERVICE, "answer cut off (finish_reason length)"), "cut_off")
    refusal = (choice.get("message") or {}).get("refusal")
    if refusal or choice.get("finish_reason") == "content_filter":
        raise Retry(Refused(SERVICE, f"refused: {str(refusal or 'content filter')[:200]}"), "refusal")


def parsed_by_sdk(raw: Any, api: str) -> Any:
    """The object the SDK's own `parse()` of `raw` holds; `Retry` for cut-offs, refusals, misfits."""
    try:
        result = raw.parse()
    except openai.LengthFinishReasonError as err:
        raise Retry(CutOff(SERVICE, "answer cut off (finish_reason length)"), "cut_off") from err
    except openai.ContentFilterFinishReasonError as err:
        raise Retry(Refused(SERVICE, "refused by the content filter"), "refusal") from err
    except (pydantic.ValidationError, ValueError, openai.APIResponseValidationError) as err:
        raise Retry(MalformedResponse(SERVICE, f"the answer does not fit the schema: {_short(err)}"),
                    "malformed") from err
    if api == "responses":
        parsed = result.output_parsed
    else:
        parsed = result.choices[0].message.parsed if result.choices else None
    if parsed is None:
        raise Retry(MalformedResponse(SERVICE, "the answer holds no JSON content"), "malformed")
    return parsed


def parsed_chat(body: dict[str, Any], schema: type[T]) -> T:
    """The answer's JSON content validated against `schema` (refusals and cut-offs were caught before)."""
    choice = (body.get("choices") or [{}])[0]
    content = (choice.get("message") or {}).get("content") if isinstance(choice, dict) else None
    if not content:
        raise Retry(MalformedResponse(SERVICE, "the answer holds no JSON content"), "malformed")
    try:
        return schema.model_validate_json(content)
    except (pydantic.ValidationError, ValueError) as err:
        raise Retry(MalformedResponse(SERVICE, f"the answer does not fit the schema: {_short(err)}"),
                    "malformed") from err


def classify_status(err: openai.APIStatusError, *, reset_wait: Any, max_retry_after: float,
                    backoff_max: float) -> Exception:
    """Map an HTTP error status to our family; temporary ones come back wrapped in `Retry`.

    `reset_wait(headers, kind)` is the pacer's wait for an exhausted limit (used for a 429 without a
    `retry-after`); a 429 wait longer than `max_retry_after` is not retried; other retry-afters are capped
    at `backoff_max`.
    """
    status, headers = err.status_code, err.response.headers
    body = err.body if isinstance(err.body, dict) else {}
    code, kind = body.get("code") or None, body.get("type") or None
    message = str(body.get("message") or err.message)[:300]
    if status == 429:
        if "insufficient_quota" in (code, kind):
            return QuotaExceeded(SERVICE, message, 0.0, code, kind)
        wait = retry_after_seconds(headers) or reset_wait(headers, kind)
        error = RateLimited(SERVICE, message, wait or 0.0, code, kind)
        if wait is not None and wait > max_retry_after:
            return error
        return Retry(error, "rate_limited", wait)
    if status in (401, 403):
        return AuthError(SERVICE, status, message, code)
    if status == 404:
        return NotFound(SERVICE, status, message, code)
    # Other temporary statuses: a retry-after is honoured up to the backoff ceiling.
    wait = retry_after_seconds(headers)
    wait = min(wait, backoff_max) if wait is not None else None
    if status >= 500:
        return Retry(ServerError(SERVICE, status, message, code), "server", wait)
    if status in (408, 409, 425):
        return Retry(ApiStatusError(SERVICE, status, message, code), "status", wait)
    return ApiStatusError(SERVICE, status, message, code)


def output_limit(options: dict[str, Any]) -> int | None:
    """The output budget among `options`, whatever its name."""
    return next((options[k] for k in ("max_completion_tokens", "max_tokens", "max_output_tokens") if k in options),
                None)


@functools.cache
def response_format(schema: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The strict `json_schema` response format for `schema`, exactly as the SDK's `parse` builds it."""
    return type_to_response_format_param(schema)  # type: ignore[return-value]


def _short(err: Exception) -> str:
    text = str(err).replace("\n", " ")
    return text[:200]
