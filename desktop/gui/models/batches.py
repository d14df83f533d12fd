"""BatchTableModel: one row per batch of the running scan, updated live from the pipeline's events.

Rows are appended on `BatchStarted`, counted up on `ConversationFinished` and settled on `BatchFinished`;
each change emits `rowsInserted`/`dataChanged` for that row only, so the table stays cheap during a scan.

There is no batch barrier (desktop.core.inflight): a batch is "running" while its conversations start,
"finishing" once the next batch has started and only its last conversations are still in flight, then
"done". Several rows may be open at once, and the table says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from desktop.core import events as ev
from desktop.gui.models.base import ColumnTableModel

COLUMNS = tuple((label.lower(), label) for label in
                ("Batch", "State", "Done", "Shipments", "Failures", "Seconds"))


@dataclass
class BatchRow:
    batch: int
    size: int
    state: str = "running"
    done: int = 0
    shipments: int = 0
    failures: int = 0
    started: float = 0.0
    seconds: float | None = None

    def cells(self) -> tuple[str, ...]:
        seconds = self.seconds if self.seconds is not None else time.monotonic() - self.started
        return (str(self.batch), self.state, f"{self.done} of {self.size}", str(self.shipments),
                str(self.failures), f"{seconds:.1f}")


class BatchTableModel(ColumnTableModel):
    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[BatchRow] = []
        self._index: dict[int, int] = {}

    def _row_count(self) -> int:
        return len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not self.valid_row(index):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[index.row()].cells()[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() != 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def rows(self) -> list[BatchRow]:
        return list(self._rows)

    def open_count(self) -> int:
        """Batches with conversations still in flight."""
        return sum(row.state in ("running", "finishing") for row in self._rows)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._index.clear()
        self.endResetModel()

    def on_batch_started(self, event: ev.BatchStarted) -> None:
        if event.batch in self._index:
            self._update(event.batch, state="running", size=event.size)
            return
        for row in self._rows:                # conversations start in order: earlier batches are all started
            if row.state == "running":
                self._update(row.batch, state="finishing")
        position = len(self._rows)
        self.beginInsertRows(QModelIndex(), position, position)
        self._rows.append(BatchRow(event.batch, event.size, started=time.monotonic()))
        self._index[event.batch] = position
        self.endInsertRows()

    def on_conversation_finished(self, event: ev.ConversationFinished) -> None:
        row = self._find(event.batch)
        if row is None:
            return
        row.done += 1
        row.shipments += event.shipments
        row.failures += event.state == "failed"
        self._changed(event.batch)

    def on_batch_finished(self, event: ev.BatchFinished) -> None:
        if self._find(event.batch) is None:
            self.on_batch_started(ev.BatchStarted(event.batch, event.size))
        self._update(event.batch, state=event.state.value, size=event.size, done=event.done,
                     shipments=event.shipments, failures=event.failures, seconds=event.seconds)

    def tick(self) -> None:
        """Repaint the seconds of running batches (called once a second by the progress view)."""
        for position, row in enumerate(self._rows):
            if row.seconds is None:
                self.dataChanged.emit(self.index(position, 5), self.index(position, 5))

    def _find(self, batch: int) -> BatchRow | None:
        position = self._index.get(batch)
        return None if position is None else self._rows[position]

    def _update(self, batch: int, **values) -> None:
        row = self._find(batch)
        if row is not None:
            for name, value in values.items():
                setattr(row, name, value)
            self._changed(batch)

    def _changed(self, batch: int) -> None:
        position = self._index[batch]
        self.dataChanged.emit(self.index(position, 0), self.index(position, len(COLUMNS) - 1))
