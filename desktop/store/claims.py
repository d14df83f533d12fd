"""Scan claims with leases: one scan at a time works on a conversation, across processes and desktops.

A scan *claims* a conversation before it fetches its messages: a row in `scan_claim` naming the owner (the
scan: `pid@host#run<id>`, see `owner_id`) and `lease_until`, an epoch time the owner keeps pushing forward
(`renew`) while it works. Contracts:
- Every function is one statement, or a few that are each atomic and conditional (none needs the
  IMMEDIATE write lock, so a server 50 ms away costs a scan one round trip per claim).
- `claim` succeeds when the key is free, expired, already this owner's (then it is renewed), or held by
  a process of THIS machine that is gone (a killed scan's work is taken up at once, not after its lease);
  it fails while another owner's lease runs. Each check and write is ONE conditional statement (an UPDATE
  whose WHERE tests the lease or the dead owner, or an INSERT that does nothing on conflict), so two
  processes can never both succeed, on SQLite or PostgreSQL, whatever the isolation level.
- A claim ends with `release` (the scan committed the conversation, in the commit's own transaction, or
  gave up on it) or when its lease runs out: a killed scan's claims are taken up by the next scan.
- The same table keeps each running scan's liveness: the key `run/<id>` (`run_key`), claimed and renewed
  like a conversation. Another desktop's run is alive while that lease runs (`run_leases`); a pid says
  nothing across machines.
- Times are epoch seconds of the claiming machine's clock: desktops sharing a database need clocks within
  a small part of the lease (120 s by default) of each other, as NTP keeps them.
All SQL of claims lives here.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from peewee import FloatField, IntegerField, TextField

from desktop.store import dialect
from desktop.store.processes import owner_alive, this_process
from desktop.store.tables import BaseTable, utcnow

#: Claims expired this long ago are deleted by `purge_expired` (an expired claim already counts as free).
PURGE_AFTER = 86400.0


class ScanClaimRow(BaseTable):
    """One claimed key: a conversation id, or `run/<id>` for a running scan's liveness."""

    key = TextField(primary_key=True)
    owner = TextField()
    run_id = IntegerField(null=True)
    claimed_at = FloatField()
    lease_until = FloatField(index=True)

    class Meta:
        table_name = "scan_claim"


@dataclass(frozen=True, slots=True)
class Lease:
    owner: str
    lease_until: float

    @property
    def host(self) -> str:
        """The host part of the owner (`pid@host#run<id>`)."""
        return self.owner.partition("@")[2].partition("#")[0]


def this_host() -> str:
    return socket.gethostname()


def owner_id(run_id: int | None) -> str:
    """The owner name of a scan in this process: `pid@host#run<id>` (unique: run ids are per database)."""
    return f"{this_process()}#run{run_id}"


def run_key(run_id: int) -> str:
    return f"run/{run_id}"


def claim(key: str, owner: str, lease_seconds: float, *, run_id: int | None = None,
          now: float | None = None) -> bool:
    """Claim `key` for `owner` until now + `lease_seconds`; False while another owner's lease runs.

    No transaction around the steps: each is one conditional statement that is atomic on its own, and the
    usual case (a key nobody claimed) costs one round trip to the server."""
    now = utcnow() if now is None else now
    values = dict(owner=owner, run_id=run_id, claimed_at=now, lease_until=now + lease_seconds)
    if ScanClaimRow.insert(key=key, **values).on_conflict_ignore().as_rowcount().execute():
        return True
    return _take_over(key, values)


def claim_many(keys: Iterable[str], owner: str, lease_seconds: float, *, run_id: int | None = None,
               now: float | None = None) -> set[str]:
    """`claim` for several keys at once; returns the keys claimed. The free ones (the usual case) in ONE
    statement (an INSERT of them all that skips the taken ones and returns what it inserted), then one
    `claim` step per key another owner held. Keys go in sorted order, so two scans inserting overlapping
    groups wait for each other in the same order and never deadlock (PostgreSQL)."""
    now = utcnow() if now is None else now
    values = dict(owner=owner, run_id=run_id, claimed_at=now, lease_until=now + lease_seconds)
    ordered = sorted(set(keys))
    if not _returning():
        return {key for key in ordered if claim(key, owner, lease_seconds, run_id=run_id, now=now)}
    claimed: set[str] = set()
    for start in range(0, len(ordered), _CLAIM_CHUNK):
        rows = [dict(key=key, **values) for key in ordered[start:start + _CLAIM_CHUNK]]
        query = ScanClaimRow.insert_many(rows).on_conflict_ignore().returning(ScanClaimRow.key)
        claimed.update(row.key for row in query.execute())
    return claimed | {key for key in ordered if key not in claimed and _take_over(key, values)}


#: Rows per INSERT of `claim_many` (5 values each, well under any driver's parameter limit).
_CLAIM_CHUNK = 100


def _returning() -> bool:
    """INSERT ... RETURNING: PostgreSQL, and SQLite from 3.35 (older SQLite claims one key at a time)."""
    return dialect.name() == dialect.POSTGRESQL or sqlite3.sqlite_version_info >= (3, 35, 0)


def _take_over(key: str, values: dict) -> bool:
    """The claim of a key someone holds: ours again, or expired, or a dead process's of this machine."""
    now, until = values["claimed_at"], values["lease_until"]
    taken = (ScanClaimRow.update(**values)
             .where((ScanClaimRow.key == key) & ((ScanClaimRow.owner == values["owner"])
                                                 | (ScanClaimRow.lease_until < now)))
             .execute())
    return bool(taken) or _take_from_the_dead(key, values["owner"], values["run_id"], now, until)


def _take_from_the_dead(key: str, owner: str, run_id: int | None, now: float, until: float) -> bool:
    """Take `key` over when its holder is a process of this machine that no longer runs."""
    row = ScanClaimRow.get_or_none(ScanClaimRow.key == key)
    if row is None or owner_alive(row.owner) is not False:
        return False
    return bool(ScanClaimRow.update(owner=owner, run_id=run_id, claimed_at=now, lease_until=until)
                .where((ScanClaimRow.key == key) & (ScanClaimRow.owner == row.owner)).execute())


def renew(owner: str, lease_seconds: float, *, now: float | None = None) -> int:
    """Push every claim `owner` still holds to now + `lease_seconds`; returns how many it holds. A claim
    another owner took over after it expired is not taken back."""
    now = utcnow() if now is None else now
    return ScanClaimRow.update(lease_until=now + lease_seconds).where(ScanClaimRow.owner == owner).execute()


def release(key: str, owner: str) -> None:
    """End `owner`'s claim on `key` (nothing when another owner holds it now). Joins the caller's
    transaction when there is one (`scans.commit_conversation` releases in its own)."""
    ScanClaimRow.delete().where((ScanClaimRow.key == key) & (ScanClaimRow.owner == owner)).execute()


def release_all(owner: str) -> int:
    """End every claim of `owner` (its scan ended); returns how many there were."""
    return ScanClaimRow.delete().where(ScanClaimRow.owner == owner).execute()


def holder(key: str, *, now: float | None = None) -> Lease | None:
    """Who holds `key` now (None when nobody, or only an expired lease)."""
    now = utcnow() if now is None else now
    row = ScanClaimRow.get_or_none((ScanClaimRow.key == key) & (ScanClaimRow.lease_until >= now))
    return Lease(row.owner, row.lease_until) if row is not None else None


def run_leases(run_ids: Iterable[int]) -> dict[int, Lease]:
    """The liveness lease of each of these runs that has one (expired or not)."""
    keys = {run_key(run_id): run_id for run_id in run_ids}
    if not keys:
        return {}
    rows = ScanClaimRow.select().where(ScanClaimRow.key.in_(list(keys)))
    return {keys[row.key]: Lease(row.owner, row.lease_until) for row in rows}


def purge_expired(now: float | None = None) -> int:
    """Delete claims expired more than `PURGE_AFTER` ago (the table stays small)."""
    now = utcnow() if now is None else now
    return ScanClaimRow.delete().where(ScanClaimRow.lease_until < now - PURGE_AFTER).execute()
