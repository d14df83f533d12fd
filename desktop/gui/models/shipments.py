"""ShipmentTableModel: the shipments table, read lazily page by page on the database worker thread.

The model holds only the ordered ids of the matching rows (`store.views.shipment_ids`, one query that
sorts and filters in SQL) and a bounded cache of pages of rows loaded on demand when the view paints
them. So 100,000 shipments open in one query and scroll without loading them all.

Nothing here queries the database on the GUI thread (a server may be 50 ms away): `reload`, `refresh`,
`set_filter` and `sort` ask the `DbWorker` for the ids (with the pages last shown, so the visible rows
do not blink) and return at once; the answer is applied when it arrives. Until then the old rows stay
(`loading()` is True), and the answer to a request that a newer one superseded is dropped. A row whose
page is not loaded yet shows "…" while its page loads. A failed read keeps the rows shown and emits
`failed`: it never shows as an empty table. `wait()` (and `row()`) block for callers that need the
rows at once: tests and user actions, never painting.

Signals:
    reloaded(int): new ids were applied with a reset; the argument is the new row count.
    loading_changed(bool): an ids request started (True) or ended, applied or failed (False).
    failed(str): a read failed; the text names the cause.
"""

from __future__ import annotations

import collections
import functools
import logging

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from desktop.gui import dbworker
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

IdRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2


class ShipmentTableModel(ColumnTableModel):
    """Rows of `store.views.ShipmentView`; sorting and filtering are re-queries, never done in Python."""

    columns = COLUMNS

    PAGE_SIZE = 200
    MAX_PAGES = 60
    #: How many of the pages used last a reload reads with the ids (plus the first page).
    WARM_PAGES = 3

    reloaded = Signal(int)
    loading_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, parent=None, worker: dbworker.DbWorker | None = None) -> None:
        super().__init__(parent)
        self._worker = worker or dbworker.shared()
        self._ids: list[int] = []
        self._pages: collections.OrderedDict[int, dict[int, views.ShipmentView]] = collections.OrderedDict()
        self._filter = views.ShipmentFilter()
        self._sort = views.ShipmentSort()
        self._wanted = 0                          # generation of the latest ids request
        self._pending: dbworker.Job | None = None  # that request, while it is in flight
        self._reset_wanted = False                # a reload (not a refresh) waits among the requests
        self._ids_gen = 0                         # bumped when `_ids` is replaced; a page belongs to one
        self._page_jobs: dict[int, dbworker.Job] = {}
        self._failed_pages: set[int] = set()
        self._error: str | None = None

    # ------------------------------------------------------------------ Qt overrides

    def _row_count(self) -> int:
        return len(self._ids)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        """Display text per column; never raises and never waits (a row not loaded yet shows "…")."""
        if not self.valid_row(index):
            return None
        if role == IdRole:
            return self._ids[index.row()]
        if role in (Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole):
            return self._badge(index, role)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, SortRole):
            return None
        row = self._cached_row(index.row())
        if row is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole and index.column() == 0 else None
        return display(row, COLUMNS[index.column()][0])

    def _badge(self, index: QModelIndex | QPersistentModelIndex, role: int) -> QColor | None:
        """The status column's coloured badge: a colour swatch and coloured text per milestone."""
        if index.column() != STATUS_COLUMN:
            return None
        row = self._cached_row(index.row())
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
        """The filter asked for last (its rows may still be loading)."""
        return self._filter

    @property
    def sort_order(self) -> views.ShipmentSort:
        return self._sort

    def set_filter(self, flt: views.ShipmentFilter) -> None:
        if flt != self._filter:
            self._filter = flt
            self.reload()

    def reload(self) -> None:
        """Query the ids again; when they arrive, a model reset (the view restores its selection by id)."""
        self._request(reset=True)

    def refresh(self) -> None:
        """Pick up database changes: when the answer arrives, a reset if the rows changed, else a repaint."""
        self._request(reset=False)

    def wait(self, timeout: float | None = 30.0) -> bool:
        """Block until the ids asked for last are applied (or failed): for tests and actions that need the
        rows at once, never for painting. True when nothing is pending any more."""
        job = self._pending
        if job is not None and not self._worker.wait(job, timeout):
            return False
        return self._pending is None

    def loading(self) -> bool:
        """True while an ids request is in flight (the rows shown are the previous ones)."""
        return self._pending is not None

    def error(self) -> str | None:
        """The cause of the last failed read, until new rows are applied; None when all went well."""
        return self._error

    def shipment_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, shipment_id: int) -> int | None:
        try:
            return self._ids.index(shipment_id)
        except ValueError:
            return None

    def ids(self) -> list[int]:
        return list(self._ids)

    def row(self, row: int | None) -> views.ShipmentView | None:
        """The row at `row` (None if out of range or gone from the database), waiting for its page if it is
        not loaded yet: for actions and tests, never for painting. Raises the database's error if the
        page cannot be read."""
        if row is None or not 0 <= row < len(self._ids):
            return None
        page, shipment_id = row // self.PAGE_SIZE, self._ids[row]
        if page in self._pages:
            return self._cached_row(row)
        self._failed_pages.discard(page)  # asked explicitly: try again
        job = self._page_jobs.get(page) or self._request_page(page)
        # Waiting delivers earlier answers too, and new ids may move rows: answer for the shipment that
        # was at `row` when asked, from the page's own result.
        self._worker.wait(job)
        if job.error is not None:
            raise job.error
        return (job.result or {}).get(shipment_id)

    # ------------------------------------------------------------------ loading ids

    def _request(self, reset: bool) -> None:
        was_loading = self.loading()
        self._wanted += 1
        self._reset_wanted |= reset
        self._pending = self._worker.submit(
            _load_ids, self._filter, self._sort, self._warm_pages(), self.PAGE_SIZE,
            on_result=functools.partial(self._ids_loaded, self._wanted),
            on_error=functools.partial(self._ids_failed, self._wanted), key=(id(self), "ids"), owner=self)
        if not was_loading:
            self.loading_changed.emit(True)

    def _warm_pages(self) -> list[int]:
        """The first page and the pages used last: the ones the view most likely shows."""
        recent = list(self._pages)[-self.WARM_PAGES:]
        return sorted({0, *recent})

    def _ids_loaded(self, generation: int, result: tuple[list[int], dict]) -> None:
        if generation != self._wanted:
            return  # a newer request is on its way: this answer is stale
        ids, pages = result
        reset = self._reset_wanted or ids != self._ids
        self._pending, self._reset_wanted, self._error = None, False, None
        self._failed_pages.clear()
        if reset:
            self.beginResetModel()
            self._ids = ids
            self._ids_gen += 1
            self._page_jobs.clear()
            self._pages = collections.OrderedDict(pages)
            self.endResetModel()
        else:
            self._pages = collections.OrderedDict(pages)  # pages not read again may be stale: read on demand
            if ids:
                self.dataChanged.emit(self.index(0, 0), self.index(len(ids) - 1, len(COLUMNS) - 1))
        self.loading_changed.emit(False)
        if reset:
            self.reloaded.emit(len(ids))

    def _ids_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._wanted:
            return
        self._pending = None
        self._fail("could not load the shipments", exc)
        self.loading_changed.emit(False)

    def _fail(self, what: str, exc: BaseException) -> None:
        text = f"{what} from the database ({exc})"
        if text != self._error:  # a refresh every second that fails the same way: one traceback in the log
            log.warning("%s", text, exc_info=exc)
        self._error = text
        self.failed.emit(text)

    # ------------------------------------------------------------------ loading pages

    def row_if_loaded(self, row: int | None) -> views.ShipmentView | None:
        """The row at `row` if its page is loaded, else None (its page is asked for): never waits."""
        if row is None or not 0 <= row < len(self._ids):
            return None
        return self._cached_row(row)

    def _cached_row(self, row: int) -> views.ShipmentView | None:
        """The row if its page is loaded; else None, and its page is asked for."""
        page = row // self.PAGE_SIZE
        cached = self._pages.get(page)
        if cached is None:
            self._request_page(page)
            return None
        self._pages.move_to_end(page)
        return cached.get(self._ids[row])

    def _request_page(self, page: int) -> dbworker.Job | None:
        if page in self._page_jobs or page in self._failed_pages:
            return self._page_jobs.get(page)
        chunk = self._ids[page * self.PAGE_SIZE:(page + 1) * self.PAGE_SIZE]
        job = self._worker.submit(views.shipment_rows, chunk, owner=self,
                                  on_result=functools.partial(self._page_loaded, self._ids_gen, page),
                                  on_error=functools.partial(self._page_failed, self._ids_gen, page))
        self._page_jobs[page] = job
        return job

    def _page_loaded(self, generation: int, page: int, rows: dict[int, views.ShipmentView]) -> None:
        if generation != self._ids_gen:
            return  # the ids changed since: this page no longer exists
        self._page_jobs.pop(page, None)
        self._pages[page] = rows
        while len(self._pages) > self.MAX_PAGES:
            self._pages.popitem(last=False)
        first = page * self.PAGE_SIZE
        last = min(len(self._ids), first + self.PAGE_SIZE) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def _page_failed(self, generation: int, page: int, exc: BaseException) -> None:
        if generation != self._ids_gen:
            return
        self._page_jobs.pop(page, None)
        self._failed_pages.add(page)  # not asked again by every paint; the next refresh tries again
        self._fail("could not load shipment rows", exc)


def _load_ids(flt: views.ShipmentFilter, sort: views.ShipmentSort, pages: list[int],
              page_size: int) -> tuple[list[int], dict[int, dict[int, views.ShipmentView]]]:
    """Worker thread: the ids of `flt` in `sort` order, and the rows of `pages` of them (in one query: on a
    far server every query costs a round trip)."""
    ids = views.shipment_ids(flt, sort)
    chunks = {page: ids[page * page_size:(page + 1) * page_size] for page in pages if page * page_size < len(ids)}
    rows = views.shipment_rows([sid for chunk in chunks.values() for sid in chunk])
    return ids, {page: {sid: rows[sid] for sid in chunk if sid in rows} for page, chunk in chunks.items()}


def display(row: views.ShipmentView, key: str) -> str:
    """The text shown for column `key` of `row` (also what copy and CSV export write)."""
    if key in ("found", "message"):
        return format_time(row.value(key))
    if key == "status":
        badge = MILESTONE_BADGES.get(row.milestone)
        return badge[0] if badge else row.status
    if key == "checkpoint_at":
        return row.checkpoint_at.replace("T", " ")[:16]
    if key == "days":   # only for what Ship24 tracks: "0 days in transit" said nothing true of the rest
        tracked = row.registration == "registered"
        return "" if not tracked or row.days is None or row.days < 0 else str(row.days)
    value = row.value(key)
    if key in ("review", "registration"):
        return STATE_LABELS.get(str(value), str(value))
    return str(value)
