"""RetryQueueModel: registrations that wait or failed (`store.views.retry_queue`), refreshed on events.

The queue is small compared with the shipments table, so it is loaded whole. `refresh()` compares the new
rows with the old ones and emits the narrowest change (dataChanged when only values moved, a reset when
rows came or went), so a view's selection survives the worker's frequent updates.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from desktop.gui.models.base import ColumnTableModel
from desktop.gui.models.shipments import STATE_LABELS, IdRole, format_time
from desktop.store import views

COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "Number"), ("carrier", "Carrier"), ("state", "State"), ("kind", "Kind"),
    ("attempts", "Attempts"), ("last_error", "Last error"), ("next", "Next attempt"))

KIND_LABELS = {"temporary": "temporary", "permanent": "needs an edit", "quota": "quota exhausted",
               "needs_info": "needs postcode/country", "": ""}


class RetryQueueModel(ColumnTableModel):
    columns = COLUMNS

    """One row per `views.RetryItem`; `IdRole` gives the shipment id."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[views.RetryItem] = []

    def _row_count(self) -> int:
        return len(self._items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not self.valid_row(index):
            return None
        item = self._items[index.row()]
        if role == IdRole:
            return item.shipment_id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._display(item, COLUMNS[index.column()][0])
        return None

    def refresh(self) -> None:
        items = views.retry_queue()
        if [i.registration_id for i in items] != [i.registration_id for i in self._items]:
            self.beginResetModel()
            self._items = items
            self.endResetModel()
        elif items != self._items:
            self._items = items
            self.dataChanged.emit(self.index(0, 0), self.index(len(items) - 1, len(COLUMNS) - 1))

    def item(self, row: int) -> views.RetryItem | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def items(self) -> list[views.RetryItem]:
        return list(self._items)

    @staticmethod
    def _display(item: views.RetryItem, key: str) -> str:
        if key == "state":
            return STATE_LABELS.get(item.state, item.state)
        if key == "kind":
            return KIND_LABELS.get(item.kind, item.kind)
        if key == "next":
            return _next_attempt(item)
        return str(getattr(item, key))


def _next_attempt(item: views.RetryItem) -> str:
    if item.state == "failed":
        return "when you retry"
    if item.state == "paused":
        return "when registration resumes"
    if not item.next_attempt_at or item.next_attempt_at <= time.time():
        return "now"
    return format_time(item.next_attempt_at)
