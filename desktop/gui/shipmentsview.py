"""The shipments view: filter bar, the lazily loaded table, the details pane, review actions, copy and export.

Review actions work on every selected row. Shortcuts (while the table has focus): A approve, R reject,
F2 edit, Ctrl+C copy; Ctrl+E exports the current view (filter and sort) to an Excel workbook or CSV
(`desktop.gui.export`); Ctrl+F jumps to the search. The details pane always shows the current row, and
nothing once the filter removed it. Dialogs are reached through `ask_edit`/`ask_export_path`, which tests
replace.

The view never queries the database on the GUI thread while it shows and filters (the server may be far):
the table's ids and pages, the status tabs' counts, the carrier list and the details pane are read on the
database worker (`desktop.gui.dbworker`) and shown when they arrive. `wait()` blocks until all of them
have arrived (tests, and actions that need the rows at once). Actions (copy, edit, export) still read
on the GUI thread, once, when the user asks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import time
from pathlib import Path

from PySide6.QtCore import QDate, QItemSelectionModel, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.gui import dbworker, export, shipmentsstate
from desktop.gui.countline import CountLabel
from desktop.gui.details import DetailsPane
from desktop.gui.formats import QT_DATE_FORMAT, plural
from desktop.gui.models.shipments import (
    COLUMNS,
    EXPORT_KEYS,
    FOUND_COLUMN,
    STATE_LABELS,
    ShipmentTableModel,
    display,
)
from desktop.gui.shipmentactions import ShipmentActions
from desktop.gui.trackingbar import TrackingBar
from desktop.gui.viewchoices import ColumnChooser, SavedFilters
from desktop.store import views

log = logging.getLogger("shipscan.gui")

REVIEW_CHOICES = (("Any review state", None), ("Needs review", "pending"), ("Auto", "auto"),
                  ("Approved", "approved"), ("Rejected", "rejected"))
REGISTRATION_CHOICES = (("Any registration", None),) + tuple(
    (STATE_LABELS[s].capitalize(), s) for s in ("waiting_approval", "queued", "registered", "failed", "paused",
                                                 "dismissed"))


class ShipmentsView(QWidget):
    def __init__(self, bridge, parent: QWidget | None = None, worker: dbworker.DbWorker | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.worker = worker or dbworker.shared()
        self.model = ShipmentTableModel(self, worker=self.worker)
        self._restoring = False
        self._saved_selection: tuple[list[int], int | None] = ([], None)
        self._filter_timer = QTimer(self, singleShot=True, interval=250)
        self._filter_timer.timeout.connect(self.apply_filter)
        # The groups' counts are read beside the table's rows, on a second worker thread with its own
        # connection (the two queries cost about the same; one after the other doubled a filter's wait),
        # and only when something else than the chosen group changed.
        self.counts_worker = dbworker.shared("shipscan-counts") if worker is None else self.worker
        self._counted: views.ShipmentFilter | None = None
        self.details = DetailsPane()
        self.table = self._build_table()
        self.splitter = splitter = QSplitter()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(self._build_filters())
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(self._build_buttons())
        splitter.addWidget(left)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([1000, 340])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._build_actions()
        self.menu_actions = ShipmentActions(self)   # right-click menu, double-click, bulk destination/retry
        self.columns = ColumnChooser(self)          # the header's right-click menu
        self.model.modelAboutToBeReset.connect(self._save_selection)
        self.model.modelReset.connect(self._restore_selection)
        self.model.reloaded.connect(lambda _count: self._update_counts())   # a filter set on the model itself
        self.ask_edit = self._ask_edit
        self.ask_export_path = self._ask_export_path

    # ------------------------------------------------------------------ building

    def _build_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.model)
        table.setAccessibleName("Shipments")
        table.setSortingEnabled(True)
        table.horizontalHeader().setSortIndicator(FOUND_COLUMN, Qt.SortOrder.DescendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setWordWrap(False)
        # Fixed row heights and column widths: the view never measures 100,000 rows.
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((190, 90, 100, 120, 140, 180, 90, 120, 220, 120, 100, 70, 100, 110, 260,
                                        130, 130)):
            table.setColumnWidth(column, width)
        table.selectionModel().currentRowChanged.connect(self._current_changed)
        return table

    def _build_filters(self) -> QVBoxLayout:
        self.text_filter = QLineEdit(placeholderText="Search number, order, supplier, carrier, subject, customer "
                                                     "(Ctrl+F)")
        self.text_filter.setToolTip("Every word must match (in any column); \"quotes\" keep a phrase together. "
                                    "Numbers may be typed with spaces or dashes.")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.setAccessibleName("Search shipments")
        self.text_filter.textChanged.connect(lambda _t: self._filter_timer.start())
        self.review_filter = self._combo("Review state filter", REVIEW_CHOICES)
        self.registration_filter = self._combo("Registration state filter", REGISTRATION_CHOICES)
        self.carrier_filter = self._combo("Carrier filter", (("Any carrier", None),))
        self.date_check = QCheckBox("Found &between")
        self.date_from, self.date_to = QDateEdit(calendarPopup=True), QDateEdit(calendarPopup=True)
        today = QDate.currentDate()
        self.date_from.setDate(today.addDays(-30))
        self.date_to.setDate(today)
        for edit, name in ((self.date_from, "Found from"), (self.date_to, "Found until")):
            edit.setAccessibleName(name)
            edit.setDisplayFormat(QT_DATE_FORMAT)  # ISO, as everywhere else, never the locale's "6 11 2026"
            edit.setEnabled(False)
            edit.dateChanged.connect(self.apply_filter)
        self.date_check.toggled.connect(self._dates_toggled)
        top, bottom = QHBoxLayout(), QHBoxLayout()
        top.addWidget(self.text_filter, 1)
        self.saved_filters = SavedFilters(self)   # built-in and saved filters
        for widget in (self.review_filter, self.registration_filter, self.carrier_filter,
                       self.saved_filters.button):
            top.addWidget(widget)
        for widget in (self.date_check, self.date_from, self.date_to):
            bottom.addWidget(widget)
        bottom.addStretch(1)
        self.tracking_bar = TrackingBar(worker=self.counts_worker)
        self.tracking_bar.changed.connect(self.apply_filter)
        rows = QVBoxLayout()
        rows.addWidget(self.tracking_bar)
        rows.addLayout(top)
        rows.addLayout(bottom)
        return rows

    def _combo(self, name: str, choices) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        for label, value in choices:
            combo.addItem(label, value)
        combo.currentIndexChanged.connect(self.apply_filter)
        return combo

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.count_label = CountLabel(self.model, lambda: getattr(self.bridge, "messages", None))
        row.addWidget(self.count_label, 1)
        self.approve_button = QPushButton("&Approve (A)")
        self.reject_button = QPushButton("&Reject (R)")
        self.edit_button = QPushButton("&Edit… (F2)")
        self.export_button = QPushButton("E&xport… (Ctrl+E)")
        self.destination_button = QPushButton("Dest&ination…")
        self.retry_button = QPushButton("Retry no&w")
        for button, slot in ((self.approve_button, self.approve_selected), (self.reject_button, self.reject_selected),
                             (self.edit_button, self.edit_current), (self.destination_button, self._bulk_destination),
                             (self.retry_button, self._bulk_retry), (self.export_button, self.export_view)):
            button.clicked.connect(slot)
            row.addWidget(button)
        return row

    def _build_actions(self) -> None:
        def action(text: str, shortcut, slot, widget: QWidget, context=Qt.ShortcutContext.WidgetShortcut) -> QAction:
            act = QAction(text, widget)
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(context)
            act.triggered.connect(slot)
            widget.addAction(act)
            return act

        self.actions_by_name = {
            "approve": action("Approve", "A", self.approve_selected, self.table),
            "reject": action("Reject", "R", self.reject_selected, self.table),
            "edit": action("Edit", "F2", self.edit_current, self.table),
            "copy": action("Copy", QKeySequence.StandardKey.Copy, self.copy_selection, self.table),
            "export": action("Export", "Ctrl+E", self.export_view, self,
                             Qt.ShortcutContext.WidgetWithChildrenShortcut),
            "find": action("Find", QKeySequence.StandardKey.Find, self.text_filter.setFocus, self,
                           Qt.ShortcutContext.WidgetWithChildrenShortcut),
        }

    # ------------------------------------------------------------------ filtering and loading

    def current_filter(self) -> views.ShipmentFilter:
        since = until = None
        if self.date_check.isChecked():
            since = self.date_from.date().startOfDay().toSecsSinceEpoch()
            until = self.date_to.date().addDays(1).startOfDay().toSecsSinceEpoch()
        return views.ShipmentFilter(text=self.text_filter.text(), review=self.review_filter.currentData(),
                                    registration=self.registration_filter.currentData(),
                                    carrier=self.carrier_filter.currentData(), since=since, until=until,
                                    tracking=self.tracking_bar.group(), stale_days=self.tracking_bar.stale_days())

    def apply_filter(self, *_args) -> None:
        self._filter_timer.stop()
        self.model.set_filter(self.current_filter())
        self._update_counts()

    def reload(self) -> None:
        """Query again, keeping the selection; also refresh the carrier list."""
        self._refresh_carriers()
        self.model.refresh()
        self._counted = None          # the data may have changed: count again
        self._update_counts()
        self._read_details()

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until every read the view asked for (rows, counts, details) arrived and was shown. For tests
        and actions; False if `timeout` seconds passed first."""
        deadline = time.monotonic() + timeout
        if not self.worker.drain(timeout):
            return False
        return self.counts_worker.drain(max(0.0, deadline - time.monotonic()))

    def idle(self) -> bool:
        """True when no read the view asked for is queued or running."""
        return self.worker.idle() and self.counts_worker.idle()

    def _refresh_carriers(self) -> None:
        self.worker.submit(views.carriers, on_result=self._set_carriers, key=(id(self), "carriers"), owner=self)

    def _set_carriers(self, names: list[str]) -> None:
        current = self.carrier_filter.currentData()
        existing = [self.carrier_filter.itemData(i) for i in range(1, self.carrier_filter.count())]
        if names == existing:
            return
        self.carrier_filter.blockSignals(True)
        while self.carrier_filter.count() > 1:
            self.carrier_filter.removeItem(1)
        for name in names:
            self.carrier_filter.addItem(name, name)
        self.carrier_filter.setCurrentIndex(max(0, self.carrier_filter.findData(current)))
        self.carrier_filter.blockSignals(False)

    def _dates_toggled(self, on: bool) -> None:
        self._dates_toggled_widgets(on)
        self.apply_filter()

    def _dates_toggled_widgets(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)

    def _update_counts(self) -> None:
        """The status groups' counts under the other filters (one query; none if they did not change)."""
        key = dataclasses.replace(self.model.filter, tracking=None)
        if key != self._counted:
            self.tracking_bar.count(key)
            self._counted = key

    # ------------------------------------------------------------------ selection

    def selected_ids(self) -> list[int]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [sid for sid in (self.model.shipment_id(r) for r in rows) if sid is not None]

    def current_id(self) -> int | None:
        index = self.table.currentIndex()
        return self.model.shipment_id(index.row()) if index.isValid() else None

    def select_ids(self, ids: list[int], current: int | None = None) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        positions = {sid: row for row, sid in enumerate(self.model.ids())} if len(ids) > 20 else None
        for sid in ids:
            row = positions.get(sid) if positions is not None else self.model.row_of(sid)
            if row is not None:
                selection.select(self.model.index(row, 0), flags)
        row = self.model.row_of(current) if current is not None else None
        if row is not None:
            selection.setCurrentIndex(self.model.index(row, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
            self.table.scrollTo(self.model.index(row, 0))

    def _save_selection(self) -> None:
        self._saved_selection = (self.selected_ids()[:2000], self.current_id())

    def _restore_selection(self) -> None:
        """After a reset: select again what is still there, and let the details follow the current row.

        A reset does not emit currentRowChanged, so without the last call the pane would keep showing (and
        "Open in Front" would open) a shipment the filter removed."""
        ids, current = self._saved_selection
        self._restoring = True    # new rows arrived (a filter, a refresh): the details follow without waiting
        try:
            if ids or current is not None:
                self.select_ids(ids, current)
        finally:
            self._restoring = False
        self._read_details()

    def _current_changed(self, *_args) -> None:
        """The user moved to another row: its details at once (one read, as for any action: the pane's
        links must be this row's when the next click uses them); after new rows, on the worker."""
        if self._restoring:
            return  # `_restore_selection` reads them next
        sid = self.current_id()
        self.details.show_detail(views.shipment_detail(sid) if sid is not None else None)

    def _read_details(self) -> None:
        """Show the current row's details once the worker read them (none at once when no row is current)."""
        sid = self.current_id()
        if sid is None:
            self.details.show_detail(None)
            return
        self.worker.submit(views.shipment_detail, sid, on_result=functools.partial(self._show_detail, sid),
                           key=(id(self), "detail"), owner=self)

    def _show_detail(self, shipment_id: int, detail: views.ShipmentDetail | None) -> None:
        if self.current_id() == shipment_id:  # else the user moved on: a newer read is on its way
            self.details.show_detail(detail)

    # ------------------------------------------------------------------ actions

    def approve_selected(self) -> None:
        if ids := self.selected_ids():
            self.bridge.approve(ids)

    def reject_selected(self) -> None:
        if ids := self.selected_ids():
            self.bridge.reject(ids)

    def _bulk_destination(self) -> None:
        self.menu_actions.set_destination()

    def _bulk_retry(self) -> None:
        self.menu_actions.retry()

    def edit_current(self) -> None:
        sid = self.current_id()
        row = self.model.row(self.model.row_of(sid)) if sid is not None else None
        if row is None:
            return
        changes = self.ask_edit(row)
        if changes:
            self.bridge.edit(sid, **changes)

    def _ask_edit(self, row: views.ShipmentView) -> dict | None:
        from desktop.gui.editdialog import EditShipmentDialog

        dialog = EditShipmentDialog(row.number, row.courier, row.order, self)
        return dialog.changes() if dialog.exec() else None

    def copy_selection(self) -> None:
        """Copy the selected rows as tab-separated text (what spreadsheets paste)."""
        lines = []
        for sid in self.selected_ids():
            row = self.model.row(self.model.row_of(sid))
            if row is not None:
                lines.append("\t".join(_cell_values(row)))
        QGuiApplication.clipboard().setText("\n".join(lines))

    def export_view(self) -> None:
        path = self.ask_export_path()
        if path:
            try:
                count = self.export_file(Path(path))
            except OSError as exc:  # a full disk, a read-only folder, a file open in Excel (Windows)
                self.bridge.messages.error(f"Could not export to {path}: {exc.strerror or exc}. "
                                           "Choose another file or folder.")
                return
            self.bridge.messages.info(f"Exported {plural(count, 'shipment')} to {path}.")

    def _ask_export_path(self) -> str | None:
        default = f"shipments-{dt.date.today().isoformat()}.xlsx"
        path, chosen = QFileDialog.getSaveFileName(self, "Export shipments", default,
                                                   f"{export.XLSX_FILTER};;{export.CSV_FILTER}")
        if path and not Path(path).suffix:
            path += ".csv" if chosen == export.CSV_FILTER else ".xlsx"
        return path or None

    def export_file(self, path: Path) -> int:
        """Write every row of the current view (its filter and sort) to `path` (.xlsx: a workbook whose
        cells are all text; else CSV), with a link to each conversation; returns the row count."""
        headers = dict(COLUMNS)
        return export.export_rows(path, [headers[key] for key in EXPORT_KEYS],
                                  views.iter_shipments(self.model.filter, self.model.sort_order), _cell_values)

    # ------------------------------------------------------------------ remembered between sessions

    def save_state(self, state: QSettings) -> None:
        """Write the filters, the sort, the column widths and the pane split to `state` (group "shipments")."""
        shipmentsstate.save(self, state)

    def restore_state(self, state: QSettings) -> None:
        """Apply what `save_state` wrote (missing or broken values keep the defaults); one query at the end."""
        shipmentsstate.restore(self, state)
        self.apply_filter()


def _cell_values(row: views.ShipmentView) -> list[str]:
    return [display(row, key) for key in EXPORT_KEYS]

