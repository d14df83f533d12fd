"""RunHistoryModel: past scan runs (`store.views.runs`) with parameters, counts, duration and outcome.

A run that was cancelled (or failed, or killed) and then resumed shows as two rows, each with its own
counts and duration: "cancelled, resumed later" and "completed (resumed)".
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from desktop.gui.models.base import ColumnTableModel
from desktop.gui.models.shipments import format_time
from desktop.store import views

COLUMNS: tuple[tuple[str, str], ...] = (
    ("started", "Started"), ("range", "Range"), ("inboxes", "Inboxes"), ("batches", "Batch size × at once"),
    ("extractor", "Extractor"), ("state", "Outcome"), ("counts", "Listed / scanned / unchanged / failed"),
    ("shipments", "Shipments (new)"), ("seconds", "Duration"), ("error", "Error"))


def _date(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


def _count(counts: dict, *names: str) -> str:
    for name in names:
        if name in counts:
            return str(counts[name])
    return "–"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def outcome(run: views.RunView) -> str:
    """The state, and where a run was stopped and resumed, which part this row is."""
    if run.resumed_later:
        return f"{run.state}, resumed later"
    return f"{run.state} (resumed)" if run.resumed else run.state


class RunHistoryModel(ColumnTableModel):
    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._runs: list[views.RunView] = []

    def _row_count(self) -> int:
        return len(self._runs)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not self.valid_row(index):
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        return self._display(self._runs[index.row()], COLUMNS[index.column()][0])

    def refresh(self) -> None:
        runs = views.runs()
        if runs != self._runs:
            self.beginResetModel()
            self._runs = runs
            self.endResetModel()

    def run(self, row: int) -> views.RunView | None:
        return self._runs[row] if 0 <= row < len(self._runs) else None

    @staticmethod
    def _display(run: views.RunView, key: str) -> str:
        c = run.counts
        match key:
            case "started":
                return format_time(run.started_at)
            case "range":
                return f"{_date(run.since)} → {_date(run.until)}"
            case "inboxes":
                return ", ".join(run.inboxes) if run.inboxes else "all"
            case "batches":
                return f"{run.batch_size} × {run.concurrent_batches}"
            case "extractor":
                return run.extractor + (" (rescan)" if run.rescan else "")
            case "state":
                return outcome(run)
            case "counts":
                return " / ".join(_count(c, f"conversations_{n}", n) for n in ("listed", "scanned", "unchanged",
                                                                                 "failed"))
            case "shipments":
                return f"{_count(c, 'shipments_found', 'shipments')} ({_count(c, 'shipments_new')})"
            case "seconds":
                return duration(run.seconds)
            case "error":
                return run.error or ""
        return ""
