"""The registration policy: which shipments register on their own and which wait for a person."""

from __future__ import annotations

from typing import Literal

from desktop.domain import ExtractedShipment

ReviewState = Literal["auto", "pending"]


#: Flags that describe a shipment without casting doubt on it: a check-digit-free format whose context
#: agreed (the engine validated it), a number the engine found that the LLM did not list, or a conversation
#: whose text was cut to the LLM's token budget (the engine still read all of it).
INFORMATIONAL_FLAGS = frozenset({"no_check_digit", "llm_missed", "text_truncated"})


def review_state(shipment: ExtractedShipment, approve_all_by_hand: bool) -> ReviewState:
    """"auto" when the engine validated the number on its own (a check digit, or a format without one
    whose context agrees), knows the courier and raised no doubt (only informational flags); otherwise
    "pending": a person decides. Also "pending" for everything when the user approves all by hand.

    Registering a wrong number costs a Ship24 tracker from the quota, so anything doubtful waits.
    """
    if approve_all_by_hand:
        return "pending"
    doubts = set(shipment.flags) - INFORMATIONAL_FLAGS
    if shipment.validated and shipment.courier and not doubts:
        return "auto"
    return "pending"
