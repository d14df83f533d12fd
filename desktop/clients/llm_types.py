"""The LLM client's result and error types (re-exported by `desktop.clients.llm`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

import pydantic

from desktop.clients.errors import MalformedResponse, RateLimited
from desktop.clients.gauge import Gauge

T = TypeVar("T", bound=pydantic.BaseModel)


class QuotaExceeded(RateLimited):
    """429 `insufficient_quota`: the account is out of credit. Retrying later does not help."""

    permanent = True

    @property
    def temporary(self) -> bool:  # type: ignore[override]
        return False


class Refused(MalformedResponse):
    """The model refused to answer (a `refusal` instead of JSON)."""


class CutOff(MalformedResponse):
    """The answer was cut off by the output-token limit (`finish_reason == "length"`)."""


@dataclass(slots=True)
class LlmStats:
    """Counts over the client's life. `calls` counts HTTP requests sent (every attempt)."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    rate_limited: int = 0
    retries: int = 0
    failures: int = 0
    #: Failed attempts by kind ("rate_limited", "server", "timeout", "connection", "malformed",
    #: "refusal", "cut_off", "status").
    errors: dict[str, int] = field(default_factory=dict)
    #: Calls sent and not yet answered, with their time-weighted average and peak.
    in_flight: Gauge = field(default_factory=Gauge)


@dataclass(slots=True)
class CallUsage:
    """What one `parse` call cost, over all of its attempts (filled in even when the call fails)."""

    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True, slots=True)
class LlmReply(Generic[T]):
    parsed: T
    tokens_in: int
    tokens_out: int
    attempts: int
    request_id: str | None = None
