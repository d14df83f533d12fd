"""Claims with leases (issue 16, item 2) on SQLite and PostgreSQL: claim, refuse, expire, take over, release
on commit and on failure; two processes racing for the same keys; other desktops' runs judged by their
lease; registration leases that hold across processes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from desktop.domain import ConversationRef, ExtractedShipment, ExtractionResult
from desktop.store import claims, outbox, scans
from desktop.store.tables import RegistrationRow, ScanRunRow

NOW = 1_800_000_000.0
LEASE = 120.0


@pytest.fixture
def db(db_both):
    """Every test here runs on both databases."""
    return db_both


def _ref(cid: str, last: str = "msg_1") -> ConversationRef:
    return ConversationRef(id=cid, subject="s", status="archived", inbox_ids=("inb",), last_message_id=last,
                           last_activity_at=1.0)


def _result(number: str | None = None) -> ExtractionResult:
    ships = (ExtractedShipment(number, "ups", "UPS", "ups", 0.9, "UPS " + number, True),) if number else ()
    return ExtractionResult(ships, "rules")


def test_a_claim_refuses_other_owners_until_its_lease_ends(db):
    assert claims.claim("cnv_1", "A", LEASE, now=NOW)
    assert not claims.claim("cnv_1", "B", LEASE, now=NOW + 1)
    assert claims.holder("cnv_1", now=NOW + 1).owner == "A"
    assert claims.claim("cnv_1", "A", LEASE, now=NOW + 60)                   # the owner renews it
    assert not claims.claim("cnv_1", "B", LEASE, now=NOW + 150)              # ... so it runs to NOW + 180
    assert claims.claim("cnv_1", "B", LEASE, now=NOW + 181)                  # expired: B takes it over
    assert claims.holder("cnv_1", now=NOW + 182).owner == "B"
    assert not claims.claim("cnv_1", "A", LEASE, now=NOW + 182)              # and A cannot take it back


def test_renew_keeps_only_what_the_owner_still_holds(db):
    claims.claim("cnv_1", "A", 10, now=NOW)
    claims.claim("cnv_2", "A", 10, now=NOW)
    assert claims.renew("A", 10, now=NOW + 8) == 2
    assert not claims.claim("cnv_1", "B", 10, now=NOW + 15)                  # renewed: still A's
    assert claims.claim("cnv_1", "B", 10, now=NOW + 19)                      # A stopped renewing: expired
    assert claims.renew("A", 10, now=NOW + 20) == 1                          # cnv_2 only
    assert claims.holder("cnv_1", now=NOW + 21).owner == "B"


def test_release_ends_only_the_owners_claim(db):
    claims.claim("cnv_1", "A", LEASE, now=NOW)
    claims.release("cnv_1", "B")
    assert claims.holder("cnv_1", now=NOW).owner == "A"
    claims.release("cnv_1", "A")
    assert claims.holder("cnv_1", now=NOW) is None
    assert claims.claim("cnv_1", "B", LEASE, now=NOW)
    claims.claim("run/7", "B", LEASE, now=NOW)
    assert claims.release_all("B") == 2


def test_a_commit_releases_its_claim_in_its_transaction_success_or_failure(db):
    owner = claims.owner_id(1)
    for cid in ("cnv_ok", "cnv_failed"):
        assert claims.claim(cid, owner, LEASE)
    scans.commit_conversation(_ref("cnv_ok"), run_id=None, result=_result("1Z999AA10123456784"), claim_owner=owner)
    scans.commit_conversation(_ref("cnv_failed"), run_id=None, error="timeout", claim_owner=owner)
    assert claims.holder("cnv_ok") is None and claims.holder("cnv_failed") is None
    assert claims.claim("cnv_failed", "next scan", LEASE)                     # the failure is taken up at once


def test_a_commit_that_fails_keeps_the_claim(db, monkeypatch):
    owner = claims.owner_id(1)
    claims.claim("cnv_1", owner, LEASE)

    def broken(shipment):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "enqueue", broken)
    with pytest.raises(RuntimeError):
        scans.commit_conversation(_ref("cnv_1"), run_id=None, result=_result("1Z999AA10123456784"),
                                  claim_owner=owner)
    assert claims.holder("cnv_1").owner == owner                             # rolled back with the commit


RACER = """
import sys
from desktop.store import claims
from desktop.store.db import open_database

open_database(sys.argv[1])
owner = sys.argv[2]
won = [f"cnv_{i}" for i in range(int(sys.argv[3])) if claims.claim(f"cnv_{i}", owner, 120.0)]
print(" ".join(won))
"""

GROUP_RACER = """
import sys
from desktop.store import claims
from desktop.store.db import open_database

open_database(sys.argv[1])
owner, count = sys.argv[2], int(sys.argv[3])
keys = [f"cnv_{i}" for i in range(count)]
if owner == "B":
    keys.reverse()   # the other scan asks in the opposite order: sorted inserts must not deadlock
won = set()
for start in range(0, count, 25):
    won |= claims.claim_many(keys[start:start + 25], owner, 120.0)
print(" ".join(sorted(won)))
"""


@pytest.mark.parametrize("script, count", [(RACER, 150), (GROUP_RACER, 300)], ids=["one by one", "in groups"])
def test_two_processes_racing_for_the_same_conversations_each_win_a_share_never_the_same(db, db_target, script,
                                                                                         count):
    racers = [subprocess.Popen([sys.executable, "-c", script, str(db_target), owner, str(count)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for owner in "AB"]
    outs = [racer.communicate(timeout=120) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0], [err[-600:] for _, err in outs]
    won = [set(out.split()) for out, _ in outs]
    assert won[0].isdisjoint(won[1])
    assert won[0] | won[1] == {f"cnv_{i}" for i in range(count)}
    for owner, keys in zip("AB", won, strict=True):
        assert all(claims.holder(key).owner == owner for key in keys)


def test_claim_many_takes_the_free_expired_and_own_keys_and_skips_the_held(db):
    claims.claim("cnv_held", "B", LEASE, now=NOW)
    claims.claim("cnv_expired", "B", 10, now=NOW - 60)
    claims.claim("cnv_mine", "A", LEASE, now=NOW - 5)
    keys = ["cnv_new2", "cnv_held", "cnv_expired", "cnv_mine", "cnv_new1", "cnv_new1"]
    assert claims.claim_many(keys, "A", LEASE, now=NOW) == {"cnv_new1", "cnv_new2", "cnv_expired", "cnv_mine"}
    assert claims.holder("cnv_held", now=NOW).owner == "B"
    for key in ("cnv_new1", "cnv_new2", "cnv_expired", "cnv_mine"):
        lease = claims.holder(key, now=NOW)
        assert (lease.owner, lease.lease_until) == ("A", NOW + LEASE)
    assert claims.claim_many([], "A", LEASE, now=NOW) == set()


def test_claim_many_one_key_at_a_time_where_insert_returning_is_missing(db, monkeypatch):
    monkeypatch.setattr(claims, "_returning", lambda: False)                  # SQLite before 3.35
    claims.claim("cnv_held", "B", LEASE, now=NOW)
    assert claims.claim_many(["cnv_1", "cnv_held", "cnv_2"], "A", LEASE, now=NOW) == {"cnv_1", "cnv_2"}




def _running_run(pid: int) -> int:
    run = scans.start_run(since=0, until=10, inboxes=(), batch_size=1, concurrent_batches=1, extractor="rules",
                          rescan=False)
    ScanRunRow.update(pid=pid, pid_started=None).where(ScanRunRow.id == run.id).execute()
    return run.id


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_run_of_another_desktop_is_alive_while_its_lease_runs(db):
    """Before: a shared database's running scan on another machine was marked interrupted (its pid is not
    running HERE), and a scan here could resume its row while it ran."""
    now = scans.utcnow()
    remote = _running_run(_dead_pid())
    claims.claim(claims.run_key(remote), f"4242@other-desktop#run{remote}", LEASE, run_id=remote, now=now)
    local_dead = _running_run(_dead_pid())
    assert scans.mark_interrupted(now=now + 10) == [local_dead]
    assert scans.run_row(remote).state == "running"
    assert scans.mark_interrupted(now=now + LEASE + 1) == [remote]            # its lease ran out: it died


def _shipments(count: int) -> None:
    for i in range(count):
        number = f"1ZRACE{i:012d}"
        scans.commit_conversation(_ref(f"cnv_{i}"), run_id=None, result=_result(number),
                                  judge=lambda s, counts: ("auto", ()))


WORKER = """
import sys
from desktop.store import outbox
from desktop.store.db import open_database

open_database(sys.argv[1])
got = []
while rows := outbox.claim_due(outbox.utcnow(), limit=7):
    got += [row.id for row in rows]
print(" ".join(map(str, got)))
"""


def test_two_registration_workers_never_claim_the_same_row(db, db_target):
    _shipments(120)
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(db_target)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], [err[-600:] for _, err in outs]
    got = [out.split() for out, _ in outs]
    assert len(got[0]) + len(got[1]) == len(set(got[0]) | set(got[1])) == RegistrationRow.select().count() == 120


def test_retry_all_breaks_only_the_leases_of_dead_processes(db):
    """Before: `shipscan retry --all` broke every lease, so a second retry (or another desktop's worker)
    sent the rows a live worker was sending."""
    import socket

    _shipments(3)
    assert len(outbox.claim_due(scans.utcnow())) == 3                        # a live worker holds them
    outbox.retry_now(None, break_leases=True)
    assert outbox.claim_due(scans.utcnow()) == []
    RegistrationRow.update(lease_owner=f"{_dead_pid()}@{socket.gethostname()}").execute()
    outbox.retry_now(None, break_leases=True)                                # its holder died: taken over
    assert len(outbox.claim_due(scans.utcnow())) == 3
    RegistrationRow.update(lease_owner="4242@other-desktop").execute()
    outbox.retry_now(None, break_leases=True)                                # cannot tell: its lease runs
    assert outbox.claim_due(scans.utcnow()) == []


def test_a_claim_of_a_dead_process_here_is_free_at_once(db):
    """A killed scan's in-flight conversations are taken up by the next scan on this machine at once (a
    crash and a restart must not wait out a 2-minute lease); another machine's wait for the lease."""
    import socket

    dead = f"{_dead_pid()}@{socket.gethostname()}#run1"
    claims.claim("cnv_1", dead, LEASE, now=NOW)
    claims.claim("cnv_2", "4242@other-desktop#run2", LEASE, now=NOW)
    assert claims.claim("cnv_1", "B", LEASE, now=NOW + 1)
    assert not claims.claim("cnv_2", "B", LEASE, now=NOW + 1)
