"""Issue 15: the shipments table's right-click menu and double-click, and bulk work on the selection, in the
real window with the worker registering at the Ship24 simulator."""

from __future__ import annotations

import time

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QAction, QGuiApplication

from desktop.store import outbox
from desktop.store.tables import RegistrationRow, ShipmentRow, database
from tests.gui.seed import seed_shipments


def _view(window, count: int):
    seed_shipments(count)
    database.execute_sql("UPDATE shipment SET review_state = 'pending'")
    database.execute_sql("UPDATE registration SET state = 'waiting_approval', kind = NULL, last_error = NULL")
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    return view


def _menu(view, row: int):
    pos = view.table.visualRect(view.model.index(row, 0)).center()
    return view.menu_actions.menu_at(pos)


def _trigger(menu, name: str) -> None:
    action = menu.findChild(QAction, name)
    assert action is not None and action.isEnabled(), name
    action.trigger()


def _select(view, rows: list[int]) -> None:
    selection = view.table.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.select(view.model.index(row, 0),
                         QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    selection.setCurrentIndex(view.model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)


def test_right_click_menu_reuses_the_views_actions(window, qtbot):
    view = _view(window, 10)
    opened: list[str] = []
    view.details.open_url = lambda url: opened.append(url.toString()) or True
    row, other = 2, 4
    sid = view.model.shipment_id(row)
    ship = ShipmentRow.get_by_id(sid)
    _select(view, [other])
    menu = _menu(view, row)                             # a row outside the selection becomes the selection
    assert view.selected_ids() == [sid] and view.current_id() == sid
    _trigger(menu, "copy_number")
    assert QGuiApplication.clipboard().text() == ship.tracking_number
    _trigger(menu, "copy_link")                         # UPS's public page for that number
    link = QGuiApplication.clipboard().text()
    assert link.startswith("http") and ship.tracking_number in link
    _trigger(menu, "open_front")
    _trigger(menu, "open_carrier")
    assert opened == [f"https://app.frontapp.com/open/{ship.conversation_id}", view.details.carrier_link]
    _trigger(menu, "approve")
    assert ShipmentRow.get_by_id(sid).review_state == "approved"
    view.ask_edit = lambda row_view: {"order_number": "PO-MENU-1"}
    _trigger(_menu(view, view.model.row_of(sid)), "edit")
    assert ShipmentRow.get_by_id(sid).order_number == "PO-MENU-1"
    reject_row = view.model.row_of(view.model.shipment_id(0))
    reject_id = view.model.shipment_id(reject_row)
    _trigger(_menu(view, reject_row), "reject")
    assert ShipmentRow.get_by_id(reject_id).review_state == "rejected"

    # Double-click opens the row's conversation in Front.
    target = view.model.row_of(view.model.shipment_id(6))
    rect = view.table.visualRect(view.model.index(target, 1))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    conversation = ShipmentRow.get_by_id(view.model.shipment_id(target)).conversation_id
    assert opened[-1] == f"https://app.frontapp.com/open/{conversation}"


def test_menu_on_a_selection_keeps_it_and_approves_all(window, qtbot):
    view = _view(window, 8)
    _select(view, [1, 2, 3])
    ids = view.selected_ids()
    menu = _menu(view, 2)                               # inside the selection: it stays
    assert view.selected_ids() == ids
    assert not menu.findChild(QAction, "edit").isEnabled()   # edit is for one row
    _trigger(menu, "approve")
    assert {ShipmentRow.get_by_id(i).review_state for i in ids} == {"approved"}


def test_bulk_destination_and_retry_on_the_selection(window, services, qtbot):
    view = _view(window, 10)
    ids = [view.model.shipment_id(r) for r in range(4)]
    registered = view.model.shipment_id(5)
    database.execute_sql("UPDATE shipment SET review_state = 'approved'")
    database.execute_sql(f"UPDATE registration SET state = 'failed', kind = 'temporary', attempts = 1, "
                         f"next_attempt_at = 9e12, last_error = 'HTTP 503' WHERE shipment_id IN ({','.join('?' * 4)})",
                         ids)
    database.execute_sql("UPDATE registration SET state = 'registered', tracker_id = 'trk_x' WHERE shipment_id = ?",
                         [registered])
    view.reload()
    view.wait()
    messages = window.bridge.messages
    asked: list[int] = []
    view.menu_actions.ask_destination = lambda count: asked.append(count) or (" sw1a 1aa ", "gb")
    _select(view, [view.model.row_of(i) for i in ids[:3]] + [view.model.row_of(registered)])
    _trigger(_menu(view, view.model.row_of(ids[0])), "destination")
    assert asked == [4]
    for sid in ids[:3]:
        ship = ShipmentRow.get_by_id(sid)
        assert (ship.destination_postcode, ship.destination_country) == ("SW1A 1AA", "GB")
    assert ShipmentRow.get_by_id(registered).destination_postcode is None
    assert "3 shipments" in messages.history[-1].text and messages.history[-1].level == "warning"
    # Saved destinations queue the shipments again: the woken worker registers them with Ship24.
    qtbot.waitUntil(lambda: all(RegistrationRow.get(RegistrationRow.shipment == i).state == outbox.REGISTERED
                                for i in ids[:3]), timeout=15_000)

    # Retry on the selection: the worker registers them with the Ship24 simulator now; ids[3] (failed,
    # not selected) keeps waiting for its backoff.
    retry_ids = [view.model.shipment_id(r) for r in (7, 8)]
    created = services.sims.ship24.log.trackers_created
    database.execute_sql("UPDATE registration SET state = 'failed', kind = 'temporary', next_attempt_at = 9e12 "
                         "WHERE shipment_id IN (?, ?)", retry_ids)
    view.reload()
    view.wait()
    _select(view, [view.model.row_of(i) for i in retry_ids])
    view.retry_button.click()
    qtbot.waitUntil(lambda: all(RegistrationRow.get(RegistrationRow.shipment == i).state == outbox.REGISTERED
                                for i in retry_ids), timeout=15_000)
    assert services.sims.ship24.log.trackers_created - created == 2
    assert RegistrationRow.get(RegistrationRow.shipment == ids[3]).state == outbox.FAILED


def test_retry_says_which_shipments_it_cannot_move_and_why(window, services, qtbot):
    """Retry moves only registrations the worker will send; a shipment waiting for approval, a registered
    one and a rejected one are counted with their reason instead of being "retried" silently."""
    view = _view(window, 8)                             # every row pending, waiting for approval
    # The worker may have claimed a seeded row before _view made them all wait: let that attempt end (it
    # registers that one), then make them all wait again, so the count below is this test's own.
    qtbot.waitUntil(lambda: not RegistrationRow.select().where(RegistrationRow.lease_until >= time.time()).count(),
                    timeout=15_000)
    database.execute_sql("UPDATE registration SET state = 'waiting_approval', kind = NULL, last_error = NULL")
    messages = window.bridge.messages
    failed, registered, rejected = (view.model.shipment_id(r) for r in (0, 1, 2))
    database.execute_sql("UPDATE shipment SET review_state = 'approved' WHERE id IN (?, ?)", [failed, registered])
    database.execute_sql("UPDATE shipment SET review_state = 'rejected' WHERE id = ?", [rejected])
    database.execute_sql("UPDATE registration SET state = 'failed', kind = 'temporary', attempts = 1, "
                         "next_attempt_at = 9e12, last_error = 'HTTP 503' WHERE shipment_id = ?", [failed])
    database.execute_sql("UPDATE registration SET state = 'registered', tracker_id = 'trk_y' WHERE shipment_id = ?",
                         [registered])
    database.execute_sql("UPDATE registration SET state = 'dismissed' WHERE shipment_id = ?", [rejected])
    view.reload()
    view.wait()
    pending = [view.model.shipment_id(r) for r in range(8)
               if view.model.shipment_id(r) not in (failed, registered, rejected)][:2]

    _select(view, [view.model.row_of(i) for i in pending])
    retry = _menu(view, view.model.row_of(pending[0])).findChild(QAction, "retry")
    assert not retry.isEnabled()
    assert retry.statusTip() == "Nothing to retry: 2 wait for approval (approve them with A to register them)."
    view.retry_button.click()                           # the button (no menu) says the same
    assert messages.history[-1].level == "warning" and messages.history[-1].text == retry.statusTip()
    assert {RegistrationRow.get(RegistrationRow.shipment == i).state for i in pending} == {"waiting_approval"}

    created = services.sims.ship24.log.trackers_created
    _select(view, [view.model.row_of(i) for i in (failed, registered, rejected, pending[0])])
    assert _menu(view, view.model.row_of(failed)).findChild(QAction, "retry").isEnabled()
    view.retry_button.click()
    assert messages.history[-1].text == (
        "Retrying 1 registration now. Not retried: 1 waits for approval (approve it with A to register it), "
        "1 is registered already, 1 is rejected or dismissed (never registered).")
    qtbot.waitUntil(lambda: RegistrationRow.get(RegistrationRow.shipment == failed).state == outbox.REGISTERED,
                    timeout=15_000)
    assert services.sims.ship24.log.trackers_created - created == 1
