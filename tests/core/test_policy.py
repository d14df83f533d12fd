from __future__ import annotations

from desktop.core.policy import review_state
from desktop.domain import ExtractedShipment


def _ship(validated=True, courier="ups", flags=()) -> ExtractedShipment:
    return ExtractedShipment("1Z999AA10123456784", courier, "UPS", courier, 0.9, "", validated, tuple(flags))


def test_validated_unflagged_shipments_register_by_themselves():
    assert review_state(_ship(), approve_all_by_hand=False) == "auto"


def test_anything_doubtful_waits_for_a_person():
    assert review_state(_ship(validated=False), False) == "pending"
    assert review_state(_ship(flags=["carrier_disagrees"]), False) == "pending"
    assert review_state(_ship(courier=None), False) == "pending"


def test_approve_all_by_hand_holds_everything():
    assert review_state(_ship(), approve_all_by_hand=True) == "pending"


def test_agreed_context_registers_by_itself():
    """A check-digit-free format the engine validated from its context is not a doubt (issue 5, item 3)."""
    assert review_state(_ship(flags=["no_check_digit"]), False) == "auto"
    assert review_state(_ship(flags=["no_check_digit", "llm_missed"]), False) == "auto"
    assert review_state(_ship(flags=["no_check_digit", "ambiguous_format"]), False) == "pending"
    assert review_state(_ship(validated=False, flags=["no_check_digit"]), False) == "pending"
