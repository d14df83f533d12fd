"""A support agent's whole day in the real window, on the demo's simulators (issue 11's "done when"):
scan a week, review 10 shipments by hand, fix 3 failed registrations, export, and never once be shown a
raw exception text."""

from __future__ import annotations

import re
from dataclasses import replace

from PySide6.QtCore import Qt

from desktop.store import outbox
from desktop.store.tables import RegistrationRow, ShipmentRow
from tests.gui.test_review_and_retry import _select_rows

#: What an exception's own text looks like when it reaches a person unexplained.
RAW = re.compile(r"Traceback|\b\w+(Error|Exception)\b|Errno|httpx|httpcore|\bat 0x[0-9a-f]+|File \"")


def test_a_whole_demo_day_shows_no_raw_exception(window, services, qtbot, tmp_path):
    bridge, panel, messages = window.bridge, window.scan_panel, window.messages
    # Morning: every shipment waits for a person, and the Ship24 plan has run out (a failure to fix later).
    bridge.apply_settings(replace(services.settings, approve_all_by_hand=True))
    services.sims.ship24.config.quota = 0
    panel.extractor.setCurrentIndex(panel.extractor.findData("llm"))
    panel.apply_preset("7d")
    with qtbot.waitSignal(bridge.run_finished, timeout=90_000) as finished:
        panel.start_button.click()
    summary = finished.args[0].summary
    assert summary["conversations_failed"] == 0 and summary["shipments_found"] >= 10
    assert RegistrationRow.select().where(RegistrationRow.state == outbox.REGISTERED).count() == 0

    # Review 10 shipments: approve seven, reject three.
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    qtbot.waitUntil(lambda: view.model.rowCount() >= 10, timeout=5000)
    approved = [view.model.shipment_id(r) for r in range(7)]
    rejected = [view.model.shipment_id(r) for r in range(7, 10)]
    _select_rows(view, qtbot, list(range(7)))
    qtbot.keyClick(view.table, Qt.Key.Key_A)
    for sid in rejected:
        _select_rows(view, qtbot, [view.model.row_of(sid)])
        qtbot.keyClick(view.table, Qt.Key.Key_R)
    assert {ShipmentRow.get_by_id(s).review_state for s in approved} == {"approved"}
    assert {ShipmentRow.get_by_id(s).review_state for s in rejected} == {"rejected"}

    # The approved ones meet the spent Ship24 plan: registration pauses, nothing is lost.
    qtbot.waitUntil(lambda: RegistrationRow.select().where(
        RegistrationRow.shipment.in_(approved), RegistrationRow.state == outbox.PAUSED).count() == 7, timeout=20_000)

    # Fix 3 failures: the plan is renewed, three rows are retried from the retry queue.
    services.sims.ship24.config.quota = None
    queue = window.retries
    window.tabs.setCurrentWidget(queue)
    queue.refresh()
    qtbot.waitUntil(lambda: all(queue.model.row_of(s) is not None for s in approved[:3]), timeout=5000)
    queue.table.setFocus()
    queue.table.clearSelection()
    for sid in approved[:3]:
        queue.table.selectionModel().select(
            queue.model.index(queue.model.row_of(sid), 0),
            queue.table.selectionModel().SelectionFlag.Select | queue.table.selectionModel().SelectionFlag.Rows)
    queue.buttons["retry"].click()
    qtbot.waitUntil(lambda: RegistrationRow.select().where(
        RegistrationRow.shipment.in_(approved[:3]), RegistrationRow.state == outbox.REGISTERED).count() == 3,
        timeout=20_000)
    assert services.sims.ship24.log.trackers_created == 3       # those three, and nothing else
    assert RegistrationRow.get(RegistrationRow.shipment == approved[3]).state == outbox.PAUSED

    # Evening: export the day's shipments.
    window.tabs.setCurrentWidget(view)
    assert view.export_file(tmp_path / "day.xlsx") == view.model.rowCount()

    shown = [m.text for m in messages.history]
    assert shown and not [text for text in shown if RAW.search(text)], shown
    assert not RAW.search(window.statusBar().currentMessage())
