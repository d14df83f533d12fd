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
    window.shipments.wait()
    model = window.shipments.model
    in_db = {s.tracking_number for s in ShipmentRow.select()}
    assert in_db, "the demo week holds shipments"
    shown = {model.row(r).number for r in range(model.rowCount())}  # row() waits for pages not shown yet
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
    assert window.history.wait()     # read on the database worker
    model = window.history.model
    assert model.rowCount() == 1
    assert model.index(0, 5).data() == "cancelled"


# --- issue 11 item 13: errors in words, kept visible, with details ------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_scan_that_cannot_reach_front_says_so_in_words_and_keeps_it(window, services, qtbot):
    front = services.front
    front._base = f"http://127.0.0.1:{_closed_port()}"   # Front unreachable: a real ConnectError
    front._max_attempts = 1                              # fail at once instead of backing off for 15 s
    bridge, panel = window.bridge, window.scan_panel
    panel.extractor.setCurrentIndex(panel.extractor.findData("rules"))
    with qtbot.waitSignal(bridge.run_finished, timeout=30_000) as finished:
        panel.start_button.click()
    assert finished.args[0].state == ev.RunState.FAILED
    qtbot.waitUntil(lambda: bridge.state == "idle", timeout=5000)

    banner = window.banner
    assert banner.isVisible()
    assert "could not reach Front" in banner.message.text() and "Settings" in banner.message.text()
    assert "ConnectError" in banner.details_text()          # the raw text is one click away
    counts = window.progress.counts.text()
    assert counts.startswith("Scan failed: Shipscan could not reach Front"), counts
    # Nothing raw reached the agent's eyes, and a later message does not hide the failure.
    shown = [m.text for m in window.messages.history]
    assert shown and not any("ConnectError" in text or "front: " in text for text in shown)
    window.messages.info("Tracking status: 3 checked, 0 changed.")
    assert window.status_label.text() == "Tracking status: 3 checked, 0 changed."
    assert banner.isVisible() and "could not reach Front" in banner.message.text()
    banner.details_button.click()
    assert banner.details.isVisible()
    banner.dismiss_button.click()
    assert not banner.isVisible()


# --- issue 11 item 14: remembered between sessions; the first window fits a 768-pixel screen -------------


def test_range_filters_sort_and_widths_are_remembered(window, services, qtbot):
    from desktop.app import compose
    from desktop.gui.messages import Messages

    # First start: the window (with its title bar, ~40 px) fits a 1366x768 screen's free area, and it can
    # shrink further (its minimum height) on a smaller one.
    assert window.height() <= 720 and window.minimumSizeHint().height() <= 700
    view, panel = window.shipments, window.scan_panel
    panel.apply_preset("30d")
    view.text_filter.setText("acme")
    view.review_filter.setCurrentIndex(view.review_filter.findData("pending"))
    view.date_check.setChecked(True)
    view.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.table.setColumnWidth(1, 222)
    window.resize(window.width(), 560)  # (the offscreen screen is 800 px wide: keep the width)
    window.close()

    bridge2, second = compose(services, Messages())
    qtbot.addWidget(second)
    second.show()
    second.start()
    try:
        view2 = second.shipments
        assert second.scan_panel.preset == "30d"
        since, until = second.scan_panel.range()
        assert 29.9 < (until - since) / 86400 < 30.1
        assert view2.text_filter.text() == "acme" and view2.review_filter.currentData() == "pending"
        assert view2.date_check.isChecked() and view2.date_from.isEnabled()
        assert view2.model.filter.text == "acme" and view2.model.filter.review == "pending"
        assert view2.model.sort_order.column == "number" and not view2.model.sort_order.descending
        assert view2.table.columnWidth(1) == 222
        assert second.height() == 560
    finally:
        from tests.gui.conftest import run

        run(qtbot, bridge2.aclose())


# --- issue 11 item 15: dates, counts, shortcuts, Cancel ----------------------------------------------------


def _mnemonics(widgets) -> list[str]:
    import re

    letters = []
    for widget in widgets:
        text = widget.text() if hasattr(widget, "text") else widget.title()
        match = re.search(r"&([^&])", text.replace("&&", ""))
        if match and widget.isVisibleTo(widget.window()):
            letters.append(match.group(1).lower())
    return letters


def test_dates_counts_shortcuts_and_cancel_are_consistent(window, qtbot):
    from PySide6.QtGui import QKeySequence
    from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel

    from tests.gui.seed import seed_shipments

    seed_shipments(5)
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.text_filter.setText(ShipmentRow.get_by_id(3).tracking_number)
    view.apply_filter()
    view.wait()
    assert view.count_label.text() == "1 shipment"
    # ISO dates in the date filter, as in the table and the scan range (never the locale's "6 11 2026").
    iso = view.date_from.date().toString("yyyy-MM-dd")
    assert view.date_from.text() == iso and window.scan_panel.since_edit.text()[:10].count("-") == 2
    # No mnemonic is used twice on a tab together with the menu bar and the banner (Alt+F was both
    # the File menu and "Open in Front").
    window.messages.warning("A warning, so that the banner and its buttons show.")
    always = [a.text() for a in window.menuBar().actions()] + [window.tabs.tabText(i) for i in range(4)]
    always_letters = [text.split("&")[1][0].lower() for text in always if "&" in text]
    for tab in (view, window.tabs.widget(0)):
        widgets = [w for cls in (QAbstractButton, QLabel, QGroupBox) for w in tab.findChildren(cls)]
        widgets = [w for w in widgets if not isinstance(w, QLabel) or w.buddy() is not None]
        letters = _mnemonics(widgets) + _mnemonics([window.banner.details_button, window.banner.dismiss_button])
        letters += always_letters
        assert len(letters) == len(set(letters)), sorted(letters)
    settings_action = next(a for a in window.menuBar().actions()[0].menu().actions() if "Settings" in a.text())
    assert QKeySequence("Ctrl+,") in settings_action.shortcuts()
    # Cancel is off while no scan runs, in the panel and in the Scan menu.
    assert not window.scan_panel.cancel_button.isEnabled() and not window.cancel_action.isEnabled()
    assert window.start_action.isEnabled()
