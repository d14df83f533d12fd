"""RetryFilterProxy: search, reason filter and sort over the retry queue (`RetryQueueModel`).

- `set_text(text)`: every blank-separated term must occur (case-insensitively) in the number, carrier,
  state, reason or conversation subject of a row; a number typed with spaces or dashes ("1Z 999 AA1")
  matches the stored number too.
- `set_category(key)`: only rows of that reason category (`models.retries.CATEGORIES`); None = all.
- Sorting uses `SortRole` (numbers sort as numbers, State puts what needs a person first). Unsorted (the
  default), rows stay in the model's stable order.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from desktop.gui.models.retries import COLUMNS, CategoryRole
from desktop.gui.models.shipments import SortRole

_SEARCHED = tuple(i for i, (key, _label) in enumerate(COLUMNS) if key in ("number", "carrier", "state",
                                                                          "reason", "subject"))
_SEPARATORS = re.compile(r"[\s\-./]+")


class RetryFilterProxy(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._terms: list[str] = []
        self._compact = ""
        self._category: str | None = None
        self.setSortRole(SortRole)
        self.setDynamicSortFilter(True)

    def set_text(self, text: str) -> None:
        self._refilter(lambda: self._set_terms(text))

    def _set_terms(self, text: str) -> None:
        self._terms = [term.casefold() for term in text.split()]
        compact = _SEPARATORS.sub("", text).casefold()
        self._compact = compact if len(self._terms) > 1 else ""

    def set_category(self, key: str | None) -> None:
        self._refilter(lambda: setattr(self, "_category", key or None))

    def _refilter(self, change) -> None:
        # Qt 6.10 replaced invalidateFilter() (deprecated) by a begin/end pair around the change.
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange()
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        if self._category is not None and \
                model.index(source_row, 0, source_parent).data(CategoryRole) != self._category:
            return False
        if not self._terms:
            return True
        cells = [str(model.index(source_row, c, source_parent).data(Qt.ItemDataRole.DisplayRole) or "").casefold()
                 for c in _SEARCHED]
        if self._compact and self._compact in cells[0]:
            return True
        return all(any(term in cell for cell in cells) for term in self._terms)
