"""Undo of a reject or dismiss: the previous review/registration state comes back; registered stays registered."""

from __future__ import annotations

from desktop.store import outbox, review, undo
from desktop.store.tables import RegistrationRow, ShipmentRow
from tests.helpers.registration import add_shipment, numbers


def _mark(sid: int, **fields) -> None:
    RegistrationRow.update(**fields).where(RegistrationRow.shipment == sid).execute()


def _states(sid: int) -> tuple:
    reg = outbox.registration_for(sid)
    return ShipmentRow.get_by_id(sid).review_state, reg.state, reg.kind, reg.next_attempt_at, reg.attempts


def test_undo_of_reject_restores_review_and_backoff(db):
    failed, waiting = (add_shipment(n, review_state=s) for n, s in zip(numbers(2), ("auto", "pending"), strict=True))
    _mark(failed, state="failed", kind="temporary", next_attempt_at=2e9, attempts=3)
    _mark(waiting, state="waiting_approval")
    was = [_states(failed), _states(waiting)]
    before = undo.snapshot([failed, waiting, 999])
    assert [s.shipment_id for s in before] == [failed, waiting]
    review.reject([failed, waiting])
    results = undo.restore(before, undo.snapshot([failed, waiting]))
    assert [r.ok and r.changed for r in results] == [True, True]
    assert [_states(failed), _states(waiting)] == was


def test_undo_of_dismiss_requeues(db):
    sid = add_shipment(numbers(1, seed=3)[0])
    _mark(sid, state="paused", kind="quota")
    before = undo.snapshot([sid])
    outbox.dismiss([sid])
    assert outbox.registration_for(sid).state == "dismissed"
    undo.restore(before, undo.snapshot([sid]))
    assert outbox.registration_for(sid).state == "paused" and outbox.registration_for(sid).kind == "quota"


def test_a_shipment_changed_since_is_left_alone(db):
    sid = add_shipment(numbers(1, seed=4)[0], review_state="pending")
    before = undo.snapshot([sid])
    review.reject([sid])
    after = undo.snapshot([sid])
    review.approve([sid])  # the agent changed their mind by hand
    result = undo.restore(before, after)[0]
    assert not result.ok and result.message == undo.CHANGED_SINCE
    assert _states(sid)[:2] == ("approved", "queued")


def test_undo_never_unregisters(db):
    """Rejecting a registered shipment only marks it; undo restores the mark and keeps the tracker."""
    sid = add_shipment(numbers(1, seed=5)[0])
    _mark(sid, state="registered", tracker_id="trk")
    before = undo.snapshot([sid])
    review.reject([sid])
    undo.restore(before, undo.snapshot([sid]))
    assert _states(sid)[:2] == ("auto", "registered")
    # A dismissed row that an in-flight attempt registered meanwhile is never put back to "queued".
    other = add_shipment(numbers(1, seed=6)[0])
    before = undo.snapshot([other])
    outbox.dismiss([other])
    after = undo.snapshot([other])
    _mark(other, state="registered", tracker_id="trk2")
    assert not undo.restore(before, after)[0].ok
    assert outbox.registration_for(other).state == "registered"
