"""HeldGroupsModel: conversations held whole for review (`store.holds.held_groups`), one row each."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from desktop.gui.models.base import ColumnTableModel
from desktop.gui.models.shipments import format_time
from desktop.store import holds

COLUMNS: tuple[tuple[str, str], ...] = (("conversation", "Conversation"), ("count", "Numbers held"),
                                        ("found", "Found at"), ("reason", "Why"))


class HeldGroupsModel(ColumnTableModel):
    """One row per `holds.HeldGroup`, reloaded whole by `refresh()` (a handful of rows)."""

    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._groups: list[holds.HeldGroup] = []

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
        groups = holds.held_groups()
        if groups != self._groups:
            self.beginResetModel()
            self._groups = groups
            self.endResetModel()

    def group(self, row: int) -> holds.HeldGroup | None:
        return self._groups[row] if 0 <= row < len(self._groups) else None

    def groups(self) -> list[holds.HeldGroup]:
        return list(self._groups)
