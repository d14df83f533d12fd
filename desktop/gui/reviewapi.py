"""The review actions the GUI may take, as one small object (so tests and the bridge share one seam).

Each method returns one `store.review.ReviewResult` per shipment; none raises for a shipment it cannot
act on (the result's message says why, in words a support agent understands).
"""

from __future__ import annotations

from collections.abc import Sequence

from desktop.store import outbox, review
from desktop.store.review import ReviewResult


class ReviewApi:
    def approve(self, ids: Sequence[int]) -> list[ReviewResult]:
        return review.approve(list(ids))

    def reject(self, ids: Sequence[int]) -> list[ReviewResult]:
        return review.reject(list(ids))

    def dismiss(self, ids: Sequence[int]) -> list[ReviewResult]:
        done = set(outbox.dismiss(list(ids)))
        return [ReviewResult(sid, sid in done, "Dismissed: it will not be registered." if sid in done
                             else "Only waiting or failed registrations can be dismissed.",
                             outbox.DISMISSED if sid in done else None) for sid in ids]

    def edit(self, shipment_id: int, **changes) -> list[ReviewResult]:
        """`changes`: tracking_number (normalised), courier, carrier, courier_code, order_number, validated."""
        return [review.edit(shipment_id, **changes)]

    def set_destination(self, shipment_id: int, *, postcode: str | None, country: str | None) -> list[ReviewResult]:
        return review.set_destination([shipment_id], postcode=postcode, country=country)
