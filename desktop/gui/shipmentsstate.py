"""What the shipments view remembers between sessions (QSettings group "shipments").

Filters (text, review, registration, carrier, dates, status group and its N days), the sort (by column
key, so adding columns never shifts it), the column layout, the hidden columns (by key), the saved filters
(JSON) and the pane split. Missing or broken values
keep the defaults.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QDate, QSettings, Qt

from desktop.gui.models.shipments import COLUMNS, EXPORT_KEYS, FOUND_COLUMN

#: QSettings key of the header's layout: "header" held the 10 columns before issue 15, not restored onto 17.
HEADER_KEY = "header_v2"


def save(view, state: QSettings) -> None:
    """Write `view`'s filters, sort, column widths and pane split to `state`."""
    header = view.table.horizontalHeader()
    section = header.sortIndicatorSection()
    state.beginGroup("shipments")
    for key, value in (("text", view.text_filter.text()), ("review", view.review_filter.currentData()),
                       ("registration", view.registration_filter.currentData()),
                       ("carrier", view.carrier_filter.currentData()), ("dates", view.date_check.isChecked()),
                       ("tracking", view.tracking_bar.group()), ("stale_days", view.tracking_bar.stale_days()),
                       ("from", view.date_from.date().toString(Qt.DateFormat.ISODate)),
                       ("until", view.date_to.date().toString(Qt.DateFormat.ISODate)),
                       ("sort_key", COLUMNS[section][0] if 0 <= section < len(COLUMNS) else "found"),
                       ("sort_descending", header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder),
                       (HEADER_KEY, header.saveState()), ("splitter", view.splitter.saveState()),
                       ("hidden_columns", ",".join(view.columns.hidden_keys())),
                       ("saved_filters", view.saved_filters.to_text())):
        state.setValue(key, value if value is not None else "")
    state.endGroup()


def restore(view, state: QSettings) -> None:
    """Apply what `save` wrote, with the widgets' signals blocked (the caller queries once after)."""
    state.beginGroup("shipments")
    try:
        _restore_from(view, state)
    finally:
        state.endGroup()


def _restore_from(view, state: QSettings) -> None:
    header = view.table.horizontalHeader()
    for key, restore_one in ((HEADER_KEY, header.restoreState), ("splitter", view.splitter.restoreState)):
        if isinstance(value := state.value(key), QByteArray):
            restore_one(value)
    if (hidden := state.value("hidden_columns")) is not None:   # by key: new columns never shift it
        view.columns.hide_keys(str(hidden).split(","))
    view.saved_filters.load_text(state.value("saved_filters"))
    keys = [key for key, _header in COLUMNS]
    key = state.value("sort_key")
    if key not in keys:  # saved before issue 15: a position among the ten columns of then (EXPORT_KEYS' first)
        position = _int(state.value("sort_column"), -1)
        key = EXPORT_KEYS[position] if 0 <= position < 10 else "found"
    column = keys.index(key) if key in keys else FOUND_COLUMN
    descending = str(state.value("sort_descending", "true")).lower() == "true"
    header.setSortIndicator(column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
    view._refresh_carriers()
    widgets = (view.text_filter, view.review_filter, view.registration_filter, view.carrier_filter,
               view.date_check, view.date_from, view.date_to, view.tracking_bar)
    for widget in widgets:  # one query at the end, not one per restored value
        widget.blockSignals(True)
    try:
        view.text_filter.setText(str(state.value("text", "")))
        for combo, key in ((view.review_filter, "review"), (view.registration_filter, "registration"),
                           (view.carrier_filter, "carrier")):
            combo.setCurrentIndex(max(0, combo.findData(state.value(key) or None)))
        for edit, key in ((view.date_from, "from"), (view.date_to, "until")):
            date = QDate.fromString(str(state.value(key, "")), Qt.DateFormat.ISODate)
            if date.isValid():
                edit.setDate(date)
        view.date_check.setChecked(str(state.value("dates", "false")).lower() == "true")
        view._dates_toggled_widgets(view.date_check.isChecked())
        view.tracking_bar.days.setValue(_int(state.value("stale_days"), view.tracking_bar.stale_days()))
        view.tracking_bar.set_group(state.value("tracking") or None)
    finally:
        for widget in widgets:
            widget.blockSignals(False)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
