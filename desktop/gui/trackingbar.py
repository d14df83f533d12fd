"""The shipments view's status tabs: All, In transit, Out for delivery, ... each with its live count.

A QTabBar (it scrolls rather than widening the window on a small screen) over `store.glance.GROUPS`,
plus the N of "Not updated for N days". The bar only shows and chooses: the view reads
`group()`/`stale_days()` into its filter and asks the bar to count (`count(filter)`): one query
(`views.tracking_counts`) on the database worker thread, shown when it arrives unless a newer `count`
was asked for meanwhile; the old counts stay until then. `set_counts` shows counts at once.

Signals:
    changed(): the chosen group or N changed.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QTabBar, QWidget

from desktop.gui import dbworker
from desktop.store import glance, views

KEYS = tuple(key for key, _label in glance.GROUPS)


class TrackingBar(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None, worker: dbworker.DbWorker | None = None) -> None:
        super().__init__(parent)
        self._worker = worker or dbworker.shared()
        self._asked: views.ShipmentFilter | None = None
        self.setAccessibleName("Tracking status groups")
        self.tabs = QTabBar()
        self.tabs.setAccessibleName("Tracking status")
        self.tabs.setExpanding(False)
        self.tabs.setUsesScrollButtons(True)
        self.tabs.setDrawBase(False)
        for _key in KEYS:
            self.tabs.addTab("")
        self.days = QSpinBox(minimum=1, maximum=365, value=glance.DEFAULT_STALE_DAYS, suffix=" days")
        self.days.setAccessibleName("Not updated for this many days")
        self.days.setToolTip("How long without a new checkpoint makes a shipment \"not updated\".")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(QLabel("Stale after"))
        layout.addWidget(self.days)
        self._counts = glance.GroupCounts({})
        self.tabs.currentChanged.connect(lambda _index: self.changed.emit())
        self.days.valueChanged.connect(self._days_changed)
        self._relabel()

    def group(self) -> str | None:
        """The chosen group's key (None for "all")."""
        key = KEYS[max(0, self.tabs.currentIndex())]
        return None if key == "all" else key

    def set_group(self, key: str | None) -> None:
        """Choose `key` (None or unknown: "all"); emits `changed` when it differs."""
        self.tabs.setCurrentIndex(KEYS.index(key) if key in KEYS else 0)

    def text(self, key: str) -> str:
        """What the tab of `key` says, e.g. "In transit (18)"."""
        return self.tabs.tabText(KEYS.index(key))

    def stale_days(self) -> int:
        return self.days.value()

    def set_counts(self, counts: glance.GroupCounts) -> None:
        self._counts = counts
        self._relabel()

    def count(self, flt: views.ShipmentFilter) -> None:
        """Count every group under `flt` (its own group ignored) on the worker; shown when the answer arrives,
        unless `count` was called again meanwhile. A failed count is logged and the old counts stay."""
        self._asked = flt
        self._worker.submit(views.tracking_counts, flt, on_result=functools.partial(self._counted, flt),
                            key=(id(self), "counts"), owner=self)

    def _counted(self, flt: views.ShipmentFilter, counts: glance.GroupCounts) -> None:
        if flt == self._asked:
            self.set_counts(counts)

    def _days_changed(self, _value: int) -> None:
        self._relabel()
        self.changed.emit()

    def _relabel(self) -> None:
        for index, (key, label) in enumerate(glance.GROUPS):
            self.tabs.setTabText(index, f"{label.format(days=self.days.value())} ({self._counts[key]:,})")
