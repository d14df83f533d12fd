"""Issue 11 items 3 and 9: review actions do what they say, and say what they did.

- An edit to a number that fails its check digit puts the shipment back to "needs review": entering the
  destination afterwards does not register it; approving does.
- A registered shipment: Edit is refused up front (read-only, with the reason); Reject marks it rejected
  here and says it stays registered with Ship24; Approve says that nothing changed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from desktop.gui.editdialog import EditShipmentDialog
from desktop.store import outbox
from desktop.store.tables import RegistrationRow, ShipmentRow, database
from tests.gui.conftest import run
from tests.gui.seed import seed_shipments
from tests.gui.test_review_and_retry import _select_rows
from tests.gui.test_settings_apply import answer_modal

VALID_UPS = "1Z999AA10123456784"
BAD_CHECK_DIGIT = "1Z999AA10123456785"


def _state(sid: int) -> tuple[str, str]:
    return ShipmentRow.get_by_id(sid).review_state, RegistrationRow.get(RegistrationRow.shipment == sid).state


def _shipments_tab(window, count: int):
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    assert view.model.rowCount() == count
    return view


def test_edit_to_a_failing_check_digit_waits_for_review(window, services, qtbot):
    seed_shipments(1)
    database.execute_sql(f"UPDATE shipment SET review_state = 'auto', tracking_number = '{VALID_UPS}', "
                         "courier = 'ups', carrier = 'UPS'")
    database.execute_sql("UPDATE registration SET state = 'failed', kind = 'needs_info', attempts = 1, "
                         "last_error = 'Ship24 needs the destination country'")
    view = _shipments_tab(window, 1)
    _select_rows(view, qtbot, [0])
    row = view.model.row(0)
    dialog = EditShipmentDialog(row.number, row.courier, row.order, view)
    qtbot.addWidget(dialog)
    dialog.number.setText(BAD_CHECK_DIGIT)
    assert "wait for review" in dialog.verdict.text()
    view.ask_edit = lambda _row: dialog.changes()
    qtbot.keyClick(view.table, Qt.Key.Key_F2)
    assert _state(1) == ("pending", outbox.WAITING_APPROVAL)

    window.bridge.set_destination(1, "SW1A 1AA", "GB")    # what registered it before the fix
    drained = run(qtbot, window.bridge.worker.drain_once())
    assert drained.attempted == 0 and _state(1) == ("pending", outbox.WAITING_APPROVAL)
    assert services.sims.ship24.log.create_requests == 0

    window.bridge.approve([1])                            # a person decides: now it may register
    assert _state(1) == ("approved", outbox.QUEUED)


def _registered(count: int) -> None:
    seed_shipments(count)
    database.execute_sql("UPDATE shipment SET review_state = 'auto'")
    database.execute_sql("UPDATE registration SET state = 'registered', kind = NULL, last_error = NULL, "
                         "tracker_id = 'trk_' || shipment_id, registered_at = 1")


def test_edit_of_a_registered_shipment_is_refused_up_front(window, qtbot):
    _registered(2)
    view = _shipments_tab(window, 2)
    _select_rows(view, qtbot, [0])
    sid = view.current_id()
    before = ShipmentRow.get_by_id(sid).tracking_number
    seen: dict = {}

    def inspect_and_close(dialog) -> None:
        seen.update(read_only=dialog.number.isReadOnly() and dialog.order.isReadOnly(),
                    carrier=dialog.carrier.isEnabled(), reason=dialog.verdict.text(),
                    ok=dialog.buttons.button(QDialogButtonBox.StandardButton.Ok))
        qtbot.keyClicks(dialog.number, "999")   # typing changes nothing: the field is read-only
        seen["after_typing"] = dialog.number.text()
        dialog.buttons.button(QDialogButtonBox.StandardButton.Close).click()

    answer_modal(inspect_and_close, seen)
    qtbot.keyClick(view.table, Qt.Key.Key_F2)     # the view's own dialog, modal
    assert isinstance(seen["dialog"], EditShipmentDialog)
    assert seen["read_only"] and not seen["carrier"] and seen["ok"] is None
    assert "Already registered with Ship24" in seen["reason"] and seen["after_typing"] == before
    assert ShipmentRow.get_by_id(sid).tracking_number == before


def test_reject_and_approve_of_registered_shipments_say_what_changed(window, qtbot):
    _registered(3)
    messages = window.bridge.messages
    view = _shipments_tab(window, 3)
    ids = [view.model.shipment_id(r) for r in range(3)]

    _select_rows(view, qtbot, [0, 1, 2])
    qtbot.keyClick(view.table, Qt.Key.Key_A)
    text = messages.history[-1].text
    assert not text.startswith("Approved 3 shipments"), text
    assert "Approved 0 of 3" in text and "already registered" in text
    assert all(_state(sid) == ("auto", outbox.REGISTERED) for sid in ids)

    _select_rows(view, qtbot, [0])
    qtbot.keyClick(view.table, Qt.Key.Key_R)
    rejected = view.current_id()
    assert _state(rejected) == ("rejected", outbox.REGISTERED)   # hidden here; Ship24 keeps its tracker
    assert "stays registered with Ship24" in messages.history[-1].text
    assert messages.history[-1].level == "info"
