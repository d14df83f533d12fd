"""The retry queue: every registration that waits or failed, why (a visible Reason column), and its evidence.

- Held conversations (`HeldPanel`, issue 13) come first: one row per conversation with too many numbers.
- Search (Ctrl+F), a filter by reason and sorting by any column (click a header) work over the whole
  queue; rows keep their order across the worker's refreshes and the selection stays on its rows.
- The details pane shows the selected row's evidence, flags and an "Open in Front" button.
- Actions on the selected rows: Retry (Ctrl+R: exactly those rows, even while registration is paused),
  Retry all, Approve (A), Edit and retry, Enter postcode/country (the dialog names what is missing),
  Dismiss (Delete). Each says what it did in the status area and in the line under the table.
- With "approve every shipment by hand" on, a row whose shipment is not approved says it waits for
  approval (never just "queued") until someone approves it.
A banner appears while registration is paused (quota, key refused) with a Resume button.

The queue, the held groups, the pause and the selected row's details are read on the GUI's database
worker (`desktop.gui.dbworker`): `refresh()` returns at once and each part shows when its answer arrives,
so a scan's refreshes never wait for the database here; `wait()` blocks until all of them did (tests).
Actions (Retry all's count, Edit's row) still read what they need at once.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.gui import dbworker
from desktop.gui.details import DetailsPane
from desktop.gui.heldpanel import HeldPanel
from desktop.gui.models.loading import Loader
from desktop.gui.models.retries import APPROVAL_REASON, CATEGORIES, RetryQueueModel, waits_approval
from desktop.gui.models.retryfilter import RetryFilterProxy
from desktop.gui.models.shipments import IdRole
from desktop.store import outbox, views


class RetryView(QWidget):
    def __init__(self, bridge, parent: QWidget | None = None, worker: dbworker.DbWorker | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.worker = worker or dbworker.shared()
        self.model = RetryQueueModel(self, self.worker)
        self.model.refreshed.connect(self._refreshed)
        self.proxy = RetryFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.held = HeldPanel(bridge)
        self.held.changed.connect(self.refresh)
        self.details = DetailsPane()
        self.table = self._build_table()
        self.feedback = QLabel()
        self.feedback.setTextFormat(Qt.TextFormat.PlainText)
        self.feedback.setAccessibleName("Retry queue feedback")
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_banner())
        layout.addWidget(self.held)
        layout.addLayout(self._build_filters())
        layout.addWidget(splitter, 1)
        layout.addWidget(self.feedback)
        layout.addLayout(self._build_buttons())
        self._build_shortcuts()
        self.ask_edit = None  # set by the main window: the shipments view's edit dialog
        self.ask_destination = self._ask_destination
        self._pause = Loader(self, self.set_paused, self.worker, "pause")
        self.set_paused(None)
        self.held.setVisible(False)

    # ------------------------------------------------------------------ building

    def _build_banner(self) -> QHBoxLayout:
        self.banner = QLabel()
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setWordWrap(True)
        self.banner.setAccessibleName("Registration paused")
        self.resume_button = QPushButton("Res&ume registration")
        self.resume_button.clicked.connect(self.resume)
        row = QHBoxLayout()
        row.addWidget(self.banner, 1)
        row.addWidget(self.resume_button)
        return row

    def _build_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.proxy)
        table.setAccessibleName("Retry queue")
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.verticalHeader().hide()
        table.setWordWrap(False)  # one line per row; the tooltip has the whole reason
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # unsorted: the queue's stable order
        table.setSortingEnabled(True)
        for column, width in enumerate((180, 80, 120, 150, 380, 70, 130)):
            table.setColumnWidth(column, width)
        table.selectionModel().currentRowChanged.connect(self._show_current)
        return table

    def _build_filters(self) -> QHBoxLayout:
        self.search = QLineEdit(placeholderText="Search number, carrier, reason, conversation (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the retry queue")
        self.search.textChanged.connect(self._filter_changed)
        self.reason_filter = QComboBox()
        self.reason_filter.setAccessibleName("Reason filter")
        self.reason_filter.addItem("Any reason", None)
        for label, key in CATEGORIES:
            self.reason_filter.addItem(label, key)
        self.reason_filter.currentIndexChanged.connect(self._filter_changed)
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(self.reason_filter)
        return row

    def _build_buttons(self) -> QHBoxLayout:
        self.count_label = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.count_label, 1)
        self.buttons = {}
        for key, text, slot in (("retry", "&Retry (Ctrl+R)", self.retry_selected), ("all", "Retry &all", self.retry_all),
                                ("approve", "Appro&ve (A)", self.approve_selected),
                                ("edit", "&Edit and retry…", self.edit_and_retry),
                                ("destination", "Enter &postcode/country…", self.enter_destination),
                                ("dismiss", "&Dismiss (Del)", self.dismiss_selected)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
            self.buttons[key] = button
        return row

    def _build_shortcuts(self) -> None:
        for shortcut, slot, widget in (("Ctrl+R", self.retry_selected, self.table),
                                       (QKeySequence.StandardKey.Delete, self.dismiss_selected, self.table),
                                       ("A", self.approve_selected, self.table),
                                       (QKeySequence.StandardKey.Find, self.search.setFocus, self)):
            action = QAction(widget)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut if widget is self
                                      else Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(slot)
            widget.addAction(action)

    # ------------------------------------------------------------------ loading

    def refresh(self) -> None:
        """Read the queue, the held groups and the pause again; each shows when it arrives."""
        self.model.refresh(hand_approval=self.hand_approval())
        self.held.refresh()
        self._pause.submit(outbox.pause_reason)  # a pause outlives restarts; Resume or Retry lifts it
        self._show_counts()

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until every read asked for so far arrived and was shown (tests, actions); False on a
        timeout."""
        return self.worker.drain(timeout)

    def _refreshed(self) -> None:
        self._show_counts()
        self._show_current()

    def hand_approval(self) -> bool:
        """Whether only approved shipments register (`Bridge.hand_approval`)."""
        return self.bridge.hand_approval()

    def set_paused(self, reason: str | None) -> None:
        self.banner.setText(f"Registration is paused: {reason}" if reason else "")
        self.banner.setVisible(bool(reason))
        self.resume_button.setVisible(bool(reason))

    def _filter_changed(self, *_args) -> None:
        self.proxy.set_text(self.search.text())
        self.proxy.set_category(self.reason_filter.currentData())
        self._show_counts()

    def _show_counts(self) -> None:
        items = self.model.items()
        failed = sum(item.state == "failed" for item in items)
        shown = self.proxy.rowCount()
        text = f"{len(items):,} waiting, {failed:,} failed"
        self.count_label.setText(text + (f" ({shown:,} shown)" if shown != len(items) else ""))

    def _show_current(self, *_args) -> None:
        """The current row's details, read on the database worker (rows move while a scan refreshes)."""
        item = self._current_item()
        if item is None:
            self.details.show_detail(None)
            return
        self.worker.submit(views.shipment_detail, item.shipment_id, key=(id(self), "detail"), owner=self,
                           on_result=functools.partial(self._show_detail, item.shipment_id))

    def _show_detail(self, shipment_id: int, detail: views.ShipmentDetail | None) -> None:
        item = self._current_item()
        if item is not None and item.shipment_id == shipment_id:   # else a newer read is on its way
            self.details.show_detail(detail)

    # ------------------------------------------------------------------ selection

    def selected_ids(self) -> list[int]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.proxy.index(row, 0).data(IdRole) for row in rows]

    def _current_item(self) -> views.RetryItem | None:
        index = self.table.currentIndex()
        if not index.isValid() and self.proxy.rowCount() == 1:
            index = self.proxy.index(0, 0)
        return self.model.item(self.proxy.mapToSource(index).row()) if index.isValid() else None

    def _waiting_approval(self, ids: list[int] | None) -> list[int]:
        """Of `ids` (None = the whole queue), those only an approval can move."""
        hand = self.hand_approval()
        wanted = None if ids is None else set(ids)
        return [i.shipment_id for i in self.model.items()
                if waits_approval(i, hand) and (wanted is None or i.shipment_id in wanted)]

    # ------------------------------------------------------------------ actions

    def retry_selected(self) -> None:
        """Retry exactly the selected rows (even while paused: the others stay paused)."""
        if ids := self.selected_ids():
            self.bridge.retry(ids)
            self._tell(f"Retrying {len(ids):,} selected registration{'s' if len(ids) != 1 else ''} now.", ids)

    def retry_all(self) -> None:
        self.model.refresh(hand_approval=self.hand_approval())
        self.model.wait()   # an action: the count it reports is the queue's now
        count = self.model.rowCount()
        self.bridge.retry(None)
        if getattr(self.bridge, "worker", None) is not None:
            self._tell(f"Retry all: {count:,} registration{'s' if count != 1 else ''} queued for an attempt "
                       "now." if count else "Retry all: nothing waits.", None)

    def approve_selected(self) -> None:
        """Approve the selected shipments and retry them (what a row waiting for approval needs)."""
        if ids := self.selected_ids():
            self.bridge.approve(ids)
            self.bridge.retry(ids)

    def dismiss_selected(self) -> None:
        if ids := self.selected_ids():
            self.bridge.dismiss(ids)

    def resume(self) -> None:
        self.bridge.resume_registration()

    def edit_and_retry(self) -> None:
        item = self._current_item()
        if item is None or self.ask_edit is None:
            return
        rows = views.shipment_rows([item.shipment_id])
        if item.shipment_id not in rows:
            return
        changes = self.ask_edit(rows[item.shipment_id])
        if changes and self.bridge.edit(item.shipment_id, **changes):
            self.bridge.retry([item.shipment_id])
            self._tell("Saved and queued for an attempt now.", [item.shipment_id])

    def enter_destination(self) -> None:
        item = self._current_item()
        if item is None:
            return
        values = self.ask_destination(item)
        if values is not None and self.bridge.set_destination(item.shipment_id, *values):
            self.bridge.retry([item.shipment_id])
            self._tell("Destination saved and queued for an attempt now.", [item.shipment_id])

    def _ask_destination(self, item: views.RetryItem) -> tuple[str, str] | None:
        dialog = self.destination_dialog(item)
        return dialog.values() if dialog.exec() else None

    def destination_dialog(self, item: views.RetryItem):
        """The destination dialog for `item`, naming the field Ship24 is missing."""
        from desktop.gui.retrydialogs import MissingDestinationDialog

        return MissingDestinationDialog(item, self)

    def _tell(self, text: str, ids: list[int] | None) -> None:
        """Say what an action did, adding how many of its rows still need an approval first."""
        waiting = self._waiting_approval(ids)
        if waiting:
            text += (f" {len(waiting):,} of them wait{'s' if len(waiting) == 1 else ''} for approval first: "
                     f"{APPROVAL_REASON.split(': ', 1)[1]}")
        self.feedback.setText(text)
        self.bridge.messages.info(text)
