"""The registration policy: what registers by itself, what waits for a person, and why (issue 13, item 1)."""

from __future__ import annotations

from desktop.core import policy
from desktop.core.policy import Caps, Usage, decide, review_state
from desktop.domain import ExtractedShipment

UPS = "1Z999AA10123456784"      # letters in fixed places and a check digit: speaks for itself
SSCC = "001234560000000018"     # 18 digits passing a check digit: one in ten random strings does


def _ship(validated=True, courier="ups", flags=(), number=UPS, evidence="") -> ExtractedShipment:
    return ExtractedShipment(number, courier, "UPS", courier, 0.9, evidence, validated, tuple(flags))


def test_validated_unflagged_shipments_register_by_themselves():
    assert review_state(_ship(), approve_all_by_hand=False) == "auto"


def test_anything_doubtful_waits_for_a_person():
    assert review_state(_ship(validated=False), False) == "pending"
    assert review_state(_ship(flags=["carrier_disagrees"]), False) == "pending"
    assert review_state(_ship(courier=None), False) == "pending"


def test_approve_all_by_hand_holds_everything():
    assert review_state(_ship(), approve_all_by_hand=True) == "pending"


def test_agreed_context_registers_by_itself():
    """A check-digit-free format registers by itself only when the text beside it names its carrier."""
    named = "Your UPS tracking number is 1Z999AA10123456784"
    assert review_state(_ship(flags=["no_check_digit"], evidence=named), False) == "auto"
    assert review_state(_ship(flags=["no_check_digit", "llm_missed"], evidence=named), False) == "auto"
    assert review_state(_ship(flags=["no_check_digit", "ambiguous_format"], evidence=named), False) == "pending"
    assert review_state(_ship(validated=False, flags=["no_check_digit"], evidence=named), False) == "pending"
    assert decide(_ship(flags=["no_check_digit"], evidence="Tracking: 1Z999AA10123456784"), False).hold \
        == "no_agreeing_context"


def test_a_bare_digit_number_with_a_tracking_label_waits():
    """Probe: `Tracking: <18 random digits>` passed as FedEx SSCC-18 with only informational flags."""
    hostile = _ship(courier="fedex", number=SSCC, flags=("llm_missed", "text_truncated"),
                    evidence=f"Tracking: {SSCC}")
    decision = decide(hostile, False)
    assert (decision.state, decision.hold) == ("pending", "no_agreeing_context")
    assert "names its carrier" in decision.reason
    named = _ship(courier="fedex", number=SSCC, evidence=f"FedEx tracking: {SSCC}")
    assert decide(named, False).state == "auto"
    linked = _ship(courier="fedex", number=SSCC, evidence=f"https://www.fedex.com/fedextrack/?trknbr={SSCC}")
    assert decide(linked, False).state == "auto"
    elsewhere = _ship(courier="fedex", number=SSCC, evidence=f"https://example.com/?t={SSCC} UPS")
    assert decide(elsewhere, False).state == "pending"


def test_a_conversation_with_too_many_numbers_waits_whole():
    """Probe: one conversation yielding 266 numbers; an order has a handful."""
    limit = policy.MAX_AUTO_PER_CONVERSATION
    assert decide(_ship(), False, Usage(conversation_shipments=limit)).state == "auto"
    decision = decide(_ship(), False, Usage(conversation_shipments=limit + 1))
    assert (decision.state, decision.hold) == ("pending", "too_many_numbers")
    assert str(limit) in decision.reason


def test_caps_per_scan_and_per_day():
    caps = Caps(per_scan=2, per_day=5)
    assert decide(_ship(), False, Usage(this_scan=1, last_day=4), caps).state == "auto"
    assert decide(_ship(), False, Usage(this_scan=2, last_day=0), caps).hold == "scan_cap"
    assert decide(_ship(), False, Usage(this_scan=0, last_day=5), caps).hold == "day_cap"
    assert decide(_ship(), False, Usage(), Caps(per_scan=0)).hold == "scan_cap"


def test_caps_come_from_settings():
    from desktop.settings import Settings

    caps = Caps.from_settings(Settings(auto_register_per_scan=7, auto_register_per_day=9))
    assert caps == Caps(per_scan=7, per_day=9)
    assert policy.hold_reason(["llm_missed", "day_cap"]) == policy.HOLD_REASONS["day_cap"]
    assert policy.hold_reason(["llm_missed"]) is None


def test_a_flood_is_held_as_a_group_even_when_everything_is_approved_by_hand():
    """The conversation's verdict comes first, so a flood is ONE held group whatever the settings say."""
    usage = Usage(conversation_shipments=policy.MAX_AUTO_PER_CONVERSATION + 1)
    assert decide(_ship(), True, usage).hold == policy.GROUP_HOLD
    assert decide(_ship(), True).hold == "approve_by_hand"
    assert "266 candidate numbers held" in policy.group_reason("cnv_1", 266)


def test_the_judge_the_store_is_given_decides_and_names_the_stored_hold():
    """Issue 16: the store no longer imports the policy; the pipeline hands it `policy.judge(...)`."""
    from desktop.store.scans import AutoCounts

    judge = policy.judge(caps=Caps(per_scan=5, per_day=10))
    assert judge(_ship(flags=["llm_missed"]), AutoCounts(1, 0, 0)) == ("auto", ("llm_missed",))
    assert judge(_ship(), AutoCounts(1, 5, 5)) == ("pending", ("scan_cap",))
    assert judge(_ship(), AutoCounts(policy.MAX_AUTO_PER_CONVERSATION + 1, 0, 0)) == ("pending", (policy.GROUP_HOLD,))
    assert judge(_ship(validated=False), AutoCounts(1, 0, 0)) == ("pending", ())     # shown by its own fields
    assert policy.judge(True)(_ship(), AutoCounts(1, 0, 0)) == ("pending", ())
