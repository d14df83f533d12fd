"""The real main window against the simulators: a week's demo scan, live batches, the shipments table."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.core import events as ev
from desktop.store.tables import ShipmentRow


def test_week_scan_runs_to_the_end_with_live_batch_rows(window, qtbot):
    bridge, panel = window.bridge, window.scan_panel
    panel.batch_size.setValue(10)
    panel.concurrent.setValue(2)
    panel.extractor.setCurrentIndex(panel.extractor.findData("rules"))
    panel.apply_preset("7d")
    batch_rows_seen: list[int] = []
    bridge.conversation_finished.connect(lambda _e: batch_rows_seen.append(window.progress.batches.rowCount()))

    with qtbot.waitSignal(bridge.run_finished, timeout=60_000) as finished:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bridge.scanning, timeout=5000)
        assert not panel.start_button.isEnabled() and panel.cancel_button.isEnabled()

    event: ev.RunFinished = finished.args[0]
    assert event.state == ev.RunState.COMPLETED
    rows = window.progress.batches.rows()
    assert len(rows) >= 2 and all(row.state == "done" for row in rows)
    assert sum(row.done for row in rows) == sum(row.size for row in rows)
    # The table grew while the scan ran, not only at the end.
    assert batch_rows_seen and min(batch_rows_seen) < len(rows)
    qtbot.waitUntil(lambda: not bridge.scanning and panel.start_button.isEnabled(), timeout=5000)
    assert "conversations" in window.progress.counts.text()

    # The shipments table shows exactly the database's shipments.
    window.tabs.setCurrentWidget(window.shipments)
    window.shipments.reload()
    model = window.shipments.model
    in_db = {s.tracking_number for s in ShipmentRow.select()}
    assert in_db, "the demo week holds shipments"
    shown = {model.index(r, 0).data() for r in range(model.rowCount())}
    assert shown == in_db and model.rowCount() == len(in_db)


def test_cancel_stops_the_scan_and_history_records_it(window, qtbot):
    bridge, panel = window.bridge, window.scan_panel
    panel.batch_size.setValue(5)
    panel.concurrent.setValue(1)
    panel.extractor.setCurrentIndex(panel.extractor.findData("rules"))
    panel.apply_preset("30d")
    with qtbot.waitSignal(bridge.run_finished, timeout=30_000) as finished:
        panel.start_button.click()
        qtbot.waitSignal(bridge.batch_finished, timeout=20_000).wait()
        panel.cancel_button.click()
    assert finished.args[0].state == ev.RunState.CANCELLED
    qtbot.waitUntil(lambda: bridge.state == "idle", timeout=5000)
    window.tabs.setCurrentWidget(window.history)
    model = window.history.model
    assert model.rowCount() == 1
    assert model.index(0, 5).data() == "cancelled"
