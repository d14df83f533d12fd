"""ColumnTableModel: the part every flat table model here shares (row/column counts and header labels)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

#: The invisible root index: a flat table's rows are its children.
ROOT = QModelIndex()


class ColumnTableModel(QAbstractTableModel):
    """A flat table whose columns are `(key, header label)` pairs in `columns`.

    Subclasses set `columns` and implement `_row_count()`; `data()` stays theirs.
    """

    columns: tuple[tuple[str, str], ...] = ()

    def _row_count(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else self._row_count()

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.columns):
            return self.columns[section][1]
        return None

    def valid_row(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        """True when `index` points at an existing row (data() must answer None otherwise)."""
        return index.isValid() and 0 <= index.row() < self._row_count()
