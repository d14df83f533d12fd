"""desktop.store.scans on a real SQLite file: one-transaction commits, uniqueness, plans and run rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from desktop.core import policy
from desktop.core.events import RunState
from desktop.domain import ConversationRef, ExtractedShipment, ExtractionResult
from desktop.store import outbox, scans
from desktop.store.tables import ConversationRow, RegistrationRow, ScanRunRow, ShipmentRow


def _ref(cid: str, last: str | None = "msg_1") -> ConversationRef:
    return ConversationRef(id=cid, subject="Where is my order", status="archived", inbox_ids=("inb_a",),
                           last_message_id=last, last_activity_at=1000.0, customer="Ada <ada@example.com>")


def _ship(number: str, courier: str | None = "ups", validated: bool = True, flags=()) -> ExtractedShipment:
    return ExtractedShipment(number, courier, "UPS" if courier == "ups" else None, courier, 0.9, "evidence",
                             validated, tuple(flags), message_id="msg_1", order_number="PO-1")


def _result(*shipments) -> ExtractionResult:
    return ExtractionResult(tuple(shipments), "rules")


#: The core's policy, as the pipeline passes it to the store.
POLICY = policy.judge()


def test_commit_writes_state_shipments_and_outbox(db):
    shipments = _result(_ship("1Z999AA10123456784"), _ship("9400100000000000000000", "usps", False, ["no_context"]))
    outcome = scans.commit_conversation(_ref("cnv_1"), run_id=None, judge=POLICY, result=shipments)
    assert outcome.state == "ok" and outcome.new_shipments == 2
    row = scans.conversation("cnv_1")
    assert row.scanned_message_id == "msg_1" and row.customer == "Ada <ada@example.com>"
    states = {s.tracking_number: (s.review_state, s.registration.get().state) for s in ShipmentRow.select()}
    assert states == {"1Z999AA10123456784": ("auto", outbox.QUEUED),
                      "9400100000000000000000": ("pending", outbox.WAITING_APPROVAL)}
    assert json.loads(ShipmentRow.get(ShipmentRow.courier == "usps").flags) == ["no_context"]


def test_a_shipment_is_never_duplicated(db):
    scans.commit_conversation(_ref("cnv_1"), run_id=None, result=_result(_ship("1Z999AA10123456784")))
    again = scans.commit_conversation(_ref("cnv_2"), run_id=None,
                                      result=_result(_ship("1z999aa1-0123456784"), _ship("1Z999AA10123456784", None)))
    assert [s.new for s in again.shipments] == [False]       # same number twice in one result: once
    assert ShipmentRow.select().count() == RegistrationRow.select().count() == 1
    assert ShipmentRow.get().conversation_id == "cnv_1"


def test_one_number_with_two_carriers_is_two_shipments_and_a_bare_one_matches_the_oldest(db):
    """A stored shipment matches a new report of its number when the couriers agree or either is unknown;
    a different courier is another parcel (a reused number). Looked up once per conversation."""
    first = scans.commit_conversation(_ref("cnv_1"), run_id=None, result=_result(_ship("12345678901234")))
    other = scans.commit_conversation(_ref("cnv_2"), run_id=None, result=_result(_ship("12345678901234", "fedex")))
    assert other.shipments[0].new and other.shipments[0].shipment_id != first.shipments[0].shipment_id
    bare = scans.commit_conversation(_ref("cnv_3"), run_id=None, result=_result(_ship("12345678901234", None)))
    assert not bare.shipments[0].new and bare.shipments[0].shipment_id == first.shipments[0].shipment_id
    same = scans.commit_conversation(_ref("cnv_4"), run_id=None, result=_result(_ship("12345678901234", "fedex")))
    assert not same.shipments[0].new and same.shipments[0].shipment_id == other.shipments[0].shipment_id
    assert ShipmentRow.select().count() == 2


def test_commit_is_one_transaction(db, monkeypatch):
    calls = []

    def failing_enqueue(shipment):
        calls.append(shipment.tracking_number)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(shipment)

    real = outbox.enqueue
    monkeypatch.setattr(outbox, "enqueue", failing_enqueue)
    with pytest.raises(RuntimeError):
        scans.commit_conversation(_ref("cnv_1"), run_id=None,
                                  result=_result(_ship("1Z999AA10123456784"), _ship("1Z12345E0205271688")))
    assert ConversationRow.select().count() == ShipmentRow.select().count() == RegistrationRow.select().count() == 0


def test_failures_count_attempts_and_keep_the_last_good_scan(db):
    scans.commit_conversation(_ref("cnv_1", "msg_1"), run_id=None, result=_result())
    assert scans.conversation("cnv_1").scan_state == "no_shipments"
    scans.commit_conversation(_ref("cnv_1", "msg_2"), run_id=None, error="timeout")
    scans.commit_conversation(_ref("cnv_1", "msg_2"), run_id=None, error="timeout again")
    row = scans.conversation("cnv_1")
    assert (row.scan_state, row.attempts, row.error, row.scanned_message_id) == ("failed", 2, "timeout again", "msg_1")


def test_plan_skips_only_unchanged_successful_conversations(db):
    run = scans.start_run(since=0, until=10, inboxes=(), batch_size=50, concurrent_batches=3, extractor="rules",
                          rescan=False)
    scans.commit_conversation(_ref("cnv_ok", "msg_1"), run_id=run.id, result=_result())
    scans.commit_conversation(_ref("cnv_failed", "msg_1"), run_id=run.id, error="boom")
    refs = [_ref("cnv_ok", "msg_1"), _ref("cnv_failed", "msg_1"), _ref("cnv_new"), _ref("cnv_ok2", None)]
    assert scans.plan(refs, rescan=False) == {"cnv_ok": False, "cnv_failed": True, "cnv_new": True, "cnv_ok2": True}
    changed = [_ref("cnv_ok", "msg_2")]
    assert scans.plan(changed, rescan=False) == {"cnv_ok": True}
    assert scans.plan(refs[:1], rescan=True) == {"cnv_ok": True}
    assert scans.plan(refs[:1], rescan=True, run_id=run.id) == {"cnv_ok": False}   # a resumed rescan


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_runs_of_dead_processes_are_interrupted_and_resumable(db):
    params = dict(since=100.0, until=200.0, inboxes=("inb_b", "inb_a"), batch_size=50, concurrent_batches=3,
                  extractor="rules", rescan=False)
    run = scans.start_run(**params)
    assert scans.find_resumable(100.0, 200.0, ["inb_a", "inb_b"]) is None        # running here, alive
    ScanRunRow.update(pid=_dead_pid()).where(ScanRunRow.id == run.id).execute()
    assert scans.mark_interrupted() == [run.id]
    assert scans.run_row(run.id).state == RunState.INTERRUPTED.value
    assert scans.find_resumable(100.0, 200.0, ["inb_a", "inb_b"]).id == run.id
    assert scans.find_resumable(100.0, 201.0, ["inb_a", "inb_b"]) is None
    resumed = scans.resume_run(run.id, batch_size=10, concurrent_batches=1, extractor="llm")
    assert (resumed.state, resumed.pid, resumed.batch_size) == ("running", os.getpid(), 10)
    scans.save_run(run.id, counts={"listed": 3}, batches=[{"batch": 1}], state=RunState.COMPLETED.value)
    assert scans.find_resumable(100.0, 200.0, ["inb_a", "inb_b"]) is None         # finished: start afresh
    row = scans.run_row(run.id)
    counts = json.loads(row.counts)
    assert row.finished_at is not None and counts["listed"] == 3
    assert [part["state"] for part in counts[scans.EARLIER_PARTS]] == ["interrupted"]  # kept for the history
    assert scans.run_batches(run.id) == [{"batch": 1}]


# -- issue 13: spending needs evidence ----------------------------------------------------------------------


def test_the_hostile_3000_line_conversation_registers_nothing(db):
    """Probe: 3,000 `Tracking: <18 random digits>` lines became ~266 automatic registrations."""
    import asyncio

    from desktop.core.rules_extractor import RulesExtractor
    from tests.helpers.hostile import conversation_of, random_tracking_lines

    conversation = conversation_of(random_tracking_lines())
    result = asyncio.run(RulesExtractor().extract(conversation))
    assert len(result.shipments) > 100       # the engine accepts them: the policy must hold them back
    outcome = scans.commit_conversation(conversation.ref, run_id=None, result=result, judge=POLICY)
    assert outcome.new_shipments == len(result.shipments)
    assert ShipmentRow.select().where(ShipmentRow.review_state == "auto").count() == 0
    assert {s.registration_state for s in outcome.shipments} == {outbox.WAITING_APPROVAL}
    reasons = {item.reason for item in outbox.queue_items()}
    assert len(reasons) == 1 and "more numbers than one order plausibly has" in reasons.pop()


def test_caps_hold_automatic_registrations_beyond_them(db):
    from desktop.core.policy import Caps

    run = scans.start_run(since=0, until=1, inboxes=(), batch_size=1, concurrent_batches=1, extractor="rules",
                          rescan=False)
    caps = Caps(per_scan=2, per_day=3)
    numbers = ["1Z999AA10123456784", "1Z12345E0205271688", "1Z12345E6605272234", "1Z12345E1505270452"]
    for i, number in enumerate(numbers[:3]):
        scans.commit_conversation(_ref(f"cnv_{i}"), run_id=run.id, result=_result(_ship(number)),
                                  judge=policy.judge(caps=caps))
    states = [ShipmentRow.get(ShipmentRow.tracking_number == n).review_state for n in numbers[:3]]
    assert states == ["auto", "auto", "pending"]
    assert "scan_cap" in json.loads(ShipmentRow.get(ShipmentRow.tracking_number == numbers[2]).flags)
    scans.commit_conversation(_ref("cnv_9"), run_id=None, result=_result(_ship(numbers[3])),
                              judge=policy.judge(caps=Caps(per_scan=99, per_day=2)))
    held = ShipmentRow.get(ShipmentRow.tracking_number == numbers[3])
    assert held.review_state == "pending" and "day_cap" in json.loads(held.flags)
    assert "last 24 hours" in {i.shipment_id: i for i in outbox.queue_items()}[held.id].reason


# -- issue 16: the store stores what it is told; scans side by side -----------------------------------------


def test_without_a_judge_the_store_decides_nothing_and_every_new_shipment_waits(db):
    """Before: the store applied the core's policy itself (it imported desktop.core.policy)."""
    outcome = scans.commit_conversation(_ref("cnv_1"), run_id=None, result=_result(_ship("1Z999AA10123456784")))
    assert [s.registration_state for s in outcome.shipments] == [outbox.WAITING_APPROVAL]
    assert ShipmentRow.get().review_state == "pending"


def test_the_judge_gets_the_stores_counts_and_its_answer_is_stored(db):
    seen = []

    def judge(shipment, counts):
        seen.append((shipment.tracking_number, counts))
        return ("auto", ("told",)) if len(seen) == 1 else ("pending", ("held_by_judge",))

    scans.commit_conversation(_ref("cnv_1"), run_id=None, judge=judge,
                              result=_result(_ship("1Z999AA10123456784"), _ship("1Z12345E0205271688")))
    assert [counts for _, counts in seen] == [scans.AutoCounts(2, 0, 0), scans.AutoCounts(2, 1, 1)]
    stored = {s.tracking_number: (s.review_state, json.loads(s.flags)) for s in ShipmentRow.select()}
    assert stored == {"1Z999AA10123456784": ("auto", ["told"]), "1Z12345E0205271688": ("pending", ["held_by_judge"])}


def test_a_rescan_skips_what_another_scan_committed_since_it_started(db):
    other = scans.start_run(since=0, until=10, inboxes=(), batch_size=5, concurrent_batches=1, extractor="rules",
                            rescan=True)
    scans.commit_conversation(_ref("cnv_before"), run_id=other.id, result=_result())
    scans.commit_conversation(_ref("cnv_since"), run_id=other.id, result=_result())
    started = ConversationRow.get_by_id("cnv_since").scanned_at
    ConversationRow.update(scanned_at=started - 1).where(ConversationRow.id == "cnv_before").execute()
    refs = [_ref("cnv_before"), _ref("cnv_since")]
    assert scans.plan(refs, rescan=True, run_id=other.id + 1, scanned_since=started) == {"cnv_before": True,
                                                                                          "cnv_since": False}
    assert scans.plan(refs, rescan=True, run_id=other.id + 1) == {"cnv_before": True, "cnv_since": True}
