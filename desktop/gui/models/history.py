"""RunHistoryModel: past scan runs (`store.views.runs`) with parameters, counts, duration, outcome and who
started them; ReviewLogModel: who did which review action to which shipment, and when (issue 16).

A run that was cancelled (or failed, or killed) and then resumed shows as two rows, each with its own
counts and duration: "cancelled, resumed later" and "completed (resumed)". Runs from before who was
recorded show "–" as their starter.

Both read on the GUI's database worker (`desktop.gui.models.loading`): `refresh()` returns at once,
`refreshed` is emitted when the answer is shown, `wait()` blocks until it is (tests, actions).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal

from desktop.gui.models.base import ColumnTableModel
from desktop.gui.models.loading import Loader
from desktop.gui.models.shipments import format_time
from desktop.store import history_views, views

COLUMNS: tuple[tuple[str, str], ...] = (
    ("started", "Started"), ("range", "Range"), ("inboxes", "Inboxes"), ("batches", "Batch size × at once"),
    ("extractor", "Extractor"), ("state", "Outcome"), ("counts", "Listed / scanned / unchanged / failed"),
    ("shipments", "Shipments (new)"), ("seconds", "Duration"), ("error", "Error"), ("started_by", "Started by"))


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
    refreshed = Signal()

    def __init__(self, parent=None, worker=None) -> None:
        super().__init__(parent)
        self._runs: list[views.RunView] = []
        self._loader = Loader(self, self._apply, worker, "history")

    def _row_count(self) -> int:
        return len(self._runs)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not self.valid_row(index):
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        return self._display(self._runs[index.row()], COLUMNS[index.column()][0])

    def refresh(self) -> None:
        self._loader.submit(views.runs)

    def wait(self, timeout: float | None = 30.0) -> bool:
        return self._loader.wait(timeout)

    def _apply(self, runs: list[views.RunView]) -> None:
        if runs != self._runs:
            self.beginResetModel()
            self._runs = runs
            self.endResetModel()
        self.refreshed.emit()

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
                counts = " / ".join(_count(c, f"conversations_{n}", n) for n in ("listed", "scanned", "unchanged",
                                                                                   "failed"))
                elsewhere = c.get("claimed_elsewhere") or 0   # another desktop's scan committed those
                return counts + (f" · {elsewhere} left to another scan" if elsewhere else "")
            case "shipments":
                return f"{_count(c, 'shipments_found', 'shipments')} ({_count(c, 'shipments_new')})"
            case "seconds":
                return duration(run.seconds)
            case "error":
                return run.error or ""
            case "started_by":
                return run.started_by or "–"
        return ""


REVIEW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("at", "When"), ("actor", "Who"), ("action", "Action"), ("number", "Shipment"), ("note", "Changed"))
#: How each review action reads in the table.
ACTION_WORDS = {"approve": "approved", "reject": "rejected", "edit": "edited", "destination": "set destination",
                "dismiss": "dismissed", "retry": "retried", "release": "released (held group)",
                "reject_held": "rejected (held group)", "undo": "undid the last change"}


class ReviewLogModel(ColumnTableModel):
    """The latest review actions (`history_views.review_actions`), newest first."""

    columns = REVIEW_COLUMNS
    refreshed = Signal()

    def __init__(self, parent=None, limit: int = 500, worker=None) -> None:
        super().__init__(parent)
        self.limit = limit
        self._actions: list[history_views.ReviewAction] = []
        self._loader = Loader(self, self._apply, worker, "review log")

    def _row_count(self) -> int:
        return len(self._actions)

    def refresh(self) -> None:
        self._loader.submit(history_views.review_actions, self.limit)

    def wait(self, timeout: float | None = 30.0) -> bool:
        return self._loader.wait(timeout)

    def _apply(self, actions: list[history_views.ReviewAction]) -> None:
        if actions != self._actions:
            self.beginResetModel()
            self._actions = actions
            self.endResetModel()
        self.refreshed.emit()

    def action(self, row: int) -> history_views.ReviewAction | None:
        return self._actions[row] if 0 <= row < len(self._actions) else None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not self.valid_row(index) or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        act = self._actions[index.row()]
        match REVIEW_COLUMNS[index.column()][0]:
            case "at":
                return format_time(act.at)
            case "actor":
                return act.actor
            case "action":
                return ACTION_WORDS.get(act.action, act.action)
            case "number":
                return act.tracking_number or f"#{act.shipment_id} (gone)"
            case "note":
                return (act.note or "").replace("_", " ")
        return None
