"""Scan history: past runs with their parameters, counts, durations, outcome and who started them; below
them the review log: who approved, rejected, edited, dismissed, retried or released which shipment, and when
(issue 16: in team mode the whole team's, since every desktop writes one shared log).

Re-run (the button, the row's right-click menu) asks for a scan of the selected run's range and inboxes
(rescan off); the main window starts it (`desktop.gui.rescan.rerun`).

Both tables read on the GUI's database worker: `refresh()` returns at once and they update when the answers
arrive (`wait()` blocks until then: tests).

Signals:
    rerun_requested(RunView): the run whose range and inboxes to scan again.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.models.history import ReviewLogModel, RunHistoryModel


class HistoryView(QWidget):
    rerun_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None, worker=None) -> None:
        super().__init__(parent)
        self._worker = worker
        self.model = RunHistoryModel(self, worker)
        self.model.refreshed.connect(self._selection_changed)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Scan history")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(self._build_rerun())
        layout.addWidget(QLabel("Review actions (who did what)"))
        layout.addWidget(self._build_reviews())

    def refresh(self) -> None:
        """Read the runs and the review log again; they show when they arrive."""
        self.model.refresh()
        self.reviews.refresh()

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until both tables show their latest read (tests); False on a timeout."""
        return self.model.wait(timeout) and self.reviews.wait(timeout)

    def _build_reviews(self) -> QTableView:
        self.reviews = ReviewLogModel(self, worker=self._worker)
        self.review_table = QTableView()
        self.review_table.setModel(self.reviews)
        self.review_table.setAccessibleName("Review actions")
        self.review_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.review_table.verticalHeader().hide()
        self.review_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.review_table.horizontalHeader().setStretchLastSection(True)
        return self.review_table

    # ------------------------------------------------------------------ re-run

    def _build_rerun(self) -> QHBoxLayout:
        self.rerun_button = QPushButton("Re-r&un this range")
        self.rerun_button.setToolTip("Scan the selected run's range and inboxes again (unchanged conversations "
                                     "cost nothing).")
        self.rerun_button.clicked.connect(self.request_rerun)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_menu)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.rerun_button)
        self._selection_changed()
        return row

    def selected_run(self):
        """The selected run (a RunView), None when no row is selected."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.run(rows[0].row()) if rows else None

    def request_rerun(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.rerun_requested.emit(run)

    def menu_at(self, pos: QPoint) -> QMenu | None:
        """The row's menu (None off the rows); selects the row first. Tests trigger it by objectName."""
        index = self.table.indexAt(pos)
        if not index.isValid():
            return None
        self.table.selectRow(index.row())
        menu = QMenu(self.table)
        action = menu.addAction("Re-r&un this range", self.request_rerun)
        action.setObjectName("rerun")
        return menu

    def _show_menu(self, pos: QPoint) -> None:
        menu = self.menu_at(pos)
        if menu is not None:
            menu.exec(self.table.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def _selection_changed(self, *_args) -> None:
        self.rerun_button.setEnabled(bool(self.table.selectionModel().selectedRows()))
