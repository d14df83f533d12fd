"""Review actions: approve/reject/edit/set destination on one or many shipments, and their outbox effects."""

from __future__ import annotations

from desktop.store import outbox, review
from desktop.store.tables import RegistrationRow, ShipmentRow
from tests.helpers.registration import add_shipment, numbers


def state(sid: int) -> str:
    return outbox.registration_for(sid).state


def mark(sid: int, **fields) -> None:
    RegistrationRow.update(**fields).where(RegistrationRow.shipment == sid).execute()


def test_approve_many_queues_them(db):
    a, b = (add_shipment(n, review_state="pending") for n in numbers(2))
    results = review.approve([a, b, 999])
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].message == "No shipment 999."
    assert state(a) == state(b) == "queued"
    assert ShipmentRow.get_by_id(a).review_state == "approved"


def test_reject_dismisses_and_approve_undoes_it(db):
    sid = add_shipment(numbers(1)[0])
    assert review.reject([sid])[0].state == "dismissed"
    assert ShipmentRow.get_by_id(sid).review_state == "rejected"
    assert outbox.claim_due(2e9) == []
    assert review.approve([sid])[0].state == "queued"


def test_registered_shipments_cannot_be_edited_and_reject_only_hides_them(db):
    sid = add_shipment(numbers(1)[0])
    mark(sid, state="registered", tracker_id="trk")
    before = outbox.registration_for(sid).payload
    shipment = ShipmentRow.get_by_id(sid)
    assert review.edit_refusal(shipment.tracking_number, shipment.courier) == review.REFUSED_REGISTERED
    result = review.edit(sid, tracking_number="1ZNEWNUMBER123")
    assert not result.ok and "Already registered" in result.message
    assert not review.set_destination([sid], postcode="SW1A 1AA")[0].ok
    assert outbox.registration_for(sid).payload == before
    approved = review.approve([sid])[0]
    assert approved.message == "Already registered." and not approved.changed
    # Issue 11 item 9: Reject marks a registered false positive rejected here; Ship24 keeps its tracker.
    rejected = review.reject([sid])[0]
    assert rejected.ok and rejected.changed and "stays registered with Ship24" in rejected.message
    assert ShipmentRow.get_by_id(sid).review_state == "rejected"
    assert outbox.registration_for(sid).state == "registered"
    assert not review.reject([sid])[0].changed


def test_edit_refreezes_payload_and_requeues_a_failed_shipment(db):
    sid = add_shipment("SS11111111X")
    old_id = outbox.registration_for(sid).client_tracker_id
    mark(sid, state="failed", kind="permanent", attempts=1, last_error="Ship24 rejected the number")
    result = review.edit(sid, tracking_number="1Z999AA10123456784", courier="ups", order_number="A-7",
                         validated=True)
    assert result.ok and result.state == "queued"
    reg = outbox.registration_for(sid)
    payload = review.payload_of(sid)
    assert payload["trackingNumber"] == "1Z999AA10123456784" and payload["orderNumber"] == "A-7"
    assert reg.client_tracker_id == payload["clientTrackerId"] != old_id
    assert reg.attempts == 0 and reg.kind is None
    assert review.edit(sid, order_number="")  # "" clears
    assert "orderNumber" not in review.payload_of(sid)


def test_edit_of_a_waiting_shipment_keeps_it_waiting(db):
    sid = add_shipment(numbers(1)[0], review_state="pending")
    assert review.edit(sid, carrier="DHL Express", courier="dhl", courier_code="dhl").state == "waiting_approval"
    assert review.payload_of(sid)["courierCode"] == ["dhl"]


def test_edit_refuses_a_duplicate_or_malformed_number(db):
    a, b = numbers(2)
    sid_a, sid_b = add_shipment(a), add_shipment(b)
    clash = review.edit(sid_b, tracking_number=a)
    assert not clash.ok and f"Shipment {sid_a}" in clash.message
    assert not review.edit(sid_b, tracking_number="ab-1").ok
    assert ShipmentRow.get_by_id(sid_b).tracking_number == b


def test_set_destination_answers_needs_info(db):
    ids = [add_shipment(n, courier="dpd", courier_code="dpd") for n in numbers(2)]
    for sid in ids:
        mark(sid, state="failed", kind="needs_info", last_error="needs postcode")
    results = review.set_destination(ids, postcode=" sw1a  1aa ", country="gb")
    assert all(r.ok and r.state == "queued" for r in results)
    payload = review.payload_of(ids[0])
    assert payload["destinationPostCode"] == "SW1A 1AA" and payload["destinationCountryCode"] == "GB"
    assert not review.set_destination(ids, country="Great Britain")[0].ok
    assert not review.set_destination(ids, postcode="9" * 40)[0].ok


def test_an_edit_to_an_invalid_number_needs_review_again(db):
    """Issue 11 item 3: "it will wait for review" is true: pending, waiting for approval, until approved."""
    sid = add_shipment("1Z999AA10123456784")
    mark(sid, state="failed", kind="needs_info", attempts=1, last_error="needs a destination country")
    ShipmentRow.update(review_state="auto").where(ShipmentRow.id == sid).execute()
    result = review.edit(sid, tracking_number="1Z999AA10123456785", validated=False)
    assert result.ok and result.state == outbox.WAITING_APPROVAL and "needs review" in result.message
    assert ShipmentRow.get_by_id(sid).review_state == "pending"
    assert review.set_destination([sid], country="GB")[0].state == outbox.WAITING_APPROVAL
    assert review.approve([sid])[0].state == outbox.QUEUED
