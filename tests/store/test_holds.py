"""desktop.store.holds on a real SQLite file: a conversation with too many numbers is one held group."""

from __future__ import annotations

from desktop.core import policy
from desktop.store import holds, outbox, review
from desktop.store.tables import ShipmentRow
from tests.helpers.hostile import commit_hostile_conversation
from tests.helpers.registration import add_shipment, numbers


def test_one_group_per_conversation_with_its_members_and_reason(db):
    yielded = commit_hostile_conversation()
    add_shipment(numbers(1)[0], review_state="pending", conversation_id="cnv_order")   # held, not a flood
    (group,) = holds.held_groups()
    assert (group.conversation_id, group.count, len(group.shipment_ids)) == ("cnv_hostile", yielded, yielded)
    assert group.reason.startswith(f'conversation cnv_hostile ("Shipment list"): {yielded:,} candidate numbers '
                                   f"held, more than a plausible order (limit {policy.MAX_AUTO_PER_CONVERSATION})")
    assert holds.held_shipment_ids() == set(group.shipment_ids)
    shown = holds.evidence("cnv_hostile", limit=5)
    assert len(shown) == 5 and all(n.number in n.evidence for n in shown)


def test_hand_approval_still_groups_a_flood(db):
    """With "approve every shipment by hand" the flood was hundreds of separate approvals."""
    yielded = commit_hostile_conversation(approve_all_by_hand=True)
    assert [g.count for g in holds.held_groups()] == [yielded]


def test_a_member_decided_on_its_own_leaves_the_group(db):
    commit_hostile_conversation()
    first, second, *rest = holds.group("cnv_hostile").shipment_ids
    review.reject([first])
    review.approve([second])
    assert holds.group("cnv_hostile").shipment_ids == tuple(rest)


def test_release_changes_only_the_members_the_person_saw(db):
    commit_hostile_conversation()
    seen = holds.group("cnv_hostile").shipment_ids[:-3]
    outsider = add_shipment(numbers(1)[0], review_state="pending")
    assert holds.release("cnv_hostile", [*seen, outsider]) == sorted(seen)
    assert {ShipmentRow.get_by_id(s).review_state for s in seen} == {"approved"}
    assert {outbox.registration_for(s).state for s in seen} == {outbox.QUEUED}
    assert outbox.registration_for(outsider).state == outbox.WAITING_APPROVAL
    assert holds.group("cnv_hostile").count == 3
    assert holds.reject("cnv_hostile", seen) == []        # released: no longer held
