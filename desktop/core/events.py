"""Typed events the pipeline and the registration worker emit through one sink.

A sink is any `Callable[[Event], None]`. The core never touches a widget: the GUI's bridge turns these
into Qt signals, the command line turns them into a progress bar or a JSON summary, tests record them.
Sinks must be quick and must not raise; they run on the event loop.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


class RunState(enum.Enum):
    """Lifecycle of a scan run (also stored on the run's row)."""

    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    #: The process died while the run was running; the next scan of the same range continues it.
    INTERRUPTED = "interrupted"


class BatchState(enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class RunStarted:
    run_id: int
    since: float
    until: float
    inboxes: tuple[str, ...]
    batch_size: int
    concurrent_batches: int
    extractor: str
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class ListingProgress:
    """The search has listed `listed` conversations so far; `total` is Front's `_total` (may be None)."""

    listed: int
    total: int | None
    complete: bool


@dataclass(frozen=True, slots=True)
class BatchStarted:
    batch: int
    size: int


@dataclass(frozen=True, slots=True)
class BatchFinished:
    batch: int
    size: int
    done: int
    shipments: int
    failures: int
    unchanged: int
    seconds: float
    state: BatchState = BatchState.DONE


@dataclass(frozen=True, slots=True)
class ConversationStarted:
    conversation_id: str
    batch: int


@dataclass(frozen=True, slots=True)
class ConversationFinished:
    """`state` is "ok", "no_shipments", "failed", "unchanged" or "claimed_elsewhere" (another live scan
    holds it: issue 16); `error` is set when failed."""

    conversation_id: str
    batch: int
    state: str
    shipments: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ShipmentFound:
    shipment_id: int
    conversation_id: str
    tracking_number: str
    courier: str | None
    new: bool


@dataclass(frozen=True, slots=True)
class Progress:
    """Overall counts of the run so far (emitted after each conversation)."""

    listed: int
    done: int
    scanned: int
    unchanged: int
    failed: int
    shipments: int
    listing_complete: bool
    elapsed: float
    #: Predicted seconds until the scan is over (desktop.core.eta), None while unknown.
    eta_seconds: float | None = None
    #: Conversations left to another scan running now (it holds their claim and commits them; issue 16).
    elsewhere: int = 0


@dataclass(frozen=True, slots=True)
class RateLimitWait:
    """A client is holding back for a service's budget: `service` is "front", "openai" or "ship24"."""

    service: str
    seconds: float
    reason: str


@dataclass(frozen=True, slots=True)
class ErrorReported:
    """An expected failure worth showing (the item it concerns is recorded as failed, not lost)."""

    where: str
    message: str


@dataclass(frozen=True, slots=True)
class RunFinished:
    run_id: int
    state: RunState
    summary: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RegistrationChanged:
    """A shipment's registration moved to `state` (see store outbox states); `message` says why."""

    shipment_id: int
    state: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class RegistrationPaused:
    """All registration is paused (e.g. Ship24 quota exhausted) until the user resumes it."""

    reason: str


@dataclass(frozen=True, slots=True)
class StatusRefreshed:
    checked: int
    changed: int


Event = (RunStarted | ListingProgress | BatchStarted | BatchFinished | ConversationStarted
         | ConversationFinished | ShipmentFound | Progress | RateLimitWait | ErrorReported | RunFinished
         | RegistrationChanged | RegistrationPaused | StatusRefreshed)

Sink = Callable[[Event], None]


def null_sink(event: Event) -> None:
    """A sink that drops everything."""
