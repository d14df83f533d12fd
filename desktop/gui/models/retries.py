"""RetryQueueModel: registrations that wait or failed (`store.views.retry_queue`), refreshed on events.

The queue is loaded whole (hundreds of rows, not the shipments table's 100,000). Its rows keep their
order across refreshes (oldest registration first): `refresh()` removes the rows that left, updates the
ones that changed in place and appends the new ones, with the narrowest signal for each, never a reset;
so a view's selection and current row stay on the same registrations while the worker updates them.
Searching, filtering by reason and sorting are `RetryFilterProxy`'s (desktop.gui.models.retryfilter).
The queue is read on the GUI's database worker (`desktop.gui.models.loading`): `refresh()` returns at once,
the rows change when the answer arrives (`refreshed` is emitted then), and `wait()` blocks until it has.

Every row says WHY it waits in words (`reason_text`), and a row that only a person's approval can move
(Settings: approve every shipment by hand, and the shipment is not approved) says so instead of "queued".
"""

from __future__ import annotations

import time

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal

from desktop.gui.models.base import ROOT, ColumnTableModel
from desktop.gui.models.loading import Loader
from desktop.gui.models.shipments import STATE_LABELS, IdRole, SortRole, format_time
from desktop.store import views

COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "Number"), ("carrier", "Carrier"), ("state", "State"), ("kind", "Kind"), ("reason", "Reason"),
    ("attempts", "Attempts"), ("next", "Next attempt"), ("subject", "Conversation"))

KIND_LABELS = {"temporary": "temporary", "permanent": "needs an edit", "quota": "quota exhausted",
               "auth": "key refused", "needs_info": "needs postcode/country", "": ""}

#: Reason categories, for the view's filter (label shown, key): see `category`.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("Needs postcode/country", "needs_info"), ("Needs an edit", "permanent"),
    ("Gave up retrying", "gave_up"), ("Paused (quota or key)", "paused"),
    ("Retrying later", "backoff"), ("Ready to register", "ready"), ("Waits for approval", "approval"))

WAITS_APPROVAL = "waits for approval"
APPROVAL_REASON = ("Waits for approval: Settings say every shipment is approved by hand. Approve it (A) to "
                   "register it.")
#: Sort order of the State column: what needs a person first.
_STATE_ORDER = {"failed": 0, "paused": 1, WAITS_APPROVAL: 2, "queued": 3}
CategoryRole = Qt.ItemDataRole.UserRole + 3


def waits_approval(item: views.RetryItem, hand_approval: bool) -> bool:
    """Only a person's approval can move it: everything is approved by hand and this one is not."""
    return hand_approval and item.review != "approved"


def category(item: views.RetryItem, hand_approval: bool, now: float) -> str:
    """The reason category of a row (a key of `CATEGORIES`)."""
    if waits_approval(item, hand_approval):
        return "approval"
    if item.state == "paused":
        return "paused"
    if item.state == "failed":
        return item.kind if item.kind in ("needs_info", "permanent") else "gave_up"
    return "backoff" if item.next_attempt_at and item.next_attempt_at > now else "ready"


def reason_text(item: views.RetryItem, hand_approval: bool, now: float) -> str:
    """Why the row waits, in a support agent's words (the last error where there is one)."""
    if waits_approval(item, hand_approval):
        return APPROVAL_REASON
    if item.state in ("failed", "paused"):
        return item.last_error or "Registration failed."
    if item.next_attempt_at and item.next_attempt_at > now:
        last = f" Last attempt: {item.last_error}" if item.last_error else ""
        return f"Will try again at {format_time(item.next_attempt_at)}.{last}"
    return "Ready to register: the next attempt is now."


class RetryQueueModel(ColumnTableModel):
    """One row per `views.RetryItem`; `IdRole` gives the shipment id, `SortRole` a sortable value,
    `CategoryRole` the reason category (`category`)."""

    columns = COLUMNS
    #: The rows of the latest read are shown.
    refreshed = Signal()

    def __init__(self, parent=None, worker=None) -> None:
        super().__init__(parent)
        self._items: list[views.RetryItem] = []
        self.hand_approval = False
        self._loader = Loader(self, self._apply, worker, "retry queue")

    def _row_count(self) -> int:
        return len(self._items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not self.valid_row(index):
            return None
        item, key = self._items[index.row()], COLUMNS[index.column()][0]
        if role == IdRole:
            return item.shipment_id
        if role == CategoryRole:
            return category(item, self.hand_approval, time.time())
        if role == SortRole:
            return self._sort_value(item, key)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._display(item, key)
        return None

    # ------------------------------------------------------------------ refreshing in place

    def refresh(self, hand_approval: bool | None = None) -> None:
        """Load the queue again (on the database worker), keeping the rows' order (module docstring)."""
        if hand_approval is not None and hand_approval != self.hand_approval:
            self.hand_approval = hand_approval
            self._changed_all()
        self._loader.submit(views.retry_queue)

    def wait(self, timeout: float | None = 30.0) -> bool:
        """Block until the latest refresh is shown (tests, actions); False on a timeout."""
        return self._loader.wait(timeout)

    def loading(self) -> bool:
        return self._loader.loading()

    def _apply(self, queue: list[views.RetryItem]) -> None:
        fresh = {item.registration_id: item for item in queue}
        self._remove_gone(set(fresh))
        for row, item in enumerate(self._items):
            new = fresh.pop(item.registration_id)
            if new != item:
                self._items[row] = new
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        if fresh:
            first = len(self._items)
            self.beginInsertRows(ROOT, first, first + len(fresh) - 1)
            self._items.extend(sorted(fresh.values(), key=lambda i: i.registration_id))
            self.endInsertRows()
        self.refreshed.emit()

    def _remove_gone(self, keep: set[int]) -> None:
        """Remove the rows whose registration left the queue, one contiguous block at a time from the end."""
        row = len(self._items) - 1
        while row >= 0:
            if self._items[row].registration_id in keep:
                row -= 1
                continue
            last = row
            while row >= 0 and self._items[row].registration_id not in keep:
                row -= 1
            self.beginRemoveRows(ROOT, row + 1, last)
            del self._items[row + 1:last + 1]
            self.endRemoveRows()

    def _changed_all(self) -> None:
        if self._items:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._items) - 1, len(COLUMNS) - 1))

    # ------------------------------------------------------------------ reading

    def item(self, row: int) -> views.RetryItem | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def items(self) -> list[views.RetryItem]:
        return list(self._items)

    def row_of(self, shipment_id: int) -> int | None:
        for row, item in enumerate(self._items):
            if item.shipment_id == shipment_id:
                return row
        return None

    def state_label(self, item: views.RetryItem) -> str:
        if waits_approval(item, self.hand_approval):
            return WAITS_APPROVAL
        return STATE_LABELS.get(item.state, item.state)

    def _display(self, item: views.RetryItem, key: str) -> str:
        if key == "state":
            return self.state_label(item)
        if key == "kind":
            return KIND_LABELS.get(item.kind, item.kind)
        if key == "reason":
            return reason_text(item, self.hand_approval, time.time())
        if key == "next":
            return self._next_attempt(item)
        return str(getattr(item, key))

    def _sort_value(self, item: views.RetryItem, key: str):
        if key == "attempts":
            return item.attempts
        if key == "next":
            return item.next_attempt_at or 0.0
        if key == "state":
            return _STATE_ORDER.get(self.state_label(item), 9)
        return self._display(item, key).casefold()

    def _next_attempt(self, item: views.RetryItem) -> str:
        if waits_approval(item, self.hand_approval):
            return "after approval"
        if item.state == "failed":
            return "when you retry"
        if item.state == "paused":
            return "when registration resumes"
        if not item.next_attempt_at or item.next_attempt_at <= time.time():
            return "now"
        return format_time(item.next_attempt_at)
