"""The review actions the GUI may take, as one small object (so tests and the bridge share one seam).

Each method returns one `store.review.ReviewResult` per shipment; none raises for a shipment it cannot
act on (the result's message says why, in words a support agent understands).

Undo (Ctrl+Z): `reject` and `dismiss` remember the state they changed (`store.undo` snapshots, before and
after); `undo()` restores the last such action once, shipments changed since excepted, and `can_undo` says
whether there is one. Only the last reject or dismiss is kept: a newer one replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence

from desktop.store import outbox, review, undo
from desktop.store.review import ReviewResult


class ReviewApi:
    def __init__(self) -> None:
        self._undo: tuple[str, list[undo.Snapshot], list[undo.Snapshot]] | None = None

    @property
    def can_undo(self) -> str | None:
        """The verb of the action `undo()` would revert ("Reject", "Dismiss"), None when there is none."""
        return self._undo[0] if self._undo else None

    def undo(self) -> list[ReviewResult]:
        """Revert the last reject or dismiss (once); [] when there is nothing to undo."""
        if self._undo is None:
            return []
        _verb, before, after = self._undo
        self._undo = None
        return undo.restore(before, after)

    def _undoable(self, verb: str, ids: Sequence[int], action) -> list[ReviewResult]:
        before = undo.snapshot(ids)
        results = action()
        changed = [r.shipment_id for r in results if r.ok and r.changed]
        if changed:
            keep = set(changed)
            self._undo = (verb, [s for s in before if s.shipment_id in keep], undo.snapshot(changed))
        return results

    def approve(self, ids: Sequence[int]) -> list[ReviewResult]:
        return review.approve(list(ids))

    def reject(self, ids: Sequence[int]) -> list[ReviewResult]:
        return self._undoable("Reject", ids, lambda: review.reject(list(ids)))

    def dismiss(self, ids: Sequence[int]) -> list[ReviewResult]:
        return self._undoable("Dismiss", ids, lambda: self._dismiss(ids))

    def _dismiss(self, ids: Sequence[int]) -> list[ReviewResult]:
        done = set(outbox.dismiss(list(ids)))
        return [ReviewResult(sid, sid in done, "Dismissed: it will not be registered." if sid in done
                             else "Only waiting or failed registrations can be dismissed.",
                             outbox.DISMISSED if sid in done else None) for sid in ids]

    def edit(self, shipment_id: int, **changes) -> list[ReviewResult]:
        """`changes`: tracking_number (normalised), courier, carrier, courier_code, order_number, validated."""
        return [review.edit(shipment_id, **changes)]

    def set_destination(self, shipment_id: int, *, postcode: str | None, country: str | None) -> list[ReviewResult]:
        return review.set_destination([shipment_id], postcode=postcode, country=country)
