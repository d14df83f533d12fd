"""The scan form: date range (calendar pickers and presets), inboxes, batching, extractor, estimate, Start/Cancel.

A plain widget: it only emits requests (`start_requested`, `estimate_requested`, ...) with a `ScanParams`;
the main window connects them to the bridge. It never talks to the network or the database.

Signals:
    start_requested(ScanParams), cancel_requested(), estimate_requested(ScanParams),
    reload_inboxes_requested().
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import Inbox
from desktop.gui.formats import QT_DATETIME_FORMAT

PRESETS = (("Today", "today"), ("Last 24 h", "24h"), ("7 days", "7d"), ("30 days", "30d"),
           ("Since last scan", "last"))


def preset_range(preset: str, now: dt.datetime, last_until: float | None = None) -> tuple[float, float]:
    """[since, until) in epoch seconds for a preset; `now` is local time. "last" falls back to 7 days."""
    until = now.timestamp()
    if preset == "today":
        return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp(), until
    days = {"24h": 1, "7d": 7, "30d": 30}.get(preset)
    if preset == "last" and last_until is not None:
        return min(last_until, until - 60), until
    return until - 86400 * (days or 7), until


class ScanPanel(QWidget):
    start_requested = Signal(object)
    cancel_requested = Signal()
    estimate_requested = Signal(object)
    reload_inboxes_requested = Signal()

    def __init__(self, settings, *, llm_available: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._last_until: float | None = None
        #: The preset the range came from (PRESETS key), None once the dates were set otherwise.
        self.preset: str | None = None
        self._estimate_timer = QTimer(self, singleShot=True, interval=700)
        self._estimate_timer.timeout.connect(self.request_estimate)
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_range())
        middle = QHBoxLayout()
        middle.addWidget(self._build_inboxes(), 1)
        middle.addWidget(self._build_options(settings, llm_available), 1)
        layout.addLayout(middle)
        layout.addWidget(self._build_estimate())
        layout.addLayout(self._build_buttons())
        self.apply_preset("7d")
        self.set_state("idle")

    # ------------------------------------------------------------------ building

    def _build_range(self) -> QGroupBox:
        box = QGroupBox("Conversations active between")
        row = QHBoxLayout(box)
        self.since_edit, self.until_edit = self._date_edit("From"), self._date_edit("To")
        row.addWidget(QLabel("Fr&om", buddy=self.since_edit))  # Alt+F is the File menu
        row.addWidget(self.since_edit)
        row.addWidget(QLabel("&To", buddy=self.until_edit))
        row.addWidget(self.until_edit)
        self.preset_buttons: dict[str, QPushButton] = {}
        for label, key in PRESETS:
            button = QPushButton(label)
            button.setAccessibleName(f"Preset: {label}")
            button.clicked.connect(lambda _=False, k=key: self.apply_preset(k))
            row.addWidget(button)
            self.preset_buttons[key] = button
        self.preset_buttons["last"].setEnabled(False)
        return box

    def _date_edit(self, name: str) -> QDateTimeEdit:
        edit = QDateTimeEdit(calendarPopup=True)
        edit.setDisplayFormat(QT_DATETIME_FORMAT)
        edit.setAccessibleName(f"{name} date and time")
        edit.dateTimeChanged.connect(self._range_edited)
        return edit

    def _build_inboxes(self) -> QGroupBox:
        box = QGroupBox("Inboxes (none checked = all)")
        column = QVBoxLayout(box)
        self.inbox_list = QListWidget()
        self.inbox_list.setAccessibleName("Inboxes to include")
        self.inbox_list.setMaximumHeight(140)
        self.inbox_list.setWordWrap(True)   # a note that the list is unavailable must be read whole
        self.inbox_list.itemChanged.connect(self._params_changed)
        reload_button = QPushButton("Reload &inboxes")
        reload_button.clicked.connect(self.reload_inboxes_requested)
        column.addWidget(self.inbox_list)
        column.addWidget(reload_button)
        return box

    def _build_options(self, settings, llm_available: bool) -> QGroupBox:
        box = QGroupBox("How")
        form = QFormLayout(box)
        self.batch_size = QSpinBox(minimum=1, maximum=500, value=settings.batch_size)
        self.batch_size.setAccessibleName("Batch size")
        self.concurrent = QSpinBox(minimum=1, maximum=20, value=settings.concurrent_batches)
        self.concurrent.setAccessibleName("Batches at once")
        self.extractor = QComboBox()
        self.extractor.setAccessibleName("Extractor")
        self.extractor.addItem("LLM (OpenAI)", "llm")
        self.extractor.addItem("Rules only (no LLM)", "rules")
        if not llm_available:
            self.extractor.model().item(0).setEnabled(False)
            self.extractor.setToolTip("No OpenAI key is set, so the rules extractor is used.")
        self.extractor.setCurrentIndex(0 if llm_available and settings.extractor == "llm" else 1)
        for widget in (self.batch_size, self.concurrent):
            widget.valueChanged.connect(self._params_changed)
        self.extractor.currentIndexChanged.connect(self._params_changed)
        form.addRow("&Batch size", self.batch_size)
        form.addRow("Batches &at once", self.concurrent)
        form.addRow("E&xtractor", self.extractor)
        return box

    def _build_estimate(self) -> QGroupBox:
        box = QGroupBox("Estimate")
        column = QVBoxLayout(box)
        self.estimate_label = QLabel("Estimating…")
        self.estimate_label.setTextFormat(Qt.TextFormat.PlainText)
        self.estimate_label.setWordWrap(True)
        self.estimate_label.setAccessibleName("Scan estimate")
        column.addWidget(self.estimate_label)
        return box

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.estimate_button = QPushButton("&Estimate")
        self.estimate_button.clicked.connect(self.request_estimate)
        self.start_button = QPushButton("Sta&rt scan")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self._start)
        self.cancel_button = QPushButton("Cancel sca&n")
        self.cancel_button.clicked.connect(self.cancel_requested)
        row.addStretch(1)
        for button in (self.estimate_button, self.start_button, self.cancel_button):
            row.addWidget(button)
        return row

    # ------------------------------------------------------------------ state in

    def set_state(self, state: str) -> None:
        """Enable the controls that make sense for the bridge's scan state."""
        idle = state == "idle"
        self.start_button.setEnabled(idle)
        self.cancel_button.setEnabled(state == "scanning")
        self.cancel_button.setText("Cancelling…" if state == "cancelling" else "Cancel sca&n")

    def set_inboxes(self, inboxes: list[Inbox]) -> None:
        checked = set(self.selected_inboxes())
        self.inbox_list.blockSignals(True)
        self.inbox_list.clear()
        for inbox in inboxes:
            item = QListWidgetItem(inbox.name)  # a list item's text is always plain text
            item.setData(Qt.ItemDataRole.UserRole, inbox.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if inbox.id in checked else Qt.CheckState.Unchecked)
            self.inbox_list.addItem(item)
        self.inbox_list.blockSignals(False)

    def set_inboxes_unavailable(self, reason: str) -> None:
        """The inboxes cannot be listed (`reason`, e.g. the token lacks inboxes:read): the list says so in
        one line that cannot be checked, and a scan covers every inbox (none is selected)."""
        self.inbox_list.blockSignals(True)
        self.inbox_list.clear()
        item = QListWidgetItem(f"Inboxes cannot be listed: {reason}. A scan covers every inbox.")
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)    # not checkable, not selectable: a note, not an inbox
        item.setToolTip("Give the Front API token the inboxes:read scope to choose inboxes.")
        self.inbox_list.addItem(item)
        self.inbox_list.blockSignals(False)
        self._params_changed()   # the selection may have gone from some inboxes to all

    def set_last_completed(self, until: float | None) -> None:
        self._last_until = until
        self.preset_buttons["last"].setEnabled(until is not None)

    def prefer_since_last_scan(self) -> None:
        """The start-up range: "since last scan" once a completed scan exists, unless the range was set by
        hand (remembered exact dates stay); before the first scan, the default or remembered preset stays."""
        if self._last_until is not None and self.preset is not None:
            self.apply_preset("last")

    def show_estimate(self, estimate) -> None:
        self.estimate_label.setText("No estimate available." if estimate is None else "\n".join(estimate.lines()))

    # ------------------------------------------------------------------ values out

    def apply_preset(self, preset: str) -> None:
        since, until = preset_range(preset, dt.datetime.now(), self._last_until)
        self.set_range(since, until)
        self.preset = preset

    def range_state(self) -> dict:
        """What to remember of the range: the preset it came from (so "7 days" is 7 days from the next
        start, not a stale range), else its exact bounds."""
        since, until = self.range()
        return {"preset": self.preset or "", "since": since, "until": until}

    def restore_range(self, state: dict) -> None:
        """Apply `range_state()`'s output; anything missing or invalid keeps the current range."""
        preset = state.get("preset") or ""
        if preset in {key for _label, key in PRESETS}:
            self.apply_preset(preset)
            return
        try:
            since, until = float(state.get("since")), float(state.get("until"))
        except (TypeError, ValueError):
            return
        if until > since:
            self.set_range(since, until)

    def _range_edited(self, *_args) -> None:
        self.preset = None  # the user changed the dates by hand: remember them, not the preset
        self._params_changed()

    def set_range(self, since: float, until: float) -> None:
        for edit, value in ((self.since_edit, since), (self.until_edit, until)):
            edit.blockSignals(True)
            edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(value)))
            edit.blockSignals(False)
        self._exact = (int(since), int(until), since, until)
        self.preset = None
        self._params_changed()

    def range(self) -> tuple[float, float]:
        since = float(self.since_edit.dateTime().toSecsSinceEpoch())
        until = float(self.until_edit.dateTime().toSecsSinceEpoch())
        exact = getattr(self, "_exact", None)
        # The editors show minutes; keep the preset's exact seconds when the user has not changed them.
        if exact and int(since) // 60 == exact[0] // 60 and int(until) // 60 == exact[1] // 60:
            return exact[2], exact[3]
        return since, until

    def selected_inboxes(self) -> list[str]:
        return [self.inbox_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.inbox_list.count())
                if self.inbox_list.item(i).checkState() == Qt.CheckState.Checked]

    def params(self):
        from desktop.core.pipeline import ScanParams  # the pipeline's own parameter object

        since, until = self.range()
        return ScanParams(since=since, until=until, inboxes=tuple(self.selected_inboxes()),
                          batch_size=self.batch_size.value(), concurrent_batches=self.concurrent.value(),
                          extractor=self.extractor.currentData())

    def request_estimate(self) -> None:
        self._estimate_timer.stop()
        since, until = self.range()
        if until <= since:
            self.estimate_label.setText("The end of the range must be after its start.")
            return
        self.estimate_label.setText("Estimating…")
        self.estimate_requested.emit(self.params())

    def _start(self) -> None:
        since, until = self.range()
        if until <= since:
            self.estimate_label.setText("The end of the range must be after its start.")
            return
        self.start_requested.emit(self.params())

    def _params_changed(self, *_args) -> None:
        self._estimate_timer.start()
