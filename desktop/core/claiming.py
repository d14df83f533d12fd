"""A scan's claims (issue 16): the conversations it works on, held with leases it keeps renewing.

Contracts (the store side is `desktop.store.claims`):
- `take(ref)` claims a conversation before its messages are fetched: "claimed" (ours now), "elsewhere"
  (another live scan holds it: skip it and count it), or "done" (some scan committed it since this one
  planned it: it is unchanged now, the claim is given back at once).
- The run's own liveness lease is claimed at `start()`, and every lease is renewed every third of the lease
  by `keep_alive()` (a task of the run), so a claim outlives any conversation that is still being worked on
  and a killed scan's claims expire within one lease.
- A claim ends with the conversation's commit (the store releases it in the commit's transaction), with
  `give_back` (the conversation was left without a commit: cancel, error), or with `finish()`.
- The lease is `SHIPSCAN_CLAIM_LEASE` seconds when that is set (tests use a few seconds), else 120 s.
- Every store call goes through `desktop.core.storecalls` (the store thread); takes asked for at the
  same time share one call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Literal

from desktop.core.storecalls import store_call, uncut
from desktop.domain import ConversationRef
from desktop.store import claims, scans

log = logging.getLogger("shipscan.claims")

DEFAULT_LEASE_SECONDS = 120.0
LEASE_ENV = "SHIPSCAN_CLAIM_LEASE"

Taken = Literal["claimed", "elsewhere", "done"]


def lease_seconds() -> float:
    """`SHIPSCAN_CLAIM_LEASE` seconds (at least 1) when set to a number, else `DEFAULT_LEASE_SECONDS`."""
    try:
        return max(1.0, float(os.environ.get(LEASE_ENV, "")))
    except ValueError:
        return DEFAULT_LEASE_SECONDS


class ScanClaims:
    """The claims of one run (`run_id`); `rescan` and `started_at` (epoch) say what counts as done."""

    def __init__(self, run_id: int, *, rescan: bool, started_at: float, lease: float | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.run_id, self.rescan, self.started_at = run_id, rescan, started_at
        self.lease = lease_seconds() if lease is None else lease
        self.owner = claims.owner_id(run_id)
        self._clock = clock
        self._asked: list[tuple[ConversationRef, asyncio.Future[Taken]]] = []
        self._taker: asyncio.Task | None = None

    async def start(self) -> None:
        """Claim the run's liveness lease (other desktops see the run alive while it is renewed)."""
        await store_call(self._start, self._clock())

    def _start(self, now: float) -> None:
        claims.purge_expired(now)
        claims.claim(claims.run_key(self.run_id), self.owner, self.lease, run_id=self.run_id, now=now)

    async def take(self, ref: ConversationRef) -> Taken:
        """Claim `ref` (see the module docstring for the three answers).

        Takes asked for while the store thread is busy with earlier ones go together in one store call
        (`claims.claim_many`: one INSERT for the free ones): a scan window's first 150 conversations ask at
        once, and one at a time they queued behind each other on the store thread before any could fetch.
        A cancellation while waiting is delivered at the caller's next await, with the answer in hand (a
        claim is never made and forgotten)."""
        answer: asyncio.Future[Taken] = asyncio.get_running_loop().create_future()
        self._asked.append((ref, answer))
        if self._taker is None or self._taker.done():
            self._taker = asyncio.create_task(self._take_asked())
        return await uncut(answer)

    async def _take_asked(self) -> None:
        """Answer every queued take, a group per store call, until none is left."""
        while self._asked:
            group, self._asked = self._asked, []
            try:
                answers = await store_call(self._take_group, [ref for ref, _answer in group], self._clock())
            except BaseException as exc:
                for _ref, answer in group:
                    if not answer.done():
                        answer.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for ref, answer in group:
                if not answer.done():
                    answer.set_result(answers[ref.id])

    def _take_group(self, refs: list[ConversationRef], now: float) -> dict[str, Taken]:
        answers: dict[str, Taken] = {ref.id: "elsewhere" for ref in refs}
        claimed = claims.claim_many(answers, self.owner, self.lease, run_id=self.run_id, now=now)
        mine = [ref for ref in refs if ref.id in claimed]
        again = scans.plan(mine, rescan=self.rescan, run_id=self.run_id, scanned_since=self.started_at)
        for ref in mine:
            answers[ref.id] = "claimed" if again[ref.id] else "done"
            if not again[ref.id]:
                claims.release(ref.id, self.owner)
        return answers

    async def give_back(self, conversation_id: str) -> None:
        await store_call(claims.release, conversation_id, self.owner)

    async def keep_alive(self) -> None:
        """Renew every lease of this run every third of the lease, until cancelled."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await store_call(claims.renew, self.owner, self.lease, now=self._clock())
            except Exception:  # a database hiccup: the next renewal may work, and the lease has room
                log.exception("renewing the claims of run %s failed", self.run_id)

    async def finish(self) -> None:
        """Release everything this run still holds (its liveness lease included), after any take still
        being answered (a cancelled run's)."""
        if self._taker is not None and not self._taker.done():
            await asyncio.wait((self._taker,))
        await store_call(claims.release_all, self.owner)
