"""Domain objects shared by the clients, the core, the store and the GUI (frozen dataclasses, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Inbox:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """A conversation as the Front search lists it (no messages)."""

    id: str
    subject: str
    status: str
    inbox_ids: tuple[str, ...]
    #: Id of the newest message, from `_links.related.last_message` (None when Front gives no link).
    last_message_id: str | None
    #: Epoch seconds of the last activity (Front's `updated_at`, else `created_at`).
    last_activity_at: float
    customer: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation, as Front returns it."""

    id: str
    conversation_id: str
    created_at: float
    is_inbound: bool
    #: "Name <handle>" of the sender (`recipients` role "from"), or the author's name.
    sender: str
    subject: str
    body_html: str
    text: str | None
    blurb: str = ""


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation with all of its messages, oldest first."""

    ref: ConversationRef
    messages: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class ExtractedShipment:
    """A shipment found in a conversation and checked by the tracking-number engine.

    `tracking_number` is normalised (upper-case A-Z0-9). `courier` is the engine's courier code
    ("ups", "usps", "fedex", "dhl", ...); `courier_code` is Ship24's (None when unknown). `validated`
    means the engine accepted it on its own (a check digit, or a check-digit-free format whose context
    agrees), so the registration policy may register it without a person. `flags` say why a person
    should look (e.g. "carrier_disagrees", "ambiguous_format", "no_check_digit").
    """

    tracking_number: str
    courier: str | None
    carrier: str | None
    courier_code: str | None
    confidence: float
    evidence: str
    validated: bool
    flags: tuple[str, ...] = ()
    message_id: str | None = None
    order_number: str | None = None
    supplier: str | None = None
    shipped_date: str | None = None
    destination_country: str | None = None
    destination_postcode: str | None = None


@dataclass(frozen=True, slots=True)
class ExtractionResult:
    """What an extractor returns for one conversation. A failure raises instead (never an empty result)."""

    shipments: tuple[ExtractedShipment, ...]
    extractor: str
    llm_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    #: Numbers the LLM proposed that are not in the source text or fail validation (dropped).
    invented: int = 0
    #: The text sent to the LLM was cut to the token budget.
    truncated: bool = False
    #: The pre-filter found no plausible candidate, so the LLM was not called.
    skipped_llm: bool = False
    notes: tuple[str, ...] = field(default=())
