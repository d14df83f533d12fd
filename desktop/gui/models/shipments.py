"""ShipmentTableModel: the shipments table over SQLite, loaded lazily page by page.

The model holds only the ordered ids of the matching rows (`store.views.shipment_ids`, one query that
sorts and filters in SQL) and a bounded cache of pages of rows loaded on demand when the view paints
them. So 100,000 shipments open in one query and scroll without loading them all.

Signals:
    reloaded(int): the ids were queried again; the argument is the new row count.
"""

from __future__ import annotations

import collections
import logging

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from desktop.gui.formats import format_time
from desktop.gui.models.base import ColumnTableModel
from desktop.store import views

log = logging.getLogger("shipscan.gui")

#: (column key, header) in display order; keys are `views.SHIPMENT_COLUMNS` keys.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "Number"), ("carrier", "Carrier"), ("order", "Order/PO"), ("supplier", "Supplier"),
    ("customer", "Customer"), ("email", "Customer email"), ("shipped", "Shipped"), ("status", "Tracking status"),
    ("checkpoint", "Last checkpoint"), ("checkpoint_at", "Checkpoint time"), ("expected", "Expected delivery"),
    ("days", "Days in transit"), ("review", "Review"), ("registration", "Registration"),
    ("subject", "Conversation subject"), ("message", "Last message"), ("found", "Found at"))
#: Column keys of copy and export: the ten columns they had before issue 15 in their old order, then the
#: new ones, so a spreadsheet built on an older export still finds its columns where they were.
EXPORT_KEYS: tuple[str, ...] = ("number", "carrier", "order", "supplier", "shipped", "status", "review",
                                "registration", "subject", "found", "customer", "email", "message", "checkpoint",
                                "checkpoint_at", "expected", "days")
#: Where the default sort (newest found first) is.
FOUND_COLUMN = [key for key, _header in COLUMNS].index("found")
STATUS_COLUMN = [key for key, _header in COLUMNS].index("status")

#: Ship24 milestone -> (badge text, badge colour): green delivered, blue moving, amber to act, red problems.
MILESTONE_BADGES: dict[str, tuple[str, str]] = {
    "pending": ("Awaiting first scan", "#9e9e9e"), "info_received": ("Info received", "#78909c"),
    "in_transit": ("In transit", "#1e88e5"), "out_for_delivery": ("Out for delivery", "#8e24aa"),
    "available_for_pickup": ("Ready for pickup", "#f9a825"), "failed_attempt": ("Failed attempt", "#ef6c00"),
    "delivered": ("Delivered", "#2e7d32"), "exception": ("Exception", "#c62828"),
}

STATE_LABELS = {
    "auto": "auto", "pending": "needs review", "approved": "approved", "rejected": "rejected",
    "waiting_approval": "waiting approval", "queued": "queued", "registered": "registered", "failed": "failed",
    "paused": "paused", "dismissed": "dismissed", "": "",
}

#: The invalid index that stands for "no parent" (a table has no tree).

IdRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2


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
        if role in (Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole):
            return self._badge(index, role)
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

    def _badge(self, index: QModelIndex | QPersistentModelIndex, role: int) -> QColor | None:
        """The status column's coloured badge: a colour swatch and coloured text per milestone."""
        if index.column() != STATUS_COLUMN:
            return None
        try:
            row = self.row(index.row())
        except Exception:  # as in data(): never into Qt's paint code
            return None
        badge = MILESTONE_BADGES.get(row.milestone) if row is not None else None
        return QColor(badge[1]) if badge else None

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
    if key in ("found", "message"):
        return format_time(row.value(key))
    if key == "status":
        badge = MILESTONE_BADGES.get(row.milestone)
        return badge[0] if badge else row.status
    if key == "checkpoint_at":
        return row.checkpoint_at.replace("T", " ")[:16]
    if key == "days":
        return "" if row.days is None or row.days < 0 else str(row.days)
    value = row.value(key)
    if key in ("review", "registration"):
        return STATE_LABELS.get(str(value), str(value))
    return str(value)
