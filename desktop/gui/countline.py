"""CountLabel: the shipments view's count line, which also says when rows are loading or could not be read.

It follows a `ShipmentTableModel`: "1,234 shipments" when new rows are applied; "… (loading…)" only when
a read takes long enough to notice (a fast one must not blink the line); and, when a read failed, the
rows still shown and why, plus one error in the banner per distinct failure (the table refreshes every
second during a scan: the banner must not fill with copies).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from desktop.gui.formats import plural

#: How long a read runs before the line says "loading".
LOADING_AFTER_MS = 300


class CountLabel(QLabel):
    def __init__(self, model, messages: Callable[[], object | None]) -> None:
        """`messages()` returns where errors are shown (a `Messages`), or None (nowhere but this line)."""
        super().__init__()
        self.setAccessibleName("Shipment count")
        self._model = model
        self._messages = messages
        self._reported: str | None = None
        self._timer = QTimer(self, singleShot=True, interval=LOADING_AFTER_MS)
        self._timer.timeout.connect(self._say_loading)
        model.reloaded.connect(self.show_count)
        model.loading_changed.connect(self._loading_changed)
        model.failed.connect(self._failed)

    def show_count(self, count: int) -> None:
        self.setText(plural(count, "shipment"))

    def _loading_changed(self, loading: bool) -> None:
        if loading:
            self._timer.start()
            return
        self._timer.stop()
        if self._model.error() is None:
            self._reported = None
            self.show_count(self._model.rowCount())

    def _say_loading(self) -> None:
        if self._model.loading():
            self.setText(f"{plural(self._model.rowCount(), 'shipment')} (loading…)")

    def _failed(self, text: str) -> None:
        self.setText(f"{plural(self._model.rowCount(), 'shipment')} shown; {text}")
        messages = self._messages()
        if messages is not None and text != self._reported:
            self._reported = text
            messages.error(f"Shipscan {text}. The table still shows the rows it had and reads them again at "
                           "the next refresh.")
