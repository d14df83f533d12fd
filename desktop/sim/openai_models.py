"""OpenAI double, model side: which models exist and which request parameters each family accepts.

The real API checks a request against its model before any work: an unknown model answers 404
`model_not_found`; a reasoning model (the gpt-5 and o families) refuses a non-default `temperature` or
`top_p` (400 `unsupported_value`, "Only the default (1) value is supported") and `max_tokens` (400
`unsupported_parameter`, "Use 'max_completion_tokens' instead"), and accepts only its own
`reasoning_effort` values; a non-reasoning model refuses `reasoning_effort`. Wording, `type`, `param` and
`code` are OpenAI's own (seen in its answers quoted in public issue threads, e.g. gpt-5-mini, gpt-5.4,
o1-mini). `check(body, kind, config)` returns the first such refusal as (status, message, param, code).

The catalogue holds what OpenAI serves on chat completions with Structured Outputs as of December 2026
(the ids of the OpenAPI document's ModelIdsShared that are not shut down). Where a fact is unsure the
simulator takes the stricter side: every reasoning model refuses a non-default temperature whatever its
effort, and defaults to "medium" effort (reasoning tokens count against max_completion_tokens).
`OpenAISimConfig.extra_models` adds ids (a local server's, or a test's) with a family's rules;
`model_rules=False` turns all of this off (any model, any parameter: an OpenAI-compatible server that
ignores what it does not know).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_GPT5_EFFORTS = ("minimal", "low", "medium", "high")
_GPT51_EFFORTS = ("none", "low", "medium", "high")
_NEWER_EFFORTS = ("none", "low", "medium", "high", "xhigh")
_O_EFFORTS = ("low", "medium", "high")


@dataclass(frozen=True)
class ModelRules:
    """What one model accepts. `efforts` is empty for a non-reasoning model."""

    efforts: tuple[str, ...] = ()
    structured_outputs: bool = True

    @property
    def reasoning(self) -> bool:
        return bool(self.efforts)


CHAT = ModelRules()
REASONING = ModelRules(_NEWER_EFFORTS)


def _catalogue() -> dict[str, ModelRules]:
    table: dict[str, ModelRules] = {}
    for name in ("gpt-4o", "gpt-4o-2024-08-06", "gpt-4o-2024-11-20", "gpt-4o-mini", "gpt-4o-mini-2024-07-18",
                     "gpt-4.1", "gpt-4.1-2025-04-14", "gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"):
        table[name] = CHAT
    for name in ("gpt-5", "gpt-5-2025-08-07", "gpt-5-mini", "gpt-5-mini-2025-08-07", "gpt-5-nano",
                     "gpt-5-nano-2025-08-07"):
        table[name] = ModelRules(_GPT5_EFFORTS)
    for name in ("gpt-5.1", "gpt-5.1-2025-11-13", "gpt-5.1-mini"):
        table[name] = ModelRules(_GPT51_EFFORTS)
    for name in ("gpt-5.2", "gpt-5.2-2025-12-11", "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano",
                     "gpt-5.4-mini-2026-03-17", "gpt-5.4-nano-2026-03-17", "gpt-5.5", "gpt-5.5-2026-04-23",
                     "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna"):
        table[name] = REASONING
    for name in ("gpt-5.3-chat-latest",):       # a chat variant: reasoning rules, one fixed effort
        table[name] = ModelRules(("medium",))
    for name in ("o3", "o3-2025-04-16"):
        table[name] = ModelRules(_O_EFFORTS)
    return table


CATALOGUE: dict[str, ModelRules] = _catalogue()
FAMILIES = {"chat": CHAT, "reasoning": REASONING}


def rules_for(model: str, config: Any) -> ModelRules | None:
    """The rules of `model`, or None when the simulator does not serve it."""
    extra = getattr(config, "extra_models", None) or {}
    if model in extra:
        return FAMILIES.get(extra[model], CHAT)
    return CATALOGUE.get(model)


def served(config: Any) -> list[str]:
    """Every model id the simulator serves (GET /v1/models)."""
    return sorted({*CATALOGUE, *(getattr(config, "extra_models", None) or {})})


Refusal = tuple[int, str, "str | None", "str | None"]


def check(body: dict[str, Any], kind: str, config: Any) -> Refusal | None:
    """The real API's refusal of this request for its model (see the module docstring), or None."""
    if not getattr(config, "model_rules", True):
        return None
    model = str(body.get("model"))
    rules = rules_for(model, config)
    if rules is None:
        return 404, f"The model `{model}` does not exist or you do not have access to it.", None, "model_not_found"
    if rules.reasoning:
        refusal = _sampling(body) or _token_limit(body, kind)
    else:
        refusal = None
    return refusal or _effort(body, kind, rules) or _structured(body, kind, rules)


def _sampling(body: dict[str, Any]) -> Refusal | None:
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and value != 1:
            return (400, f"Unsupported value: '{name}' does not support {json.dumps(value)} with this model. "
                         "Only the default (1) value is supported.", name, "unsupported_value")
    return None


def _token_limit(body: dict[str, Any], kind: str) -> Refusal | None:
    if kind == "chat" and body.get("max_tokens") is not None:
        return (400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                     "'max_completion_tokens' instead.", "max_tokens", "unsupported_parameter")
    return None


def requested_effort(body: dict[str, Any], kind: str) -> tuple[str | None, str]:
    """(the reasoning effort asked for or None, the parameter's name as the API names it)."""
    if kind == "chat":
        return body.get("reasoning_effort"), "reasoning_effort"
    reasoning = body.get("reasoning")
    return (reasoning.get("effort") if isinstance(reasoning, dict) else None), "reasoning.effort"


def _effort(body: dict[str, Any], kind: str, rules: ModelRules) -> Refusal | None:
    effort, param = requested_effort(body, kind)
    if effort is None:
        return None
    if not rules.reasoning:
        return (400, f"Unsupported parameter: '{param}' is not supported with this model.", param,
                "unsupported_parameter")
    if effort not in rules.efforts:
        allowed = [f"'{e}'" for e in rules.efforts]
        listed = allowed[0] if len(allowed) == 1 else ", ".join(allowed[:-1]) + f", and {allowed[-1]}"
        return (400, f"Unsupported value: '{param}' does not support {json.dumps(effort)} with this model. "
                     f"Supported values are: {listed}.", param, "unsupported_value")
    return None


def _structured(body: dict[str, Any], kind: str, rules: ModelRules) -> Refusal | None:
    if rules.structured_outputs:
        return None
    fmt = body.get("response_format") if kind == "chat" else (body.get("text") or {}).get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        param = "response_format" if kind == "chat" else "text.format"
        return (400, f"Invalid parameter: '{param}' of type 'json_schema' is not supported with this model.",
                param, None)
    return None


def effort_used(body: dict[str, Any], kind: str, model: str, config: Any) -> str | None:
    """The effort a reasoning model spends on this request (its default: "medium"); None: no reasoning."""
    rules = rules_for(model, config)
    if rules is None or not rules.reasoning:
        return None
    return requested_effort(body, kind)[0] or "medium"
