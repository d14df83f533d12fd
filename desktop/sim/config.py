"""One configuration for the three simulators: every behaviour a client must survive is a switch here.

`SimConfig()` gives realistic defaults: no injected transport faults, but rate limits ON at the real services'
values (Front 50 req/min per company, search 40% of it, 5 req/s per conversation; Ship24 10/s per endpoint,
bulk 3/s, couriers 1/s; OpenAI 500 RPM / 200k TPM), modest latencies, OpenAI's per-model parameter rules, and
an OpenAI "model" that errs as a small real model does (misses, misreads, decoys, wrong carriers, invented
numbers, broken JSON: `OpenAISimConfig`). `SimConfig.for_tests()` is the same without latency and without
the model's mistakes. `SimConfig.from_file(path)` reads JSON with the same nesting as the dataclasses, e.g.::

    {"front": {"rate_limit_per_minute": 100, "faults": {"error_5xx_rate": 0.05}},
     "openai": {"latency": {"median_ms": 0}, "refusal_rate": 0.1}}

Unknown keys raise ValueError (a typo in a test config must not silently do nothing). The live config
objects are read on every request, so tests may mutate them while the servers run.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The keys the simulators accept (and that `--demo` uses).
DEMO_KEYS: dict[str, str] = {"front": "demo-front-token", "openai": "sk-demo-key", "ship24": "apik_demo_key"}


@dataclass
class LatencyConfig:
    """Per-request delay: log-normal around `median_ms`; with `tail_probability` it is `tail_multiplier` x."""

    median_ms: float = 0.0
    spread: float = 0.35  # sigma of the log-normal; 0 = always exactly the median
    tail_probability: float = 0.02
    tail_multiplier: float = 8.0


@dataclass
class FaultConfig:
    """Transport-level faults, each a probability per request (0 = off).

    - error_5xx_rate: answer a 500/502/503 in the service's own error shape.
    - timeout_rate: hold the request `timeout_hold_seconds` (longer than clients wait), then drop it unanswered.
    - reset_rate: close the socket without answering (the client sees a connection reset / disconnect).
    """

    error_5xx_rate: float = 0.0
    timeout_rate: float = 0.0
    reset_rate: float = 0.0
    timeout_hold_seconds: float = 90.0


@dataclass
class FrontSimConfig:
    """Front Core API double (api-notes §3.1)."""

    token: str = DEMO_KEYS["front"]
    #: Scopes `token` carries; None = every scope (the demo token). Each route demands its spec's
    #: `x-required-scopes` and answers 403 without them (`desktop.sim.front_scopes`).
    token_scopes: list[str] | None = None
    #: More tokens the double accepts, each with its scopes, e.g. {"scan-token": ["conversations:read",
    #: "messages:read"]}: a token made for scanning, without `inboxes:read`.
    extra_tokens: dict[str, list[str]] = field(default_factory=dict)
    #: A query parameter the spec does not list for the route answers 400. Whether Front rejects or ignores
    #: them is undocumented (api-notes says nothing): strict by default, so a client typo cannot hide.
    reject_unknown_params: bool = True
    latency: LatencyConfig = field(default_factory=lambda: LatencyConfig(median_ms=60.0))
    faults: FaultConfig = field(default_factory=FaultConfig)
    rate_limits: bool = True  # master switch for all three limits below
    rate_limit_per_minute: int = 50  # company budget: 50 Starter, 100 Growth, 200 Scale
    window_seconds: float = 60.0  # the budget window; tests scale it down (e.g. 3 s)
    search_share: float = 0.4  # search is held to 40% of the company limit (own counter, same window)
    per_conversation_per_second: int = 5  # tier-2 burst limit per conversation id (0 = off)
    retry_after_mode: str = "seconds"  # "seconds" (integer), "zero" (always 0), "fractional" (e.g. 0.37)
    inclusive_bounds: bool = False  # after:/before: compare with >=/<= instead of >/<
    limit_over_max: str = "clamp"  # limit > 100: "clamp" to 100 or "error" (400)
    default_limit: int = 50
    drift: bool = False  # page tokens are offsets and each later page shifts back one item (duplicates)
    next_host: str = "same"  # "same" host as requested, or "company" (http://localhost:PORT form)
    pagination_fault: str = "none"  # "none", "repeat_next" (last page links to itself), "empty_tail"
    include_updated_at: bool = True  # `updated_at` on conversations is new in the spec (Nov 2025)
    #: Seconds Front's clock is ahead of this machine's (negative: behind). Windows, x-ratelimit-reset and
    #: the `Date` header all follow it: a client that trusts its own clock waits minutes or sends into 429s.
    clock_offset_seconds: float = 0.0


@dataclass
class OpenAISimConfig:
    """OpenAI Chat Completions + Responses double (stack-notes §1.5)."""

    api_key: str = DEMO_KEYS["openai"]
    latency: LatencyConfig = field(default_factory=lambda: LatencyConfig(median_ms=400.0))
    #: `GET /v1/models` answers without a model's work: about a Front-like answer time, not `latency`.
    models_latency: LatencyConfig = field(default_factory=lambda: LatencyConfig(median_ms=80.0))
    faults: FaultConfig = field(default_factory=FaultConfig)
    rate_limits: bool = True
    requests_per_minute: int = 500
    tokens_per_minute: int = 200_000
    window_seconds: float = 60.0
    #: "bucket": OpenAI's documented model, a budget that refills continuously (a full minute's worth at
    #: most; x-ratelimit-reset-* is the time until it is full again). "window": fixed windows that reset
    #: to zero at each boundary (kinder to bursts at a boundary, harsher just after one).
    limiter: str = "bucket"
    chars_per_token: float = 4.0
    # The model's own errors (openai_reader): by default it errs as a small real model does, not as an
    # oracle. Each is a probability: per number read (missed, misread, wrong carrier) or per call.
    missed_number_rate: float = 0.06       # a number in the text is left out of the answer
    misread_digit_rate: float = 0.02       # one digit of a number misread (its check digit then fails)
    wrong_carrier_rate: float = 0.04       # another carrier named for a number
    decoy_number_rate: float = 0.05        # an order, invoice, PO or phone number offered as tracking number
    invented_number_rate: float = 0.02     # a plausible number that is nowhere in the text
    malformed_json_rate: float = 0.02      # the JSON answer is broken off
    refusal_rate: float = 0.0
    cutoff_rate: float = 0.0
    reject_non_strict_schema: bool = True  # strict schemas must close every object (400 like the real API)
    #: Per model family parameter rules (openai_models): unknown models 404, reasoning models refuse a
    #: non-default temperature and max_tokens. False: any model, any parameter (a lenient compatible server).
    model_rules: bool = True
    #: Model ids served besides OpenAI's catalogue, each with a family's rules: {"my-model": "chat"} or
    #: {"my-model": "reasoning"}.
    extra_models: dict[str, str] = field(default_factory=dict)
    #: Reasoning tokens a reasoning model spends per call at each effort (around this, more for long
    #: inputs); they count against max_completion_tokens / max_output_tokens like the real ones do.
    reasoning_tokens: dict[str, int] = field(default_factory=lambda: {
        "none": 0, "minimal": 0, "low": 300, "medium": 1200, "high": 4000, "xhigh": 8000})

    #: The model's error switches, all zero in `SimConfig.for_tests()`.
    MODEL_ERRORS = ("missed_number_rate", "misread_digit_rate", "wrong_carrier_rate", "decoy_number_rate",
                    "invented_number_rate", "malformed_json_rate")


@dataclass
class Ship24MovementConfig:
    """How trackers move through statuses over time (`desktop.sim.ship24_progress`).

    With `enabled`, each new tracker draws its journey from these rates with the simulator's seed and its
    tracking number (the same seed and number give the same journey, whatever the order of creation):
    info received -> in transit -> out for delivery -> delivered, or an exception, a failed delivery
    attempt, a parcel waiting at a pickup point, or a stall (no more events after the label was created,
    or after a sort facility scan: the parcels an agent must chase). Whatever is not drawn is delivered.
    One event appears per `timeline_step_seconds / time_scale` after creation (the demo: a scale of 360,
    so a 6-hour step takes a minute). Off (default): the older per-number journeys, at time scale 1.
    """

    enabled: bool = False
    time_scale: float = 1.0                 # simulated seconds per real second (1 = real time)
    exception_rate: float = 0.08            # ends in an exception after pickup
    failed_attempt_rate: float = 0.06       # out for delivery, then a failed attempt (no further events)
    pickup_point_rate: float = 0.05         # ends waiting at a pickup point
    stall_after_label_rate: float = 0.05    # label created, never picked up: no event after the first
    stall_in_transit_rate: float = 0.06     # stops after arriving at a sort facility


@dataclass
class Ship24SimConfig:
    """Ship24 Tracking API double (api-notes §3.2).

    `required_fields_mode` decides what a create does when a courier named in `courierCode` has
    requiredFields (GET /couriers; here `postcode_required_couriers` / `country_required_couriers`) that the
    payload lacks:

    - "accept" (default, the documented behaviour): the tracker is created and uses quota, but its results
      stay `pending` with no events for ever. Source: docs.ship24.com/couriers -- "Our system won't block
      your API request if this information is not provided, but as a result, it may not be able to
      successfully retrieve tracking results for those specific couriers."
    - "reject": 400 validation_error naming the missing field (what other servers, or a future API version,
      may do; kept so the client's handling of that 400 stays tested).

    `state_file` (None = trackers live in memory only): a JSON file the trackers, their creation times, the
    quota used and clientTrackerId ownership are loaded from at start (if it exists; a corrupt one is logged
    and replaced) and saved to, atomically, after every change. The real Ship24 keeps trackers for ever;
    the demo keeps its database across runs, so its simulator keeps its trackers beside it.
    """

    api_key: str = DEMO_KEYS["ship24"]
    latency: LatencyConfig = field(default_factory=lambda: LatencyConfig(median_ms=80.0))
    faults: FaultConfig = field(default_factory=FaultConfig)
    rate_limits: bool = True
    per_second_default: int = 10  # every endpoint not listed below
    per_second_bulk: int = 3
    per_second_couriers: int = 1
    per_second_resend: int = 1
    window_seconds: float = 1.0
    quota: int | None = 1000  # trackers per billing period (Pro plan); None = unlimited
    quota_status: int = 403  # 403 (documented) or 405 (the SDK mentions it)
    recreate_status: int = 201  # status of an idempotent re-create: 201 (SDK-accepted) or 200
    track_status: int = 201  # POST /trackers/track: live API 201, spec 200
    track_first_call_seconds: float = 0.0  # /trackers/track on a NEW tracker waits this long (live: up to 60 s)
    race_hold_seconds: float = 0.0  # hold each create this long so identical parallel ones get 409
    per_call_plan: bool = False  # POST /tracking/search: False -> 422 no_active_subscription
    max_shipping_age_days: int = 180
    timeline_step_seconds: float = 6 * 3600.0  # non-sample numbers: one new event per step after creation
    postcode_required_couriers: tuple[str, ...] = ("dpd", "yodel")
    country_required_couriers: tuple[str, ...] = ("landmark-global", "fr-post")  # fr-post: the spec's example
    required_fields_mode: str = "accept"  # "accept" (documented: created, never any results) or "reject" (400)
    state_file: str | None = None  # JSON file keeping trackers and quota used across restarts (None = memory)
    clock_offset_seconds: float = 0.0  # Ship24's clock minus this machine's (X-RateLimit-Reset, Date)
    #: UTC offsets (hours) of events' local occurrenceDatetime, sent without an offset as Ship24 does:
    #: (origin: label and pickup scans, destination: the rest). (0, 0) = every event in UTC.
    event_zones_hours: tuple[float, float] = (8.0, -5.0)
    #: Trackers moving through statuses with seeded rates, exceptions and stalls, on a time scale.
    movement: Ship24MovementConfig = field(default_factory=Ship24MovementConfig)


@dataclass
class SimConfig:
    """Configuration of all three simulators."""

    front: FrontSimConfig = field(default_factory=FrontSimConfig)
    openai: OpenAISimConfig = field(default_factory=OpenAISimConfig)
    ship24: Ship24SimConfig = field(default_factory=Ship24SimConfig)
    seed: int = 7  # seeds latency/fault/answer randomness (not the workspace)

    @classmethod
    def for_tests(cls) -> SimConfig:
        """Realistic limits, no faults, no latency: fast and deterministic. The OpenAI model makes no
        mistakes (tests that measure extraction set the error rates they want) and serves "gpt-test" too,
        with a non-reasoning model's rules."""
        cfg = cls()
        for service in (cfg.front, cfg.openai, cfg.ship24):
            service.latency.median_ms = 0.0
            service.latency.tail_probability = 0.0
        for name in OpenAISimConfig.MODEL_ERRORS:
            setattr(cfg.openai, name, 0.0)
        cfg.openai.extra_models["gpt-test"] = "chat"
        return cfg

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimConfig:
        """Build from a nested dict; missing keys keep their defaults, unknown keys raise ValueError."""
        return _fill(cls(), data, "config")

    @classmethod
    def from_file(cls, path: str | Path) -> SimConfig:
        """Read a JSON file with the same nesting as the dataclasses."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _fill(target: Any, data: dict[str, Any], where: str) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    names = {f.name for f in dataclasses.fields(target)}
    for key, value in data.items():
        if key not in names:
            raise ValueError(f"{where}: unknown key {key!r}")
        current = getattr(target, key)
        if dataclasses.is_dataclass(current):
            _fill(current, value, f"{where}.{key}")
        elif isinstance(current, tuple):
            setattr(target, key, tuple(value))
        else:
            setattr(target, key, value)
    return target
