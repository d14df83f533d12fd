"""Issue 15 in the real window against the simulators: tracking at a glance (status groups with live
counts, badges, checkpoint, days in transit) and customer context (name, email, message date; search).

A week's demo scan through the Front simulator (rules extractor), registration by the running worker
with the Ship24 simulator, whose trackers move (movement on, a 1-hour step every 0.1 s, seeded rates with
many exceptions and stalls), then a status refresh (F5's path).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.gui.messages import Messages
from desktop.gui.models.shipments import COLUMNS, MILESTONE_BADGES
from desktop.gui.trackingbar import KEYS as KEYS_OF_BAR
from desktop.store import outbox
from desktop.store.tables import ConversationRow, RegistrationRow, ShipmentRow
from tests.gui.conftest import moving_sim_config, run

KEYS = [key for key, _header in COLUMNS]


@pytest.fixture
def moving_window(qloop, qtbot, tmp_path: Path, small_workspace):
    """The real main window over demo services whose Ship24 trackers move fast, with the worker running."""
    from desktop.app import compose
    from desktop.services import open_services

    config = moving_sim_config()
    manager = open_services(demo=True, db=tmp_path / "demo.sqlite3", sim_config=config, workspace=small_workspace)
    services = run(qtbot, manager.__aenter__())
    bridge, win = compose(services, Messages())
    qtbot.addWidget(win)
    win.show()
    win.start()
    bridge.start_worker()
    yield win
    run(qtbot, bridge.aclose())
    run(qtbot, manager.__aexit__(None, None, None))


def _scan_week(window, qtbot) -> None:
    panel, bridge = window.scan_panel, window.bridge
    panel.extractor.setCurrentIndex(panel.extractor.findData("rules"))
    panel.apply_preset("7d")
    with qtbot.waitSignal(bridge.run_finished, timeout=60_000):
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not bridge.scanning, timeout=5000)


def _registered_and_refreshed(window, qtbot) -> list[ShipmentRow]:
    """Approve everything, wait until the worker registered it all, let the journeys end, refresh status."""
    bridge = window.bridge
    pending = [s.id for s in ShipmentRow.select().where(ShipmentRow.review_state == "pending")]
    if pending:
        bridge.approve(pending)
    qtbot.waitUntil(lambda: RegistrationRow.select().where(RegistrationRow.state.in_(
        (outbox.QUEUED, outbox.WAITING_APPROVAL))).count() == 0, timeout=30_000)
    time.sleep(0.8)                                  # every journey's last event (5 steps of 0.1 s) is out
    with qtbot.waitSignal(bridge.status_refresh_busy, timeout=30_000, check_params_cb=lambda busy: not busy):
        bridge.refresh_status()
    return list(ShipmentRow.select())


def _counts(bar) -> dict[str, int]:
    """The counts the bar's tabs show: "In transit (18)" -> 18 ("Not updated" left out)."""
    shown = {key: bar.text(key).rpartition("(")[2].rstrip(")").replace(",", "") for key in KEYS_OF_BAR}
    return {key: int(text) for key, text in shown.items() if key != "stale" and text.isdigit()}


GROUP_OF = {"pending": "in_transit", "info_received": "in_transit", "in_transit": "in_transit",
            "available_for_pickup": "in_transit", "out_for_delivery": "out_for_delivery",
            "delivered": "delivered", "exception": "exception", "failed_attempt": "exception"}


def test_status_groups_count_live_and_filter_with_badges_and_checkpoints(moving_window, qtbot, tmp_path):
    window = moving_window
    _scan_week(window, qtbot)
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    bar = view.tracking_bar
    total = ShipmentRow.select().count()
    assert total >= 10
    qtbot.waitUntil(lambda: _counts(bar)["not_registered"] > 0, timeout=3000)   # nothing registered yet
    rows = [s for s in _registered_and_refreshed(window, qtbot) if s.milestone]
    view.reload()
    view.wait()
    expected = {key: 0 for key in ("in_transit", "out_for_delivery", "delivered", "exception")}
    for row in rows:                                  # counted here in Python, not with the view's SQL
        expected[GROUP_OF[row.milestone]] += 1
    assert expected["delivered"] and expected["exception"] and expected["in_transit"], expected
    expected["all"] = total
    expected["not_registered"] = sum(1 for s in ShipmentRow.select() if s.review_state != "rejected" and
                                     RegistrationRow.get(RegistrationRow.shipment == s.id).state
                                     not in (outbox.REGISTERED, outbox.DISMISSED))
    qtbot.waitUntil(lambda: _counts(bar) == expected, timeout=3000)     # the counts follow the table

    bar.tabs.setCurrentIndex(KEYS_OF_BAR.index("exception"))   # the group filters the table to exactly those
    model = view.model
    qtbot.waitUntil(lambda: model.rowCount() == expected["exception"], timeout=3000)
    status, checkpoint, days = KEYS.index("status"), KEYS.index("checkpoint"), KEYS.index("days")
    for r in range(model.rowCount()):
        shown = model.index(r, status).data()
        assert shown in ("Exception", "Failed attempt")
        colour = model.index(r, status).data(Qt.ItemDataRole.DecorationRole)
        assert colour.name() == MILESTONE_BADGES["exception" if shown == "Exception" else "failed_attempt"][1]
        assert model.index(r, checkpoint).data()       # the last checkpoint's text
        assert model.index(r, days).data().isdigit()   # days since it was shipped
    # The group is remembered like the other filters.
    from PySide6.QtCore import QSettings
    state = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    view.save_state(state)
    bar.set_group(None)
    view.restore_state(state)
    assert bar.group() == "exception"


def test_customer_name_email_and_message_date_in_table_details_export_and_search(moving_window, qtbot, tmp_path):
    window = moving_window
    _scan_week(window, qtbot)
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    shipment = ShipmentRow.select().order_by(ShipmentRow.id).first()
    conversation = ConversationRow.get_by_id(shipment.conversation_id)
    name, _, email = conversation.customer.partition(" <")   # as the Front simulator named the recipient
    email = email.rstrip(">")
    assert name and "@" in email
    view.select_ids([shipment.id], current=shipment.id)
    row = view.model.row_of(shipment.id)
    view.model.row(row)  # its page, if the view has not painted it yet
    assert view.model.index(row, KEYS.index("customer")).data() == name
    assert view.model.index(row, KEYS.index("email")).data() == email
    assert view.model.index(row, KEYS.index("message")).data()[:4].isdigit()
    assert name in view.details.fields["customer"].text() and email in view.details.fields["customer"].text()
    assert view.model.index(row, KEYS.index("message")).data() in view.details.fields["customer"].text()

    view.text_filter.setText(f'"{name}"')               # search by customer
    view.apply_filter()
    view.wait()
    with_name = {s.id for s in ShipmentRow.select().join(ConversationRow)
                 .where(ConversationRow.customer.contains(name))}
    assert set(view.model.ids()) == with_name

    target = tmp_path / "customers.csv"
    view.ask_export_path = lambda: str(target)
    view.export_view()
    with target.open(encoding="utf-8-sig") as handle:
        table = list(csv.reader(handle))
    header = table[0]
    assert header[:4] == ["Number", "Carrier", "Order/PO", "Supplier"]   # the old columns kept their places
    line = next(r for r in table[1:] if r[0] == shipment.tracking_number)
    assert line[header.index("Customer")] == name and line[header.index("Customer email")] == email
