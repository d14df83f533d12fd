"""The shipments view's status tabs: All, In transit, Out for delivery, ... each with its live count.

A QTabBar (it scrolls rather than widening the window on a small screen) over `store.glance.GROUPS`,
plus the N of "Not updated for N days". The bar only shows and chooses: the view reads
`group()`/`stale_days()` into its filter and gives the bar its counts (`set_counts`, from
`views.tracking_counts`: one query).

Signals:
    changed(): the chosen group or N changed.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QTabBar, QWidget

from desktop.store import glance

KEYS = tuple(key for key, _label in glance.GROUPS)


class TrackingBar(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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

    def _days_changed(self, _value: int) -> None:
        self._relabel()
        self.changed.emit()

    def _relabel(self) -> None:
        for index, (key, label) in enumerate(glance.GROUPS):
            self.tabs.setTabText(index, f"{label.format(days=self.days.value())} ({self._counts[key]:,})")
