"""Why a shipment waits for a person: the hold flags the registration policy stores, and their words.

Data and wording only, shared by the layers: `desktop.core.policy` decides which hold applies (and
re-exports these names), `desktop.store` shows the stored flags' reasons in the queue and groups held
conversations, without importing the core (issue 16: the core decides, the store stores what it is told).
"""

from __future__ import annotations

#: A plausible order ships in a handful of parcels; a split shipment of a big order might reach ten.
#: A conversation yielding more is a manifest, a forwarded report or a hostile email, and one person
#: should look at it before any of it is billed.
MAX_AUTO_PER_CONVERSATION = 10

#: Flags the policy adds to a held shipment, and what the reviewer is told.
HOLD_REASONS = {
    "approve_by_hand": "Settings say every shipment is approved by hand.",
    "not_validated": "The number did not pass the tracking-number checks on its own.",
    "no_courier": "The carrier is unknown.",
    "doubt": "Something about it is doubtful (see its flags).",
    "no_agreeing_context": "Nothing near the number names its carrier; a bare number with a "
                           "\"tracking\" label can be a chance match.",
    "too_many_numbers": f"Its conversation lists more numbers than one order plausibly has (over "
                        f"{MAX_AUTO_PER_CONVERSATION}): a list, a report or a hostile email.",
    "scan_cap": "This scan reached its cap of automatic registrations (Settings).",
    "day_cap": "The cap of automatic registrations for the last 24 hours was reached (Settings).",
}

#: The hold flag that makes a conversation's held shipments ONE review item (a held group).
GROUP_HOLD = "too_many_numbers"

#: Hold flags stored on the shipment: the others (not validated, no courier, ...) show in its own fields.
STORED_HOLDS = frozenset({"no_agreeing_context", "too_many_numbers", "scan_cap", "day_cap"})


def group_reason(conversation: str, count: int) -> str:
    """The one line a held group shows, e.g. "conversation cnv_1 ("Shipment list"): 266 candidate numbers
    held, more than a plausible order (limit 10)." `conversation` names it (id, and subject if known)."""
    numbers = "candidate number" if count == 1 else "candidate numbers"
    return (f"conversation {conversation}: {count:,} {numbers} held, more than a plausible order (limit "
            f"{MAX_AUTO_PER_CONVERSATION}). A list, a report or a hostile email: nothing of it registers until "
            "someone looks at its evidence and releases the group.")


def hold_reason(flags: object) -> str | None:
    """The reviewer's explanation for the first hold flag in `flags`, if any."""
    for flag in flags if isinstance(flags, (list, tuple)) else ():
        if flag in HOLD_REASONS:
            return HOLD_REASONS[flag]
    return None
