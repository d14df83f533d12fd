"""Issue 15, items 3 and 5 (rest): Ctrl+Z undoes the last reject or dismiss; the column chooser; saved filters."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.store import outbox
from desktop.store.tables import RegistrationRow, ShipmentRow, database
from tests.gui.seed import seed_shipments
from tests.gui.test_retry_queue import _open, _select
from tests.gui.test_review_and_retry import _pending, _select_rows


def _reg(sid: int) -> RegistrationRow:
    return RegistrationRow.get(RegistrationRow.shipment == sid)


def test_ctrl_z_undoes_the_last_reject(window, qtbot):
    _pending(6)
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    target = view.model.shipment_id(2)
    _select_rows(view, qtbot, [2])
    qtbot.keyClick(view.table, Qt.Key.Key_R)
    assert ShipmentRow.get_by_id(target).review_state == "rejected" and _reg(target).state == outbox.DISMISSED
    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ShipmentRow.get_by_id(target).review_state == "pending"
    assert _reg(target).state == outbox.WAITING_APPROVAL
    assert window.messages.history[-1].text == "Undid reject of 1 shipment."
    qtbot.waitUntil(lambda: view.model.row(view.model.row_of(target)).review == "pending", timeout=3000)
    window.undo_action.trigger()  # only once
    assert window.messages.history[-1].text == "Nothing to undo."


def test_ctrl_z_undoes_the_last_dismiss_in_the_retry_queue(window, qtbot):
    seed_shipments(3)
    database.execute_sql("UPDATE registration SET state = 'failed', kind = 'temporary', attempts = 2, "
                         "next_attempt_at = 2000000000, last_error = 'gave up'")
    view = _open(window)
    _select(view, 2)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert _reg(2).state == outbox.DISMISSED
    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    reg = _reg(2)
    assert (reg.state, reg.kind, reg.attempts, reg.next_attempt_at) == ("failed", "temporary", 2, 2e9)


def _state(tmp_path):
    from PySide6.QtCore import QSettings
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


def test_column_chooser_hides_columns_and_they_stay_hidden(window, qtbot, tmp_path):
    from desktop.gui.shipmentsview import ShipmentsView

    seed_shipments(5)
    view = window.shipments
    menu = view.columns.menu()
    carrier = menu.findChild(type(menu.actions()[0]), "carrier")
    assert carrier.isChecked()
    carrier.trigger()                                     # untick: the column hides
    header = view.table.horizontalHeader()
    keys = [a.objectName() for a in menu.actions()]
    assert header.isSectionHidden(keys.index("carrier"))
    view.save_state(state := _state(tmp_path))
    state.sync()
    again = ShipmentsView(window.bridge)                  # the next start, same window-state file
    qtbot.addWidget(again)
    again.restore_state(_state(tmp_path))
    assert again.columns.hidden_keys() == ["carrier"]
    # The last shown column cannot be hidden.
    again.columns.hide_keys(keys[1:])
    last = again.columns.menu().findChild(type(carrier), keys[0])
    assert last.isChecked() and not last.isEnabled()


def test_saved_filters_builtin_and_named_survive_a_restart(window, qtbot, tmp_path):
    from desktop.gui.shipmentsview import ShipmentsView

    _pending(8)
    database.execute_sql("UPDATE shipment SET review_state = 'auto' WHERE id > 3")
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    assert view.model.rowCount() == 8
    assert view.saved_filters.apply("Needs review")
    view.wait()
    assert view.review_filter.currentData() == "pending" and view.model.rowCount() == 3
    assert view.saved_filters.apply("Exceptions this week")
    assert view.tracking_bar.group() == "exception" and view.date_check.isChecked()
    assert view.review_filter.currentData() is None       # a view sets every filter, not only its own

    view.saved_filters.apply("Needs review")
    view.text_filter.setText("1Z00")
    view.saved_filters.ask_name = lambda: "My review"
    assert view.saved_filters.save_current() == "My review"
    view.save_state(state := _state(tmp_path))
    state.sync()
    assert "My review" in str(_state(tmp_path).value("shipments/saved_filters"))
    again = ShipmentsView(window.bridge)
    qtbot.addWidget(again)
    again.restore_state(_state(tmp_path))
    assert "My review" in again.saved_filters.names()
    again.saved_filters.apply("Exceptions this week")
    again.saved_filters.apply("My review")
    assert (again.review_filter.currentData(), again.text_filter.text(), again.tracking_bar.group()) == (
        "pending", "1Z00", None)
