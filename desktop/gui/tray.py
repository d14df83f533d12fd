"""The tray icon: the counts an agent chases (exceptions, not updated for N days) in its tooltip and menu,
and the balloon of every desktop notification (issue 15 item 7).

Contracts:
- The icon and its menu always exist (tests read them offscreen); the icon is shown only where the desktop
  has a system tray (`QSystemTrayIcon.isSystemTrayAvailable()`), and then from the start, not only with the
  first notification.
- The tooltip says both counts ("Shipscan: 3 exceptions, 5 not updated for 5 days"); the menu shows them
  as entries that open the shipments view on that tab, then "Open Shipscan" and "Quit".
- `notify(title, text)` shows a balloon where there is a tray; where there is none it returns False and the
  caller flashes the task bar instead.

Signals:
    show_group(str): open the shipments view on this status group ("exception" | "stale").
    show_window(), quit_requested().
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QStyle, QSystemTrayIcon, QWidget

from desktop.gui.formats import plural


class Tray(QObject):
    show_group = Signal(str)
    show_window = Signal()
    quit_requested = Signal()

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        icon = window.windowIcon()
        if icon.isNull():  # a tray icon without an icon is not shown at all
            icon = window.style().standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton)
        self.icon = QSystemTrayIcon(QIcon(icon), window)
        self.menu = QMenu(window)
        self.exceptions_action = self._add("exception", lambda: self.show_group.emit("exception"))
        self.stale_action = self._add("stale", lambda: self.show_group.emit("stale"))
        self.menu.addSeparator()
        self._add("open", self.show_window.emit, "&Open Shipscan")
        self._add("quit", self.quit_requested.emit, "&Quit")
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.set_counts(0, 0, 0)
        if self.available():
            self.icon.show()

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def _add(self, name: str, slot, text: str = "") -> QAction:
        action = QAction(text, self.menu)
        action.setObjectName(name)
        action.triggered.connect(slot)
        self.menu.addAction(action)
        return action

    def set_counts(self, exceptions: int, stale: int, days: int) -> None:
        """Show the counts in the tooltip and the menu."""
        exc_text = plural(exceptions, "exception")
        stale_text = f"{stale:,} not updated for {days} days"
        self.icon.setToolTip(f"Shipscan: {exc_text}, {stale_text}")
        self.exceptions_action.setText(f"Show &exceptions ({exceptions:,})")
        self.stale_action.setText(f"Show &not updated for {days} days ({stale:,})")

    def notify(self, title: str, text: str) -> bool:
        """A balloon where there is a tray; False where there is none."""
        if not self.available():
            return False
        self.icon.show()
        self.icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 8000)
        return True

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_window.emit()
