"""Review actions in the real window change the database; Retry on a failed registration registers it."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.store import outbox
from desktop.store.tables import RegistrationRow, ShipmentRow, database
from tests.gui.seed import seed_shipments


def _pending(count: int) -> None:
    """Seeded shipments that wait for a person (review pending, outbox waiting for approval)."""
    seed_shipments(count)
    database.execute_sql("UPDATE shipment SET review_state = 'pending'")
    database.execute_sql("UPDATE registration SET state = 'waiting_approval', kind = NULL, last_error = NULL")


def _select_rows(view, qtbot, rows: list[int]) -> None:
    view.table.setFocus()
    view.table.clearSelection()
    for row in rows:
        view.table.selectionModel().select(
            view.model.index(row, 0), view.table.selectionModel().SelectionFlag.Select
            | view.table.selectionModel().SelectionFlag.Rows)
    view.table.selectionModel().setCurrentIndex(view.model.index(rows[-1], 0),
                                                view.table.selectionModel().SelectionFlag.NoUpdate)


def test_keyboard_review_actions_change_the_database(window, qtbot):
    _pending(12)
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    assert view.model.rowCount() == 12
    ids = [view.model.shipment_id(r) for r in range(3)]
    _select_rows(view, qtbot, [0, 1, 2])
    qtbot.keyClick(view.table, Qt.Key.Key_A)  # approve the three
    for sid in ids:
        assert ShipmentRow.get_by_id(sid).review_state == "approved"
        assert RegistrationRow.get(RegistrationRow.shipment == sid).state != outbox.WAITING_APPROVAL

    reject_id = view.model.shipment_id(5)
    _select_rows(view, qtbot, [5])
    qtbot.keyClick(view.table, Qt.Key.Key_R)
    assert ShipmentRow.get_by_id(reject_id).review_state == "rejected"
    assert RegistrationRow.get(RegistrationRow.shipment == reject_id).state == outbox.DISMISSED
    # The table follows (after its debounce) and the selection stays on the same shipment.
    qtbot.waitUntil(lambda: view.model.row(view.model.row_of(reject_id)).review == "rejected", timeout=3000)
    assert view.current_id() == reject_id


def test_edit_is_revalidated_and_saved(window, qtbot):
    _pending(4)
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    target = view.model.shipment_id(0)
    _select_rows(view, qtbot, [0])

    from desktop.gui.editdialog import EditShipmentDialog

    row = view.model.row(0)
    dialog = EditShipmentDialog(row.number, "", row.order, view)
    qtbot.addWidget(dialog)
    dialog.number.setText("1z999 aa1 0123456784")  # a valid UPS number, typed loosely
    dialog.order.setText("PO-1")
    assert "valid with its check digit" in dialog.verdict.text() and dialog.carrier.currentData() == "ups"
    dialog.carrier.setCurrentIndex(dialog.carrier.findData("fedex"))
    assert "not a valid FedEx number" in dialog.verdict.text()
    dialog.carrier.setCurrentIndex(dialog.carrier.findData("ups"))
    view.ask_edit = lambda _row: dialog.changes()
    qtbot.keyClick(view.table, Qt.Key.Key_F2)
    saved = ShipmentRow.get_by_id(target)
    assert (saved.tracking_number, saved.courier, saved.order_number) == ("1Z999AA10123456784", "ups", "PO-1")
    assert saved.validated

    dialog.number.setText("not a number ✈")
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


def test_retry_registers_a_failed_registration(window, services, qtbot):
    """Ship24 quota runs out mid-way: registration pauses; once renewed, Retry all registers everything."""
    services.sims.ship24.config.quota = 0
    panel, bridge = window.scan_panel, window.bridge
    panel.extractor.setCurrentIndex(panel.extractor.findData("rules"))
    panel.apply_preset("7d")
    with qtbot.waitSignal(bridge.run_finished, timeout=60_000):
        panel.start_button.click()
    qtbot.waitUntil(lambda: window.retries.banner.isVisible() if window.retries.isVisible() else
                    RegistrationRow.select().where(RegistrationRow.state == outbox.PAUSED).exists(), timeout=10_000)
    window.tabs.setCurrentWidget(window.retries)
    view = window.retries
    view.refresh()
    assert view.wait()   # read on the database worker
    assert view.model.rowCount() > 0 and view.banner.isVisible()
    # Rows that failed for a missing postcode/country wait for a person's data, not for a retry.
    waiting = {item.shipment_id for item in view.model.items() if item.kind != "needs_info"}

    services.sims.ship24.config.quota = None  # the plan was upgraded
    view.buttons["all"].click()
    # A row paused before its courier was checked may turn out to need a destination (the live courier list
    # names its courier's required fields): it asks for it instead of registering.
    def settled(sid: int) -> bool:
        row = RegistrationRow.get(RegistrationRow.shipment == sid)
        return row.state == outbox.REGISTERED or row.kind == "needs_info"
    qtbot.waitUntil(lambda: all(settled(sid) for sid in waiting), timeout=20_000)
    registered = [sid for sid in waiting
                  if RegistrationRow.get(RegistrationRow.shipment == sid).state == outbox.REGISTERED]
    assert registered and services.sims.ship24.log.trackers_created == len(registered)
    asking = RegistrationRow.select().where(RegistrationRow.kind == "needs_info").count()
    qtbot.waitUntil(lambda: view.model.rowCount() == asking, timeout=5000)  # only those asking for data


def test_retry_row_after_entering_a_destination(window, services, qtbot):
    """A registration that failed for a missing postcode: enter it in the queue, and Retry registers it."""
    seed_shipments(1)
    database.execute_sql("UPDATE shipment SET review_state = 'auto', tracking_number = '1Z999AA10123456784', "
                         "courier = 'ups', carrier = 'UPS'")
    database.execute_sql("UPDATE registration SET state = 'failed', kind = 'needs_info', attempts = 1, "
                         "last_error = 'Ship24 needs the destination postcode'")
    window.tabs.setCurrentWidget(window.retries)
    view = window.retries
    view.refresh()
    assert view.wait()   # read on the database worker
    assert view.model.rowCount() == 1 and view.model.index(0, 3).data() == "needs postcode/country"
    view.table.selectRow(0)
    view.ask_destination = lambda _item: ("SW1A 1AA", "GB")
    view.buttons["destination"].click()
    shipment = ShipmentRow.get_by_id(1)
    assert (shipment.destination_postcode, shipment.destination_country) == ("SW1A 1AA", "GB")
    qtbot.waitUntil(lambda: RegistrationRow.get(RegistrationRow.shipment == 1).state == outbox.REGISTERED,
                    timeout=20_000)


def test_retry_row_with_the_keyboard(window, services, qtbot):
    """A registration that gave up after its backoff (failed, temporary): Ctrl+R on its row registers it."""
    seed_shipments(2)
    database.execute_sql("UPDATE shipment SET review_state = 'auto'")
    database.execute_sql("UPDATE shipment SET tracking_number = '1Z999AA10123456784', courier = 'ups' WHERE id = 1")
    database.execute_sql("UPDATE registration SET state = 'failed', kind = 'temporary', attempts = 8, "
                         "last_error = 'Ship24 did not answer in time'")
    window.tabs.setCurrentWidget(window.retries)
    view = window.retries
    view.refresh()
    assert view.wait()   # read on the database worker
    assert view.model.rowCount() == 2
    row = next(r for r in range(2) if view.model.item(r).shipment_id == 1)
    view.table.setFocus()
    view.table.selectRow(row)
    qtbot.keyClick(view.table, "r", modifier=Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: RegistrationRow.get(RegistrationRow.shipment == 1).state == outbox.REGISTERED,
                    timeout=20_000)
    # The other row was not selected: it still waits for a person.
    assert RegistrationRow.get(RegistrationRow.shipment == 2).state == outbox.FAILED
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)  # the queue follows live
