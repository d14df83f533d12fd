"""ShipmentTableModel: the shipments table over SQLite, loaded lazily page by page.

The model holds only the ordered ids of the matching rows (`store.views.shipment_ids`, one query that
sorts and filters in SQL) and a bounded cache of pages of rows loaded on demand when the view paints
them. So 100,000 shipments open in one query and scroll without loading them all.

Signals:
    reloaded(int): the ids were queried again; the argument is the new row count.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal

from desktop.gui.models.base import ColumnTableModel
from desktop.store import views

log = logging.getLogger("shipscan.gui")

#: (column key, header) in display order; keys are `views.SHIPMENT_COLUMNS` keys.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "Number"), ("carrier", "Carrier"), ("order", "Order/PO"), ("supplier", "Supplier"),
    ("shipped", "Shipped"), ("status", "Tracking status"), ("review", "Review"), ("registration", "Registration"),
    ("subject", "Conversation subject"), ("found", "Found at"))

STATE_LABELS = {
    "auto": "auto", "pending": "needs review", "approved": "approved", "rejected": "rejected",
    "waiting_approval": "waiting approval", "queued": "queued", "registered": "registered", "failed": "failed",
    "paused": "paused", "dismissed": "dismissed", "": "",
}

#: The invalid index that stands for "no parent" (a table has no tree).

IdRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2


def format_time(epoch: float | None) -> str:
    if not epoch:
        return ""
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


class ShipmentTableModel(ColumnTableModel):
    columns = COLUMNS

    """Rows of `store.views.ShipmentView`; sorting and filtering are re-queries, never done in Python."""

    PAGE_SIZE = 200
    MAX_PAGES = 60

    reloaded = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._ids: list[int] = []
        self._pages: collections.OrderedDict[int, dict[int, views.ShipmentView]] = collections.OrderedDict()
        self._filter = views.ShipmentFilter()
        self._sort = views.ShipmentSort()

    # ------------------------------------------------------------------ Qt overrides

    def _row_count(self) -> int:
        return len(self._ids)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        """Display text per column; never raises (a row that cannot load shows as empty)."""
        if not self.valid_row(index):
            return None
        if role == IdRole:
            return self._ids[index.row()]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, SortRole):
            return None
        try:
            row = self.row(index.row())
        except Exception:  # a database error must not escape into Qt's paint code
            log.exception("could not load shipment row %d", index.row())
            return None
        if row is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole and index.column() == 0 else None
        return display(row, COLUMNS[index.column()][0])

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self._sort = views.ShipmentSort(COLUMNS[column][0], order == Qt.SortOrder.DescendingOrder)
        self.reload()

    # ------------------------------------------------------------------ public API

    @property
    def filter(self) -> views.ShipmentFilter:
        return self._filter

    @property
    def sort_order(self) -> views.ShipmentSort:
        return self._sort

    def set_filter(self, flt: views.ShipmentFilter) -> None:
        if flt != self._filter:
            self._filter = flt
            self.reload()

    def reload(self) -> None:
        """Query the ids again (a model reset: the view restores its selection by id itself)."""
        ids = views.shipment_ids(self._filter, self._sort)
        self.beginResetModel()
        self._ids = ids
        self._pages.clear()
        self.endResetModel()
        self.reloaded.emit(len(ids))

    def refresh(self) -> None:
        """Pick up database changes: a reset if the rows changed, else only repaint the loaded rows."""
        ids = views.shipment_ids(self._filter, self._sort)
        if ids != self._ids:
            self.beginResetModel()
            self._ids = ids
            self._pages.clear()
            self.endResetModel()
            self.reloaded.emit(len(ids))
        elif ids:
            self._pages.clear()
            self.dataChanged.emit(self.index(0, 0), self.index(len(ids) - 1, len(COLUMNS) - 1))

    def shipment_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, shipment_id: int) -> int | None:
        try:
            return self._ids.index(shipment_id)
        except ValueError:
            return None

    def ids(self) -> list[int]:
        return list(self._ids)

    def row(self, row: int) -> views.ShipmentView | None:
        """The row at `row`, loading its page if needed (None if it vanished from the database)."""
        page = row // self.PAGE_SIZE
        cached = self._pages.get(page)
        if cached is None:
            chunk = self._ids[page * self.PAGE_SIZE:(page + 1) * self.PAGE_SIZE]
            cached = views.shipment_rows(chunk)
            self._pages[page] = cached
            if len(self._pages) > self.MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page)
        return cached.get(self._ids[row])


def display(row: views.ShipmentView, key: str) -> str:
    """The text shown for column `key` of `row` (also what copy and CSV export write)."""
    if key == "found":
        return format_time(row.found)
    value = row.value(key)
    if key in ("review", "registration"):
        return STATE_LABELS.get(str(value), str(value))
    return str(value)
