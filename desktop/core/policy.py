"""The registration policy: which shipments register on their own and which wait for a person.

Money is spent only on evidence. Every Ship24 tracker costs quota, and the text we read is written by
strangers, so a shipment registers by itself only when all of these hold (`decide`):

1. the engine validated the number and knows its courier, and nothing cast doubt on it (only the
   informational flags in `INFORMATIONAL_FLAGS`);
2. the evidence *agrees*: the number is self-evident (a check digit plus letters in fixed places, like
   1Z... or an S10, or 22+ characters), or the courier it was matched to is named or linked in the text
   around it. A bare "Tracking:" label is not enough for a 10-20 digit number: about 10 % of random
   18-digit strings pass the SSCC-18 check digit, so a list of such lines is a list of guesses;
3. its conversation yields at most `MAX_AUTO_PER_CONVERSATION` shipments (see there; checked first, even
   before "approve everything by hand", so a flood of numbers shares one explanation and reaches the
   reviewer as ONE held group, `group_reason`, that a person releases or rejects whole);
4. the caps on automatic registrations per scan and per day (Settings, `Caps`) are not reached.

Everything else is "pending" with a flag from `HOLD_REASONS` that says why, in words for the reviewer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from desktop.core.tracking.context import CARRIER_HOSTS, find_carrier_terms
from desktop.domain import ExtractedShipment

# The hold flags and their words live beside the layers (the store shows them without importing the core);
# they are part of this module's API.
from desktop.hold_reasons import (  # noqa: F401
    GROUP_HOLD,
    HOLD_REASONS,
    MAX_AUTO_PER_CONVERSATION,
    STORED_HOLDS,
    group_reason,
    hold_reason,
)

ReviewState = Literal["auto", "pending"]

#: Flags that describe a shipment without casting doubt on it: a check-digit-free format whose context
#: agreed (the engine validated it), a number the engine found that the LLM did not list, or a conversation
#: whose text was cut to the LLM's token budget (the engine still read all of it). They never make a
#: shipment register by themselves: rule 2 (agreeing evidence) still applies.
INFORMATIONAL_FLAGS = frozenset({"no_check_digit", "llm_missed", "text_truncated"})

#: Numbers at least this long (with a check digit) are rarely hit by chance; shorter all-digit ones are.
SELF_EVIDENT_LENGTH = 22

_HOST_RX = re.compile(r"https?://([^/\s:?#]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Caps:
    """Most automatic registrations per scan run and per 24 hours; 0 = every shipment waits for review."""

    per_scan: int = 100
    per_day: int = 300

    @classmethod
    def from_settings(cls, settings: object) -> Caps:
        """The caps of a `desktop.settings.Settings` (defaults where it has none)."""
        default = cls()
        return cls(per_scan=int(getattr(settings, "auto_register_per_scan", default.per_scan)),
                   per_day=int(getattr(settings, "auto_register_per_day", default.per_day)))


@dataclass(frozen=True, slots=True)
class Usage:
    """What the caps are measured against: automatic registrations already decided."""

    conversation_shipments: int = 1   # shipments the conversation yields in all
    this_scan: int = 0                # "auto" shipments this run already stored
    last_day: int = 0                 # "auto" shipments stored in the last 24 hours


@dataclass(frozen=True, slots=True)
class Decision:
    """The review state and, for "pending", the hold flag (a key of `HOLD_REASONS`)."""

    state: ReviewState
    hold: str | None = None

    @property
    def reason(self) -> str | None:
        return HOLD_REASONS.get(self.hold) if self.hold else None


def decide(shipment: ExtractedShipment, approve_all_by_hand: bool, usage: Usage = Usage(),
           caps: Caps = Caps()) -> Decision:
    """Auto or pending for `shipment`, checking the rules of the module docstring in order."""
    # The conversation's verdict first: it is the one explanation a flood of numbers shares (and what
    # makes its shipments one held group for the reviewer, whatever the other settings say).
    if usage.conversation_shipments > MAX_AUTO_PER_CONVERSATION:
        return Decision("pending", GROUP_HOLD)
    if approve_all_by_hand:
        return Decision("pending", "approve_by_hand")
    hold = _doubt(shipment)
    if hold is None and usage.this_scan >= caps.per_scan:
        hold = "scan_cap"
    if hold is None and usage.last_day >= caps.per_day:
        hold = "day_cap"
    return Decision("pending", hold) if hold else Decision("auto")


def _doubt(shipment: ExtractedShipment) -> str | None:
    if not shipment.validated:
        return "not_validated"
    if not shipment.courier:
        return "no_courier"
    if set(shipment.flags) - INFORMATIONAL_FLAGS - set(HOLD_REASONS):
        return "doubt"
    if not has_agreeing_evidence(shipment):
        return "no_agreeing_context"
    return None


def has_agreeing_evidence(shipment: ExtractedShipment) -> bool:
    """The number speaks for itself, or its evidence names its courier (a carrier word or a link).

    The evidence is the text around the number (the engine's window, or the LLM's quote after the
    extractor checked that it is a real line of the conversation holding the number).
    """
    number = shipment.tracking_number
    checked = "no_check_digit" not in shipment.flags
    if checked and (not number.isdigit() or len(number) >= SELF_EVIDENT_LENGTH):
        return True
    evidence = shipment.evidence or ""
    if any(code == shipment.courier for _, _, code in find_carrier_terms(evidence)):
        return True
    return _links_courier(evidence, shipment.courier or "")


def _links_courier(evidence: str, courier: str) -> bool:
    """A link to the courier's own tracking site in the evidence."""
    host_rx = CARRIER_HOSTS.get(courier)
    if host_rx is None:
        return False
    return any(host_rx.search(host) for host in _HOST_RX.findall(evidence))


def review_state(shipment: ExtractedShipment, approve_all_by_hand: bool) -> ReviewState:
    """"auto" or "pending" for one shipment on its own (no caps, a conversation of one); see `decide`."""
    return decide(shipment, approve_all_by_hand).state


def judge(approve_all_by_hand: bool = False, caps: Caps = Caps()) -> Callable[[ExtractedShipment, Any],
                                                                            tuple[str, tuple[str, ...]]]:
    """The policy as the store's commit asks for it (`desktop.store.scans.commit_conversation(judge=...)`).

    The store calls the returned function once per new shipment, inside the commit's IMMEDIATE transaction,
    with its counts of automatic registrations (`scans.AutoCounts`: conversation_shipments, this_scan,
    last_day; the store adds this conversation's own "auto" ones as they are decided), so two scans at once
    cannot both take the last automatic registration of the day. It returns (review state, flags to store):
    "auto" with the shipment's flags, or "pending" with the stored hold flag added (`STORED_HOLDS`).
    """
    def decide_one(shipment: ExtractedShipment, counts: Any) -> tuple[str, tuple[str, ...]]:
        usage = Usage(counts.conversation_shipments, counts.this_scan, counts.last_day)
        decision = decide(shipment, approve_all_by_hand, usage, caps)
        if decision.state == "auto":
            return "auto", tuple(shipment.flags)
        stored = decision.hold in STORED_HOLDS and decision.hold not in shipment.flags
        return "pending", (*shipment.flags, *((decision.hold,) if stored else ()))
    return decide_one
