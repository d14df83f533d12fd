"""Held conversations: one row per conversation whose numbers are too many for one order (issue 13).

Such a conversation (a manifest, a report, a hostile email) registers nothing until a person looks at its
evidence and acts on it whole: Release… (approve and queue every number shown, after a confirmation that
says how many trackers it will use) or Reject (none is ever registered). The panel hides itself while
nothing is held. Email text is shown as plain text only.

The groups are read on the GUI's database worker: `refresh()` returns at once and the panel updates when
they arrive (`wait()` blocks until then: tests). Showing evidence, Release and Reject are a person's
actions and read or write at once.

Signals:
    changed(): a group was released or rejected (the window refreshes its tables).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.details import front_url
from desktop.gui.models.held import HeldGroupsModel
from desktop.store import holds

#: Numbers listed in the evidence view (the count above it says how many there are in all).
EVIDENCE_LIMIT = 500


class HeldEvidenceDialog(QDialog):
    """The group's reason and each held number with the text around it; Open in Front."""

    def __init__(self, group: holds.HeldGroup, numbers: list[holds.HeldNumber], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Held conversation {group.conversation_id}")
        reason = QLabel(group.reason)
        reason.setTextFormat(Qt.TextFormat.PlainText)
        reason.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Evidence of the held numbers")
        shown = f"the first {len(numbers):,} of {group.count:,}" if len(numbers) < group.count else \
            f"all {group.count:,}"
        lines = [f"{n.number}\t{n.carrier}\t{' '.join(n.evidence.split())}" for n in numbers]
        self.text.setPlainText(f"Numbers held ({shown}): number, carrier, the text around it\n\n" + "\n".join(lines))
        self.front_link = front_url(group.conversation_id)
        self.front_button = QPushButton("Open in &Front")
        self.front_button.setToolTip(self.front_link)
        self.front_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(self.front_link)))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.front_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(reason)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(820, 520)


class HeldPanel(QWidget):
    changed = Signal()

    def __init__(self, bridge, parent: QWidget | None = None, worker=None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.model = HeldGroupsModel(self, worker)
        self.model.refreshed.connect(self._refreshed)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Held conversations")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((260, 100, 130)):
            self.table.setColumnWidth(column, width)
        self.table.setMaximumHeight(140)
        self.table.doubleClicked.connect(lambda _i: self.show_evidence())
        row = QHBoxLayout()
        row.addWidget(self.title, 1)
        self.buttons = {}
        for key, text, slot in (("evidence", "Show e&vidence…", self.show_evidence),
                                ("release", "Re&lease…", self.release), ("reject", "Re&ject", self.reject)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
            self.buttons[key] = button
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table)
        self.confirm_release = self._confirm_release
        self.ask_evidence = lambda dialog: dialog.exec()

    def refresh(self) -> None:
        """Read the groups again (on the database worker); the panel updates when they arrive."""
        self.model.refresh()

    def wait(self, timeout: float = 30.0) -> bool:
        return self.model.wait(timeout)

    def _refreshed(self) -> None:
        count = self.model.rowCount()
        self.title.setText(f"Held for review: {count} conversation{'s' if count != 1 else ''} with more numbers "
                           "than one order has. Nothing of them registers until you release them.")
        self.setVisible(count > 0)
        if count and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)

    def current_group(self) -> holds.HeldGroup | None:
        index = self.table.currentIndex()
        return self.model.group(index.row() if index.isValid() else 0)

    def evidence_dialog(self, group: holds.HeldGroup) -> HeldEvidenceDialog:
        return HeldEvidenceDialog(group, holds.evidence(group.conversation_id, EVIDENCE_LIMIT), self)

    def show_evidence(self) -> None:
        if (group := self.current_group()) is not None:
            self.ask_evidence(self.evidence_dialog(group))

    def release(self) -> None:
        group = self.current_group()
        if group is None or not self.confirm_release(group):
            return
        done = holds.release(group.conversation_id, group.shipment_ids)
        self._report(f"Released {len(done):,} shipments of conversation {group.label}: they are queued for "
                     "registration with Ship24.")

    def reject(self) -> None:
        if (group := self.current_group()) is not None:
            done = holds.reject(group.conversation_id, group.shipment_ids)
            self._report(f"Rejected {len(done):,} shipments of conversation {group.label}: none will be "
                         "registered.")

    def _report(self, text: str) -> None:
        self.bridge.messages.info(text)
        self.refresh()
        self.changed.emit()
        if getattr(self.bridge, "worker", None) is not None:
            self.bridge.worker.wake()

    def _confirm_release(self, group: holds.HeldGroup) -> bool:
        answer = QMessageBox.question(
            self, "Release held conversation",
            f"Register all {group.count:,} numbers of conversation {group.label} with Ship24?\n\nEach one uses "
            "a tracker of the Ship24 plan. Release only a list you know is real (look at its evidence first).")
        return answer == QMessageBox.StandardButton.Yes
