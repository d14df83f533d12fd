"""The retry queue as an agent uses it (issue 11, item 8) and held conversations (issue 13), in the real window."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.gui.details import front_url
from desktop.gui.editdialog import DestinationDialog
from desktop.gui.models.shipments import IdRole
from desktop.store import outbox
from desktop.store.tables import RegistrationRow, ShipmentRow, database
from tests.gui.seed import seed_shipments
from tests.helpers.registration import add_shipment, numbers

UPS = "1Z999AA10123456784"


def _open(window):
    window.tabs.setCurrentWidget(window.retries)
    view = window.retries
    view.refresh()
    assert view.wait()     # the queue is read on the database worker
    return view


def _ids(view) -> list[int]:
    return [view.table.model().index(row, 0).data(IdRole) for row in range(view.table.model().rowCount())]


def _select(view, shipment_id: int) -> None:
    """Select exactly that row (not `QTableView.selectRow`: it toggles when Qt still believes Ctrl is held
    after an earlier test's Ctrl+R)."""
    model, selection = view.table.model(), view.table.selectionModel()
    index = model.index(_ids(view).index(shipment_id), 0)
    view.table.setFocus()
    selection.setCurrentIndex(index, selection.SelectionFlag.ClearAndSelect | selection.SelectionFlag.Rows)


def _column(view, label: str) -> int:
    model = view.table.model()
    return next(c for c in range(model.columnCount())
                if model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) == label)


def _last_message(window) -> str:
    return window.messages.history[-1].text


def test_search_filter_by_reason_and_sort_over_hundreds_of_rows(window, qtbot):
    """Probe: no search, filter or sort over hundreds of rows; the reason only in a tooltip."""
    seed_shipments(1000)   # 400 rows wait or failed
    database.execute_sql("UPDATE registration SET kind = 'needs_info', last_error = 'DPD needs the destination "
                         "postcode. Add the destination postcode to the shipment.' WHERE shipment_id IN (3, 13)")
    view = _open(window)
    assert view.table.model().rowCount() == 400
    reason = _column(view, "Reason")                       # a visible column, not only a tooltip
    row_of_3 = _ids(view).index(3)
    assert "DPD needs the destination postcode" in view.table.model().index(row_of_3, reason).data()

    view.search.setText("1Z0000000000000100 ")          # the number of shipment 101
    assert _ids(view) == [101]
    view.search.setText("1z 0000 0000 0000 0100")        # typed in groups
    assert _ids(view) == [101]
    view.search.setText("")
    view.reason_filter.setCurrentIndex(view.reason_filter.findData("needs_info"))
    assert sorted(_ids(view)) == [3, 13]
    assert "(2 shown)" in view.count_label.text()
    view.reason_filter.setCurrentIndex(0)

    attempts = _column(view, "Attempts")
    view.table.sortByColumn(attempts, Qt.SortOrder.DescendingOrder)
    values = [int(view.table.model().index(r, attempts).data()) for r in range(view.table.model().rowCount())]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]


def test_rows_keep_their_order_and_the_selection_stays_across_refreshes(window, qtbot):
    """Probe: each refresh re-ordered the rows and the selection jumped."""
    seed_shipments(60)
    view = _open(window)
    before = _ids(view)
    chosen = before[len(before) // 2]
    _select(view, chosen)
    # The worker moves rows on: one queued row fails, another gets a later attempt, one is registered.
    database.execute_sql(f"UPDATE registration SET state = 'failed', kind = 'temporary', last_error = 'x' "
                         f"WHERE shipment_id = {before[-1]}")
    database.execute_sql(f"UPDATE registration SET next_attempt_at = 4e9 WHERE shipment_id = {before[0]}")
    database.execute_sql(f"UPDATE registration SET state = 'registered' WHERE shipment_id = {before[1]}")
    view.refresh()
    assert view.wait()
    assert _ids(view) == [sid for sid in before if sid != before[1]]
    assert view.selected_ids() == [chosen]
    assert view.table.currentIndex().data(IdRole) == chosen


def test_the_evidence_shows_and_the_conversation_opens_in_front(window, qtbot):
    seed_shipments(10)
    view = _open(window)
    _select(view, 3)
    assert view.wait()                                     # the details are read on the database worker
    shipment = ShipmentRow.get_by_id(3)
    assert view.details.evidence.toPlainText() == shipment.evidence
    assert view.details.front_link == front_url(shipment.conversation_id)
    assert view.details.front_button.isEnabled()


def test_the_destination_dialog_names_the_missing_field(window, qtbot, monkeypatch):
    """Probe: the dialog asked for "the destination" without saying which field Ship24 lacks."""
    shown = []

    def fake_exec(dialog):
        shown.append(dialog)
        return 0

    monkeypatch.setattr(DestinationDialog, "exec", fake_exec)
    add_shipment("SSDPD000111222", courier="dpd", courier_code="dpd", carrier="DPD", country="GB")
    RegistrationRow.update(state="failed", kind="needs_info", last_error=(
        "The carrier needs more details before Ship24 can track it: DPD needs the destination postcode. "
        "Add the destination postcode to the shipment; it is registered as soon as it is saved.")).execute()
    view = _open(window)
    _select(view, _ids(view)[0])
    view.buttons["destination"].click()
    (dialog,) = shown
    texts = " ".join(label.text() for label in dialog.findChildren(type(view.count_label)))
    assert "Missing: the destination postcode." in texts and "destination country" not in texts


def test_retry_all_says_how_many_were_queued(window, qtbot):
    seed_shipments(3)
    database.execute_sql("UPDATE registration SET state = 'failed', kind = 'temporary', last_error = 'gave up'")
    view = _open(window)
    view.buttons["all"].click()
    assert _last_message(window) == "Retry all: 3 registrations queued for an attempt now."
    assert view.feedback.text() == _last_message(window)


def test_retrying_one_row_while_paused_retries_only_that_row(window, services, qtbot):
    """Probe: Retry on one paused row lifted the pause for all of them and registered everything."""
    first, *others = (add_shipment(n) for n in numbers(3, seed=8))
    outbox.pause_all("Ship24 quota used up: upgrade the plan.")
    view = _open(window)
    _select(view, first)
    qtbot.keyClick(view.table, "r", modifier=Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: outbox.registration_for(first).state == outbox.REGISTERED, timeout=20_000)
    assert {outbox.registration_for(sid).state for sid in others} == {outbox.PAUSED}
    assert services.sims.ship24.log.trackers_created == 1
    assert _last_message(window) == "Retrying 1 selected registration now."


def test_a_fixed_item_waits_for_approval_when_approval_by_hand_is_on(window, services, qtbot):
    """Probe: with hand approval on, a fixed row stayed "queued" forever (the worker takes approved ones only)."""
    window.bridge.worker.approve_all_by_hand = True
    sid = add_shipment(UPS)
    RegistrationRow.update(state="failed", kind="needs_info",
                           last_error="Ship24 needs the destination postcode").execute()
    view = _open(window)
    _select(view, sid)
    view.ask_destination = lambda _item: ("SW1A 1AA", "GB")
    view.buttons["destination"].click()
    view.refresh()
    assert view.wait()
    row = _ids(view).index(sid)
    assert view.table.model().index(row, _column(view, "State")).data() == "waits for approval"
    assert "approved by hand" in view.table.model().index(row, _column(view, "Reason")).data()
    assert "waits for approval" in _last_message(window)
    _select(view, sid)
    view.buttons["approve"].click()                        # the person approves: now it registers
    qtbot.waitUntil(lambda: outbox.registration_for(sid).state == outbox.REGISTERED, timeout=20_000)


def test_a_held_conversation_is_one_row_with_its_evidence(window, qtbot, monkeypatch):
    """Issue 13: the hostile conversation is ONE review item in the GUI, never registered by itself."""
    from desktop.gui.heldpanel import HeldEvidenceDialog
    from tests.helpers.hostile import commit_hostile_conversation

    yielded = commit_hostile_conversation()
    view = _open(window)
    held = view.held
    assert held.isVisible() and held.model.rowCount() == 1
    reason = held.model.index(0, 3).data()
    assert f"{yielded:,} candidate numbers held, more than a plausible order (limit 10)" in reason
    shown = []
    monkeypatch.setattr(HeldEvidenceDialog, "exec", lambda dialog: shown.append(dialog) or 0)
    held.buttons["evidence"].click()
    (dialog,) = shown
    first = ShipmentRow.select().order_by(ShipmentRow.id).first()
    assert f"Tracking: {first.tracking_number}" in dialog.text.toPlainText()
    assert dialog.front_link == front_url("cnv_hostile")

    held.confirm_release = lambda _group: False            # the person cancels: nothing changes
    held.buttons["release"].click()
    assert {r.state for r in RegistrationRow.select()} == {outbox.WAITING_APPROVAL}
    held.buttons["reject"].click()
    assert {r.state for r in RegistrationRow.select()} == {outbox.DISMISSED}
    assert view.wait()
    assert not held.isVisible() and f"Rejected {yielded:,} shipments" in _last_message(window)
    assert window.bridge.services.sims.ship24.log.create_requests == 0


def test_releasing_a_held_conversation_queues_it(window, qtbot):
    from tests.helpers.hostile import commit_hostile_conversation

    yielded = commit_hostile_conversation()
    view = _open(window)
    view.held.confirm_release = lambda group: group.count == yielded
    view.bridge.worker.approve_all_by_hand = True          # released means approved: it registers anyway
    view.held.buttons["release"].click()
    assert ShipmentRow.select().where(ShipmentRow.review_state == "approved").count() == yielded
    assert f"Released {yielded:,} shipments" in _last_message(window)
    assert view.wait()
    assert view.held.model.rowCount() == 0
