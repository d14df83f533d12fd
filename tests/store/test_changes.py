"""The change counter (issue 16): every write that changes what a table shows bumps it in its transaction,
and a `Watcher` tells another process's changes from this one's."""

from __future__ import annotations

import json

import pytest

from desktop.core import policy
from desktop.domain import ConversationRef, ExtractedShipment, ExtractionResult
from desktop.store import changes, holds, outbox, review, scans, undo
from desktop.store.db import close_database, open_database
from desktop.store.tables import RegistrationRow, ShipmentRow, database
from tests.helpers.otherdesk import run_as
from tests.helpers.registration import add_shipment, numbers


@pytest.fixture
def target(db_target):
    """The database (SQLite and PostgreSQL), open and migrated; yields its path or URL for other processes."""
    database_ = open_database(db_target)
    yield str(db_target)
    close_database(database_)


def value() -> int:
    return changes.current().value


def mark(sid: int, **fields) -> None:
    RegistrationRow.update(**fields).where(RegistrationRow.shipment == sid).execute()


def _ref(cid: str) -> ConversationRef:
    return ConversationRef(id=cid, subject="Where is my order", status="archived", inbox_ids=("inb_a",),
                           last_message_id="msg_1", last_activity_at=1000.0, customer="Ada <ada@example.com>")


def _result(number: str) -> ExtractionResult:
    return ExtractionResult((ExtractedShipment(number, "ups", "UPS", "ups", 0.9, "evidence", True, (),
                                               message_id="msg_1"),), "rules")


def _run() -> int:
    return scans.start_run(since=0, until=10, inboxes=[], batch_size=5, concurrent_batches=1, extractor="rules",
                           rescan=False).id


# Each write: (name, setup(shipment id) -> None, action(shipment id) -> None, bumps expected).
WRITES = {
    "approve": (None, lambda s: review.approve([s]), 1),
    "approve an approved one (no change)": (lambda s: review.approve([s]), lambda s: review.approve([s]), 0),
    "reject": (None, lambda s: review.reject([s]), 1),
    "edit": (None, lambda s: review.edit(s, order_number="PO-2"), 1),
    "set destination": (None, lambda s: review.set_destination([s], postcode="SW1A 1AA"), 1),
    "dismiss": (None, lambda s: outbox.dismiss([s]), 1),
    "dismiss a registered one (no change)": (lambda s: mark(s, state="registered"),
                                             lambda s: outbox.dismiss([s]), 0),
    "retry": (lambda s: mark(s, state="failed", kind="temporary"), lambda s: outbox.retry_now([s]), 1),
    "registration outcome": (None, lambda s: outbox.record_attempt(
        outbox.registration_for(s).id, outcome="registered", state="registered", tracker_id="t"), 1),
    "pause": (lambda s: review.approve([s]), lambda s: outbox.pause_all("quota"), 1),
    "status refresh that changes the status": (
        None, lambda s: outbox.save_status(s, checked_at=1.0, milestone="in_transit"), 1),
    "status refresh that changes nothing": (
        lambda s: outbox.save_status(s, checked_at=1.0, milestone="in_transit"),
        lambda s: outbox.save_status(s, checked_at=2.0, milestone="in_transit"), 0),
    "scan commit": (None, lambda s: scans.commit_conversation(_ref("cnv_new"), run_id=None,
                                                              result=_result("1Z999AA10123456784")), 1),
    "run start": (None, lambda s: _run(), 1),
    "run counts": (None, lambda s: scans.save_run(1, counts={"conversations_listed": 3}, batches=[]), 1),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_each_write_that_changes_a_table_bumps_the_counter_once(target, name):
    setup, action, bumps = WRITES[name]
    sid = add_shipment(numbers(1)[0], review_state="pending")
    if name == "run counts":
        _run()
    if setup is not None:
        setup(sid)
    before = value()
    action(sid)
    assert value() - before == bumps


def test_undo_and_a_held_group_released_bump_it(target):
    sid = add_shipment(numbers(1)[0], review_state="pending")
    before_snap = undo.snapshot([sid])
    review.reject([sid])
    before = value()
    assert undo.restore(before_snap, undo.snapshot([sid]))[0].changed
    assert value() == before + 1
    held = add_shipment(numbers(2)[1], review_state="pending", conversation_id="cnv_flood")
    ShipmentRow.update(flags=json.dumps([policy.GROUP_HOLD])).where(ShipmentRow.id == held).execute()
    before = value()
    assert holds.release("cnv_flood", [held]) == [held]
    assert value() == before + 1


def test_a_rolled_back_change_leaves_the_counter(target):
    before = value()
    with pytest.raises(RuntimeError), database.atomic("IMMEDIATE"):
        changes.bump()
        raise RuntimeError("the action failed after it counted")
    assert value() == before


def test_the_watcher_ignores_this_process_and_sees_another(target):
    sid = add_shipment(numbers(1)[0], review_state="pending")
    watcher = changes.Watcher()
    assert watcher.poll() is False                       # the first look only sets the baseline
    review.approve([sid])
    assert watcher.poll() is False                       # our own change: no refresh for it
    run_as(target, "Bob", f"review.reject([{sid}])")
    assert watcher.poll() is True
    assert watcher.poll() is False                       # reported once


def test_another_change_hidden_behind_ours_is_still_seen(target):
    sid = add_shipment(numbers(1)[0], review_state="pending")
    watcher = changes.Watcher()
    watcher.poll()
    run_as(target, "Bob", f"review.approve([{sid}])")
    review.reject([sid])                                 # ours, after Bob's: the row now names this process
    assert changes.current().mine
    assert watcher.poll() is True
    review.approve([sid])
    assert watcher.poll() is False

