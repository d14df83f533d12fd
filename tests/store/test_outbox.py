"""The outbox on a real SQLite file and on PostgreSQL: claims and leases, attempts, pause/resume, retry, dismiss, listing."""

from __future__ import annotations

import json
import threading

import pytest

from desktop.store import outbox
from desktop.store.db import open_database
from desktop.store.tables import RegistrationAttemptRow, RegistrationRow, ShipmentRow
from tests.helpers.registration import add_shipment, numbers

NOW = 1_800_000_000.0


def reg(sid: int) -> RegistrationRow:
    return RegistrationRow.get(RegistrationRow.shipment == sid)


def test_enqueue_freezes_payload_and_state(db):
    auto = add_shipment("1ZAAAA11112222", order_number="ORD-1", postcode="SW1A 1AA", country="GB")
    pending = add_shipment("1ZBBBB11112222", review_state="pending")
    rejected = add_shipment("1ZCCCC11112222", review_state="rejected")
    payload = json.loads(reg(auto).payload)
    assert payload == {"trackingNumber": "1ZAAAA11112222", "clientTrackerId": reg(auto).client_tracker_id,
                       "courierCode": ["ups"], "orderNumber": "ORD-1", "destinationCountryCode": "GB",
                       "destinationPostCode": "SW1A 1AA"}
    assert reg(auto).client_tracker_id == outbox.client_tracker_id("1ZAAAA11112222", "ups")
    assert [reg(s).state for s in (auto, pending, rejected)] == ["queued", "waiting_approval", "dismissed"]


def test_claim_leases_rows_until_the_lease_expires(db):
    ids = [add_shipment(n) for n in numbers(3)]
    first = outbox.claim_due(NOW, lease_seconds=60)
    assert sorted(r.shipment_id for r in first) == ids
    assert outbox.claim_due(NOW + 1) == []  # all in flight
    assert outbox.next_due_at() == NOW + 60
    # The process died: after the lease the rows are due again, unchanged.
    again = outbox.claim_due(NOW + 61)
    assert [r.payload for r in again] == [r.payload for r in first]


def test_claim_respects_backoff_limit_and_review_states(db):
    a, b, c = (add_shipment(n) for n in numbers(3))
    approved = add_shipment("1ZAPPR11112222", review_state="pending")
    RegistrationRow.update(next_attempt_at=NOW + 100).where(RegistrationRow.shipment == b).execute()
    assert [r.shipment_id for r in outbox.claim_due(NOW, limit=1)] == [a]
    assert [r.shipment_id for r in outbox.claim_due(NOW)] == [c]
    # "approve everything by hand": auto shipments stay put, approved ones go.
    ShipmentRow.update(review_state="approved").where(ShipmentRow.id == approved).execute()
    RegistrationRow.update(state="queued").where(RegistrationRow.shipment == approved).execute()
    outbox.release([reg(a).id, reg(c).id])
    hand = outbox.claim_due(NOW + 200, review_states=outbox.HAND_REVIEW_STATES)
    assert [r.shipment_id for r in hand] == [approved]


def test_concurrent_claims_never_overlap(db):
    for n in numbers(40):
        add_shipment(n)
    claimed: list[list[int]] = []

    def worker():
        got = []
        while rows := outbox.claim_due(NOW, limit=3):
            got += [r.id for r in rows]
        claimed.append(got)
        db.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for got in claimed for i in got]
    assert len(every) == len(set(every)) == 40


def test_record_attempts_keeps_history(db):
    sid = add_shipment(numbers(1)[0])
    row = outbox.claim_due(NOW)[0]
    outbox.record_attempt(row.id, outcome="temporary", state="queued", kind="temporary", http_status=503,
                          message="Ship24 had a server problem", next_attempt_at=NOW + 10, now=NOW)
    assert reg(sid).lease_until is None and reg(sid).attempts == 1
    assert outbox.claim_due(NOW + 5) == []
    row = outbox.claim_due(NOW + 10)[0]
    outbox.record_attempt(row.id, outcome="registered", state="registered", http_status=201,
                          tracker_id="trk-1", now=NOW + 11)
    final = reg(sid)
    assert (final.state, final.tracker_id, final.kind, final.last_error) == ("registered", "trk-1", None, None)
    history = outbox.attempts_for(sid)
    assert [(a.outcome, a.http_status) for a in history] == [("temporary", 503), ("registered", 201)]
    # A late failure from another process never downgrades a registered row.
    outbox.record_attempt(row.id, outcome="temporary", state="queued", kind="temporary", message="late")
    assert reg(sid).state == "registered"
    assert RegistrationAttemptRow.select().count() == 3


def test_dismissed_during_flight_stays_dismissed(db):
    sid = add_shipment(numbers(1)[0])
    row = outbox.claim_due(NOW)[0]
    assert outbox.dismiss([sid]) == [sid]
    outbox.record_attempt(row.id, outcome="permanent", state="failed", kind="permanent", message="x")
    assert reg(sid).state == "dismissed"


def test_pause_blocks_claims_until_resumed_and_survives_reopen(db, db_target):
    ids = [add_shipment(n) for n in numbers(3)]
    assert sorted(outbox.pause_all("quota used up", now=NOW)) == ids
    assert outbox.is_paused() and outbox.pause_reason() == "quota used up"
    add_shipment("1ZNEWW11112222")  # a shipment found while paused waits too
    assert outbox.claim_due(NOW) == [] and outbox.next_due_at() is None
    db.close()
    open_database(db_target)
    assert outbox.is_paused()
    assert sorted(outbox.resume(NOW)) == ids
    assert len(outbox.claim_due(NOW)) == 4


def test_retry_now_ignores_backoff_and_lifts_pause(db):
    a, b, c = (add_shipment(n) for n in numbers(3))
    RegistrationRow.update(state="failed", kind="temporary", attempts=8).where(
        RegistrationRow.shipment == a).execute()
    RegistrationRow.update(next_attempt_at=NOW + 3600, attempts=2).where(RegistrationRow.shipment == b).execute()
    RegistrationRow.update(state="paused", kind="quota").where(RegistrationRow.shipment == c).execute()
    assert outbox.claim_due(NOW) == []
    assert outbox.retry_now([a], now=NOW) == [a]
    # Retrying one row takes only that row out of the pause (issue 11, item 8): c stays paused.
    assert outbox.is_paused() and reg(c).state == "paused"
    assert outbox.claim_due(NOW) == []
    assert [r.shipment_id for r in outbox.claim_due(NOW, shipment_ids=[a, c])] == [a]
    assert sorted(outbox.retry_now(None, now=NOW)) == [a, b, c]
    assert not outbox.is_paused()  # retrying everything lifts the pause
    assert [r.shipment_id for r in outbox.claim_due(NOW, shipment_ids=[c])] == [c]
    # a and c are still leased by the claims above; b's backoff is gone.
    assert [r.shipment_id for r in outbox.claim_due(NOW)] == [b]
    assert sorted(outbox.retry_now(None, break_leases=True, now=NOW)) == [a, b, c]
    # Their holder (this process) is alive: its leases are kept (issue 16; test_claims.py breaks dead ones).
    assert outbox.claim_due(NOW) == []
    assert {reg(s).attempts for s in (a, b, c)} == {0}


def test_retry_and_dismiss_skip_registered_and_waiting(db):
    done = add_shipment(numbers(1)[0])
    waiting = add_shipment("1ZWAIT11112222", review_state="pending")
    RegistrationRow.update(state="registered", tracker_id="t").where(RegistrationRow.shipment == done).execute()
    assert outbox.retry_now([done, waiting]) == []
    assert outbox.dismiss([done, waiting]) == [waiting]
    assert reg(done).state == "registered"


def test_queue_items_say_why(db):
    ids = [add_shipment(n) for n in numbers(5)]
    pending = add_shipment("1ZWAIT11112222", review_state="pending")
    outbox.record_attempt(reg(ids[0]).id, outcome="permanent", state="failed", kind="permanent",
                          message="Ship24 rejected the number: dummy.")
    outbox.record_attempt(reg(ids[1]).id, outcome="temporary", state="queued", kind="temporary",
                          message="Ship24 did not answer in time.", next_attempt_at=NOW + 600)
    outbox.record_attempt(reg(ids[2]).id, outcome="registered", state="registered", tracker_id="trk")
    outbox.claim_due(NOW, limit=1)  # ids[3] in flight
    items = {i.shipment_id: i for i in outbox.queue_items(now=NOW)}
    assert ids[2] not in items
    assert items[ids[0]].reason == "Ship24 rejected the number: dummy."
    assert items[ids[1]].reason.startswith("Will try again at ")
    assert "did not answer" in items[ids[1]].reason
    assert items[ids[3]].in_flight and items[ids[3]].reason == "Being registered right now."
    assert items[ids[4]].reason == "Ready to register."
    assert items[pending].reason.startswith("Waiting for someone to approve")
    assert json.dumps(items[ids[0]].to_json())
    assert outbox.counts()["registered"] == 1
    assert len(outbox.queue_items(include_done=True)) == 6


def test_status_rows_and_changes(db):
    a, b = (add_shipment(n) for n in numbers(2))
    for sid, trk in ((a, "trk-a"), (b, "trk-b")):
        outbox.record_attempt(reg(sid).id, outcome="registered", state="registered", tracker_id=trk)
    assert outbox.registered_for_status() == [(a, "trk-a"), (b, "trk-b")]
    fields = dict(milestone="in_transit", status_text="In transit", latest_event="Departed (Leeds)",
                  latest_event_at="2026-11-29T10:00:00", expected_delivery="2026-12-02")
    assert outbox.save_status(a, checked_at=NOW, **fields) is True
    assert outbox.save_status(a, checked_at=NOW + 1, **fields) is False
    assert outbox.save_status(b, checked_at=NOW, **{**fields, "milestone": "delivered"}) is True
    assert outbox.registered_for_status() == [(a, "trk-a")]
    assert outbox.registered_for_status(include_final=True) == [(a, "trk-a"), (b, "trk-b")]
    ShipmentRow.update(review_state="rejected").where(ShipmentRow.id == a).execute()   # hidden, tracker paid
    assert outbox.registered_for_status() == []                       # no longer refreshed by itself...
    assert outbox.registered_for_status([a]) == [(a, "trk-a")]        # ...but when asked for by id
    rows = outbox.status_rows([a])
    assert rows[0]["milestone"] == "in_transit" and rows[0]["tracker_id"] == "trk-a"
    with pytest.raises(ValueError):
        outbox.save_status(a, checked_at=NOW, colour="red")
