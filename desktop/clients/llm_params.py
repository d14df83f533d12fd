"""Which optional request parameters an LLM call sends to a model, and what a refusal of one teaches.

Models differ in what they accept, and an OpenAI-compatible server (Ollama, vLLM, a proxy) may differ again:

- a non-reasoning model (gpt-4o, gpt-4.1, a local llama) gets `temperature` (0: the same text gives the
  same answer) and an output budget (`max_completion_tokens`; `max_output_tokens` on the Responses API);
- a reasoning model (the o and gpt-5 families and later, `is_reasoning`) refuses a non-default temperature
  (OpenAI: 400 `unsupported_value`), so none is sent; it gets `reasoning_effort: "low"` (extraction needs
  little thought, and reasoning tokens are billed as output) and an output budget that leaves room for its
  reasoning (`REASONING_ALLOWANCE` more), since reasoning tokens count against the same limit.

Whatever the guess, the server has the last word: a 400 whose error names a parameter this request sent
("unsupported_parameter" / "unsupported_value", or the "Unsupported parameter: 'x'" / "Unrecognized request
argument supplied: x" wordings) makes `ModelParams.learn` remember it for that model; the caller retries at
once without it, and no later call to that model sends it again. A refused `max_completion_tokens` is sent
as `max_tokens` instead (older compatible servers know only that one), and the other way round.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

log = logging.getLogger("shipscan.llm")

#: Output tokens a reasoning model may spend thinking, on top of the answer's own budget.
REASONING_ALLOWANCE = 1000
REASONING_EFFORT = "low"
_REASONING_MODEL = re.compile(r"^(?:[\w.-]+/)?(?:o\d|gpt-(?:[5-9]|\d\d))(?:\b|[.-])", re.I)
_NAMED = re.compile(r"(?:Unsupported (?:parameter|value): |Unrecognized request argument supplied: |"
                    r"Unknown parameter: )'?([\w.\[\]]+)'?", re.I)
_REFUSAL_CODES = {"unsupported_parameter", "unsupported_value", "unknown_parameter"}
#: When a server refuses one output-budget name, the other one carries the budget.
_SWAP = {"max_completion_tokens": "max_tokens", "max_tokens": "max_completion_tokens"}


def is_reasoning(model: str) -> bool:
    """True for OpenAI's reasoning families (o1, o3, o4-mini, gpt-5, gpt-5.4-mini, ...), also behind a
    "provider/" prefix; False for everything else (gpt-4o, gpt-4.1, local models)."""
    return bool(_REASONING_MODEL.match(model.strip()))


class ModelParams:
    """Chooses the optional parameters per model and remembers what each model refused. Thread-safe."""

    def __init__(self) -> None:
        self._refused: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def refused(self, model: str) -> frozenset[str]:
        """The parameters `model` refused so far (names as the API writes them, e.g. "reasoning.effort")."""
        with self._lock:
            return frozenset(self._refused.get(model, ()))

    def options(self, model: str, api: str, out_budget: int | None, temperature: float | None) -> dict[str, Any]:
        """The optional parameters for one request to `model` on `api` ("chat" or "responses")."""
        refused = self.refused(model)
        reasoning = is_reasoning(model)
        options: dict[str, Any] = {}
        if temperature is not None and not reasoning and "temperature" not in refused:
            options["temperature"] = temperature
        if reasoning:
            if api == "chat" and "reasoning_effort" not in refused:
                options["reasoning_effort"] = REASONING_EFFORT
            elif api == "responses" and not refused & {"reasoning", "reasoning.effort"}:
                options["reasoning"] = {"effort": REASONING_EFFORT}
        limit = out_budget + REASONING_ALLOWANCE if out_budget and reasoning else out_budget
        if limit:
            name = "max_output_tokens" if api == "responses" else "max_completion_tokens"
            if name in refused:
                name = _SWAP.get(name, "")
            if name and name not in refused:
                options[name] = limit
        return options

    def learn(self, model: str, error: dict[str, Any], sent: dict[str, Any]) -> bool:
        """True when `error` (the body's "error" object of a 400) refuses a parameter that `sent` holds:
        it is remembered for `model` and the request should be sent again without it."""
        name = _refused_name(error)
        if name is None or _top(name) not in sent:
            return False
        with self._lock:
            known = self._refused.setdefault(model, set())
            new = name not in known
            known.add(name)
        if new:
            log.info("model %s refused the parameter %r; it is no longer sent to it", model, name)
        return True


def _refused_name(error: dict[str, Any]) -> str | None:
    """The parameter a 400 error object refuses, or None when it is about something else."""
    message = str(error.get("message") or "")
    named = _NAMED.search(message)
    if str(error.get("code") or "") not in _REFUSAL_CODES and named is None:
        return None
    param = error.get("param")
    if isinstance(param, str) and param:
        return param
    return named.group(1) if named else None


def _top(name: str) -> str:
    """The top-level body key of a parameter path ("reasoning.effort" -> "reasoning")."""
    return re.split(r"[.\[]", name, maxsplit=1)[0]
