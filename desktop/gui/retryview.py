"""The retry queue: every registration that waits or failed, with kind, attempts, last error, next attempt.

Actions on the selected rows: Retry (Ctrl+R), Retry all, Edit and retry, Enter postcode/country, Dismiss
(Delete). A banner appears while registration is paused (quota, key refused) with a Resume button.
The model refreshes when the bridge reports registration changes (the main window debounces that).
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.models.retries import RetryQueueModel
from desktop.gui.models.shipments import IdRole
from desktop.store import outbox, views


class RetryView(QWidget):
    def __init__(self, bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.model = RetryQueueModel(self)
        self.banner = QLabel()
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setWordWrap(True)
        self.banner.setAccessibleName("Registration paused")
        self.resume_button = QPushButton("Res&ume registration")
        self.resume_button.clicked.connect(self.resume)
        banner_row = QHBoxLayout()
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.resume_button)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Retry queue")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)  # one line per row; the tooltip has the whole error
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((190, 90, 90, 160, 70, 360)):
            self.table.setColumnWidth(column, width)
        self.count_label = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.count_label, 1)
        self.buttons = {}
        for key, text, slot in (("retry", "&Retry (Ctrl+R)", self.retry_selected), ("all", "Retry &all", self.retry_all),
                                ("edit", "&Edit and retry…", self.edit_and_retry),
                                ("destination", "Enter &postcode/country…", self.enter_destination),
                                ("dismiss", "&Dismiss (Del)", self.dismiss_selected)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons[key] = button
        layout = QVBoxLayout(self)
        layout.addLayout(banner_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        for shortcut, slot in (("Ctrl+R", self.retry_selected), (QKeySequence.StandardKey.Delete, self.dismiss_selected)):
            action = QAction(self.table)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(slot)
            self.table.addAction(action)
        self._saved: list[int] = []
        self.model.modelAboutToBeReset.connect(lambda: setattr(self, "_saved", self.selected_ids()))
        self.model.modelReset.connect(self._restore)
        self.ask_edit = None  # set by the main window: the shipments view's edit dialog
        self.ask_destination = self._ask_destination
        self.set_paused(None)

    def refresh(self) -> None:
        self.model.refresh()
        self.set_paused(outbox.pause_reason())  # a pause outlives restarts; Resume or Retry lifts it
        items = self.model.items()
        failed = sum(item.state == "failed" for item in items)
        self.count_label.setText(f"{len(items):,} waiting, {failed:,} failed")

    def set_paused(self, reason: str | None) -> None:
        self.banner.setText(f"Registration is paused: {reason}" if reason else "")
        self.banner.setVisible(bool(reason))
        self.resume_button.setVisible(bool(reason))

    def selected_ids(self) -> list[int]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.model.index(row, 0).data(IdRole) for row in rows]

    def _restore(self) -> None:
        wanted = set(self._saved)
        selection = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in range(self.model.rowCount()):
            if self.model.index(row, 0).data(IdRole) in wanted:
                selection.select(self.model.index(row, 0), flags)

    # ------------------------------------------------------------------ actions

    def retry_selected(self) -> None:
        if ids := self.selected_ids():
            self.bridge.retry(ids)

    def retry_all(self) -> None:
        self.bridge.retry(None)

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

    def enter_destination(self) -> None:
        item = self._current_item()
        if item is None:
            return
        values = self.ask_destination(item)
        if values is not None and self.bridge.set_destination(item.shipment_id, *values):
            self.bridge.retry([item.shipment_id])

    def _ask_destination(self, item: views.RetryItem) -> tuple[str, str] | None:
        from desktop.gui.editdialog import DestinationDialog

        dialog = DestinationDialog(item.number, item.destination_postcode, item.destination_country, self)
        return dialog.values() if dialog.exec() else None

    def _current_item(self) -> views.RetryItem | None:
        index = self.table.currentIndex()
        if not index.isValid() and self.model.rowCount() == 1:
            return self.model.item(0)
        return self.model.item(index.row()) if index.isValid() else None
