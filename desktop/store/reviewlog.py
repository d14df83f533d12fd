"""The review log: who did which review action to which shipment, and when (issue 16, team mode).

One row per shipment per action that changed it. The actions are the person's: approve, reject, edit,
destination (postcode/country), dismiss, retry, release and reject of a held group ("release",
"reject_held"), and undo. The automatic work of the app (registration attempts, status refresh) is not
review and is not logged here.

Contracts:
- `record(action, ids)` is called INSIDE the action's transaction, only for shipments the action changed;
  it writes the rows with `actor.current()` and the time, and bumps the change counter (`changes.bump`),
  so other desktops see the change and its author together.
- Reads (`review_actions`, `last_reviews`) are in `desktop.store.history_views`.
- Rows are never updated or deleted; a shipment that is gone keeps its log (no foreign key).
"""

from __future__ import annotations

from collections.abc import Iterable

from peewee import AutoField, FloatField, IntegerField, TextField

from desktop.store import actor, changes
from desktop.store.tables import BaseTable, utcnow

ACTIONS = ("approve", "reject", "edit", "destination", "dismiss", "retry", "release", "reject_held", "undo")
_CHUNK = 200


class ReviewLogRow(BaseTable):
    id = AutoField()
    at = FloatField(default=utcnow)
    actor = TextField()
    action = TextField()
    shipment_id = IntegerField(index=True)
    note = TextField(null=True)                # e.g. what an edit changed

    class Meta:
        table_name = "review_log"


def record(action: str, shipment_ids: Iterable[int], note: str | None = None) -> int:
    """Log `action` by the acting person on each of `shipment_ids` and bump the change counter.

    Call inside the action's transaction. Returns how many rows were written (0: nothing, no bump).

    Raises:
        ValueError: `action` is not one of `ACTIONS` (a programming error, not a user's).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown review action {action!r}")
    ids = list(dict.fromkeys(shipment_ids))
    if not ids:
        return 0
    who, now = actor.current(), utcnow()
    for start in range(0, len(ids), _CHUNK):
        rows = [{"at": now, "actor": who, "action": action, "shipment_id": sid, "note": note}
                for sid in ids[start:start + _CHUNK]]
        ReviewLogRow.insert_many(rows).execute()
    changes.bump()
    return len(ids)
