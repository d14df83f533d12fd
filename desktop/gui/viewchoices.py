"""Views of the shipments table: a column chooser (the header's right-click menu) and saved filters.

Column chooser: right-click the header, tick the columns to show; at least one stays shown. Hidden columns
are remembered by column key (`hidden_keys`/`hide_keys`, in the window state), so adding columns never
shifts them.

Saved filters: a "Saved filters" button with the built-in "Needs review" and "Exceptions this week" (found in the
last 7 days, status group Exception), the filters the user saved under a name, "Save current filter…" and
"Delete saved filter…". A saved filter holds the text, review, registration, carrier, status group and its
days, and the found dates; built-ins keep relative dates ("the last 7 days" stays that, tomorrow too).
They are kept in the window-state file (group "shipments", key "saved_filters", JSON), never in settings
or the keyring. Applying one sets every filter widget and queries once.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu, QToolButton

from desktop.gui.models.shipments import COLUMNS

#: name -> filter; "days" = found in the last N days (relative), "from"/"until" = exact ISO dates.
BUILTIN: dict[str, dict] = {
    "Needs review": {"review": "pending"},
    "Exceptions this week": {"tracking": "exception", "days": 7},
}
KEYS = ("text", "review", "registration", "carrier", "tracking", "stale_days", "from", "until", "days")


class ColumnChooser:
    """The header's right-click menu on `view.table` (a ShipmentsView's)."""

    def __init__(self, view) -> None:
        self.view = view
        header = view.table.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._show)

    def menu(self) -> QMenu:
        """One checkable action per column (objectName = column key); the last shown one is disabled."""
        header = self.view.table.horizontalHeader()
        menu = QMenu(header)
        shown = [c for c in range(len(COLUMNS)) if not header.isSectionHidden(c)]
        for column, (key, label) in enumerate(COLUMNS):
            action = QAction(label, menu, checkable=True, checked=column in shown)
            action.setObjectName(key)
            action.setEnabled(shown != [column])
            action.toggled.connect(lambda on, c=column: header.setSectionHidden(c, not on))
            menu.addAction(action)
        return menu

    def _show(self, pos: QPoint) -> None:
        menu = self.menu()
        menu.exec(self.view.table.horizontalHeader().mapToGlobal(pos))
        menu.deleteLater()

    def hidden_keys(self) -> list[str]:
        header = self.view.table.horizontalHeader()
        return [key for column, (key, _l) in enumerate(COLUMNS) if header.isSectionHidden(column)]

    def hide_keys(self, keys) -> None:
        """Hide exactly these columns (unknown keys ignored; never all of them)."""
        header = self.view.table.horizontalHeader()
        wanted = set(keys or ())
        if all(key in wanted for key, _l in COLUMNS):
            return
        for column, (key, _label) in enumerate(COLUMNS):
            header.setSectionHidden(column, key in wanted)


class SavedFilters:
    """The "Saved filters" button of a ShipmentsView; `saved` is the user's {name: filter}."""

    def __init__(self, view) -> None:
        self.view = view
        self.saved: dict[str, dict] = {}
        self.ask_name = self._ask_name
        self.button = QToolButton(text="Saved fi&lters")
        self.button.setAccessibleName("Saved filters")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setMenu(QMenu(self.button))
        self.button.menu().aboutToShow.connect(self._fill)

    def names(self) -> list[str]:
        return list(BUILTIN) + sorted(self.saved)

    def _fill(self) -> None:
        menu = self.button.menu()
        menu.clear()
        for name in self.names():
            menu.addAction(name, lambda n=name: self.apply(n))
        menu.addSeparator()
        menu.addAction("&Save current filter…", self.save_current)
        delete = menu.addMenu("&Delete saved filter")
        delete.setEnabled(bool(self.saved))
        for name in sorted(self.saved):
            delete.addAction(name, lambda n=name: self.delete(n))

    def current(self) -> dict:
        """The view's filter as a saved filter (exact dates when the dates are on)."""
        v = self.view
        values = {"text": v.text_filter.text(), "review": v.review_filter.currentData(),
                  "registration": v.registration_filter.currentData(), "carrier": v.carrier_filter.currentData(),
                  "tracking": v.tracking_bar.group(), "stale_days": v.tracking_bar.stale_days()}
        if v.date_check.isChecked():
            values["from"] = v.date_from.date().toString(Qt.DateFormat.ISODate)
            values["until"] = v.date_to.date().toString(Qt.DateFormat.ISODate)
        return {key: value for key, value in values.items() if value not in (None, "")}

    def save_current(self) -> str | None:
        """Ask a name and keep the current filter under it (a built-in's name is refused)."""
        name = (self.ask_name() or "").strip()
        if not name:
            return None
        if name in BUILTIN:
            self.view.bridge.messages.warning(f"\"{name}\" is a built-in view: choose another name.")
            return None
        self.saved[name] = self.current()
        return name

    def delete(self, name: str) -> None:
        self.saved.pop(name, None)

    def apply(self, name: str) -> bool:
        """Set every filter widget as the named filter says (others to "any"); one query. False: unknown."""
        values = BUILTIN.get(name) or self.saved.get(name)
        if values is None:
            return False
        v = self.view
        widgets = (v.text_filter, v.review_filter, v.registration_filter, v.carrier_filter, v.date_check,
                   v.date_from, v.date_to, v.tracking_bar)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self._set(values)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        v.apply_filter()
        return True

    def _set(self, values: dict) -> None:
        v = self.view
        v.text_filter.setText(str(values.get("text", "")))
        for combo, key in ((v.review_filter, "review"), (v.registration_filter, "registration"),
                           (v.carrier_filter, "carrier")):
            combo.setCurrentIndex(max(0, combo.findData(values.get(key))))
        if "stale_days" in values:
            v.tracking_bar.days.setValue(int(values["stale_days"]))
        v.tracking_bar.set_group(values.get("tracking"))
        today = QDate.currentDate()
        start = (today.addDays(-int(values["days"])) if "days" in values
                 else QDate.fromString(str(values.get("from", "")), Qt.DateFormat.ISODate))
        end = today if "days" in values else QDate.fromString(str(values.get("until", "")), Qt.DateFormat.ISODate)
        on = start.isValid() and end.isValid()
        if on:
            v.date_from.setDate(start)
            v.date_to.setDate(end)
        v.date_check.setChecked(on)
        v._dates_toggled_widgets(on)

    def to_text(self) -> str:
        return json.dumps(self.saved, sort_keys=True)

    def load_text(self, text) -> None:
        """What `to_text` wrote; anything broken keeps what is there (only known keys are kept)."""
        try:
            data = json.loads(str(text or "{}"))
        except ValueError:
            return
        if isinstance(data, dict):
            self.saved = {str(name): {k: val for k, val in values.items() if k in KEYS}
                          for name, values in data.items() if isinstance(values, dict)}

    def _ask_name(self) -> str | None:
        name, ok = QInputDialog.getText(self.view, "Save filter", "Name of this filter:")
        return name if ok else None
