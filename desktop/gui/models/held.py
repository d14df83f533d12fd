"""HeldGroupsModel: conversations held whole for review (`store.holds.held_groups`), one row each.

Read on the GUI's database worker (`desktop.gui.models.loading`): `refresh()` returns at once, `refreshed`
is emitted when the answer is shown, `wait()` blocks until it is (tests, actions)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal

from desktop.gui.models.base import ColumnTableModel
from desktop.gui.models.loading import Loader
from desktop.gui.models.shipments import format_time
from desktop.store import holds

COLUMNS: tuple[tuple[str, str], ...] = (("conversation", "Conversation"), ("count", "Numbers held"),
                                        ("found", "Found at"), ("reason", "Why"))


class HeldGroupsModel(ColumnTableModel):
    """One row per `holds.HeldGroup`, reloaded whole by `refresh()` (a handful of rows)."""

    columns = COLUMNS
    refreshed = Signal()

    def __init__(self, parent=None, worker=None) -> None:
        super().__init__(parent)
        self._groups: list[holds.HeldGroup] = []
        self._loader = Loader(self, self._apply, worker, "held groups")

    def _row_count(self) -> int:
        return len(self._groups)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not self.valid_row(index) or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        group, key = self._groups[index.row()], COLUMNS[index.column()][0]
        if key == "conversation":
            return group.label
        if key == "count":
            return f"{group.count:,}"
        if key == "found":
            return format_time(group.found_at)
        return group.reason

    def refresh(self) -> None:
        self._loader.submit(holds.held_groups)

    def wait(self, timeout: float | None = 30.0) -> bool:
        return self._loader.wait(timeout)

    def _apply(self, groups: list[holds.HeldGroup]) -> None:
        if groups != self._groups:
            self.beginResetModel()
            self._groups = groups
            self.endResetModel()
        self.refreshed.emit()

    def group(self, row: int) -> holds.HeldGroup | None:
        return self._groups[row] if 0 <= row < len(self._groups) else None

    def groups(self) -> list[holds.HeldGroup]:
        return list(self._groups)
