"""The main window: layout and wiring only (tabs for Scan, Shipments, Retry queue, History; menus; status bar).

Every behaviour lives in the views or the bridge; this module connects their signals. Tables that are
not visible are marked stale and refreshed when shown, so a scan's stream of events costs little.
Warnings and errors go to the error banner above the tabs and stay there until dismissed; info goes to
the status bar. Geometry, scan range, filters, sort and column widths are remembered (`uistate`).
What other desktops on a shared database change (issue 16) arrives through `teamsync` and takes the same
refresh as the window's own actions (`schedule_refresh`).
Issue 15's watchers: the tray icon with the counts (`tray`), notifications of new exceptions and stale
shipments (`notifications`), the morning scan (`morningscan`); Rescan and Re-run (`rescan`).

Signals:
    closed(): the window has really closed (after a running scan was cancelled, if there was one).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core import events as ev
from desktop.gui import dbworker, uistate
from desktop.gui.errorbanner import ErrorBanner
from desktop.gui.errortext import reported_text
from desktop.gui.formats import plural
from desktop.gui.historyview import HistoryView
from desktop.gui.messages import Messages, UserMessage
from desktop.gui.morningscan import MorningScan
from desktop.gui.notifications import ShipmentNotices
from desktop.gui.progress import ProgressView, format_duration
from desktop.gui.rescan import Rescan, rerun
from desktop.gui.retryview import RetryView
from desktop.gui.scanpanel import ScanPanel
from desktop.gui.shipmentsview import ShipmentsView
from desktop.gui.teamsync import TeamSync
from desktop.gui.tray import Tray
from desktop.gui.undoaction import add_undo_action
from desktop.store import views

#: A scan that took at least this long gets a desktop notification when it finishes.
NOTIFY_AFTER_SECONDS = 60.0


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, bridge, messages: Messages, *, log_path=None, llm_available: bool = True,
                 demo: bool = False, ui_state: QSettings | None = None) -> None:
        super().__init__()
        self.bridge, self.messages, self.log_path = bridge, messages, log_path
        self.setWindowTitle("Shipscan" + (" (demo)" if demo else ""))
        self.setAccessibleName("Shipscan")
        self.notifications: list[str] = []
        self.confirm_close = self._confirm_close
        self._close_after_scan = False
        self._scan_started_at = 0.0
        self._build(bridge, llm_available)
        self._build_menus()
        self._wire(bridge, messages)
        self.ui_state = ui_state if ui_state is not None else uistate.open_state(demo)
        self._build_watchers()
        uistate.restore_geometry(self, self.ui_state)

    # ------------------------------------------------------------------ layout

    def _build(self, bridge, llm_available: bool) -> None:
        self.scan_panel = ScanPanel(bridge.services.settings, llm_available=llm_available)
        self.progress = ProgressView()
        scan_tab = QSplitter(Qt.Orientation.Vertical)
        scan_tab.addWidget(self.scan_panel)
        scan_tab.addWidget(self.progress)
        scan_tab.setSizes([380, 440])
        self.shipments = ShipmentsView(bridge)
        self.retries = RetryView(bridge)
        self.retries.ask_edit = lambda row: self.shipments.ask_edit(row)
        self.history = HistoryView()
        self.tabs = QTabWidget()  # tab mnemonics (S, P, Q, Y) differ from the menus' (F, C, V, H)
        self.tabs.setAccessibleName("Sections")
        for widget, title in ((scan_tab, "&Scan"), (self.shipments, "Shi&pments"), (self.retries, "Retry &queue"),
                              (self.history, "Histor&y")):
            self.tabs.addTab(widget, title)
        self.banner = ErrorBanner()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.banner)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setAccessibleName("Status")
        self.statusBar().addWidget(self.status_label, 1)
        self._stale = {self.shipments: True, self.retries: True, self.history: True}
        self._refresh_timer = QTimer(self, singleShot=True, interval=600)
        self._refresh_timer.timeout.connect(self.refresh_tables)

    def _build_watchers(self) -> None:
        """The tray, the notices of exceptions and stale shipments, the morning scan (need `ui_state`)."""
        self.tray = Tray(self)
        self.tray.show_group.connect(self.show_group)
        self.tray.show_window.connect(self._bring_forward)
        self.tray.quit_requested.connect(self.close)
        days = self.shipments.tracking_bar.stale_days
        self.notices = ShipmentNotices(self.ui_state, getattr(self.bridge.services, "db_path", ""), days,
                                       self.notify, self)
        self.notices.counts_changed.connect(lambda exc, stale: self.tray.set_counts(exc, stale, days()))
        self.bridge.status_refreshed.connect(self.notices.check)
        self.morning = MorningScan(self.ui_state, self._start_morning_scan, lambda: self.bridge.scanning,
                                   parent=self)
        self.morning.configure(self.bridge.services.settings)
        self.bridge.settings_applied.connect(self.morning.configure)

    def _build_menus(self) -> None:
        def add(menu, text, slot, shortcut=None) -> QAction:
            action = menu.addAction(text)
            action.triggered.connect(slot)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            return action

        file_menu = self.menuBar().addMenu("&File")
        settings_action = add(file_menu, "&Settings…", self.open_settings)
        # Ctrl+, everywhere; the platform's own key too where it has one (Linux has none).
        keys = [QKeySequence("Ctrl+,")] + [k for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
                                           if k != QKeySequence("Ctrl+,")]
        settings_action.setShortcuts(keys)
        add(file_menu, "&Export shipments…", self.shipments.export_view)
        file_menu.addSeparator()
        add(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit_menu = self.menuBar().addMenu("Edit")  # no mnemonic free: E, D, I, T are taken on the tabs
        self.undo_action = add_undo_action(edit_menu, self.bridge)
        scan_menu = self.menuBar().addMenu("S&can")
        self.start_action = add(scan_menu, "&Start", self.scan_panel.start_button.click, "Ctrl+Return")
        self.rescan = Rescan(self.bridge, self.scan_panel, self)
        self.rescan_action = add(scan_menu, "Resca&n this range…", self.rescan.ask)
        self.cancel_action = add(scan_menu, "&Cancel", self.bridge.cancel_scan, "Ctrl+.")
        self.cancel_action.setEnabled(False)  # no scan yet
        add(scan_menu, "&Refresh tracking status", self.bridge.refresh_status, "F5")
        view_menu = self.menuBar().addMenu("&View")
        for number in range(self.tabs.count()):
            add(view_menu, self.tabs.tabText(number), lambda _=False, n=number: self.tabs.setCurrentIndex(n),
                f"Ctrl+{number + 1}")
        help_menu = self.menuBar().addMenu("&Help")
        add(help_menu, "Where is the &log file?", self._show_log_path)
        from desktop.gui.about import add_help_actions  # Help -> Documentation, About Shipscan

        add_help_actions(self, help_menu)

    # ------------------------------------------------------------------ wiring

    def _wire(self, bridge, messages: Messages) -> None:
        p = self.progress
        bridge.run_started.connect(self._on_run_started)
        bridge.listing_progress.connect(p.on_listing)
        bridge.batch_started.connect(p.batches.on_batch_started)
        bridge.conversation_finished.connect(p.batches.on_conversation_finished)
        bridge.batch_finished.connect(p.batches.on_batch_finished)
        bridge.progress.connect(p.on_progress)
        bridge.rate_limit_wait.connect(p.on_wait)
        bridge.run_finished.connect(self._on_run_finished)
        bridge.error_reported.connect(self._on_error_reported)
        bridge.registration_paused.connect(self._on_paused)
        for signal in (bridge.shipment_found, bridge.registration_changed, bridge.status_refreshed,
                       bridge.shipments_changed):
            signal.connect(self.schedule_refresh)
        bridge.scan_state_changed.connect(self._on_scan_state)
        bridge.estimate_ready.connect(self.scan_panel.show_estimate)
        bridge.inboxes_loaded.connect(self.scan_panel.set_inboxes)
        bridge.inboxes_unavailable.connect(self.scan_panel.set_inboxes_unavailable)
        self.scan_panel.start_requested.connect(bridge.start_scan)
        self.scan_panel.cancel_requested.connect(bridge.cancel_scan)
        self.scan_panel.estimate_requested.connect(bridge.estimate)
        self.scan_panel.reload_inboxes_requested.connect(bridge.load_inboxes)
        self.history.rerun_requested.connect(self._rerun)
        self.tabs.currentChanged.connect(lambda _i: self.refresh_tables())
        messages.shown.connect(self._show_message)
        messages.attach()
        self.teamsync = TeamSync(parent=self)  # other desktops' changes: the same refresh as after our own
        self.teamsync.changed_elsewhere.connect(self.schedule_refresh)

    def start(self) -> None:
        """First data: tables, inboxes, the "since last scan" preset, the remembered range and filters.
        Call once the loop runs."""
        self.scan_panel.set_last_completed(views.last_completed_scan_until())
        uistate.restore_views(self, self.ui_state)
        self.scan_panel.prefer_since_last_scan()
        self.refresh_tables(all_tables=True)
        self.teamsync.start()
        self.notices.start()
        self.bridge.load_inboxes()

    # ------------------------------------------------------------------ slots

    def schedule_refresh(self, *_args) -> None:
        for view in self._stale:
            self._stale[view] = True
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh_tables(self, all_tables: bool = False) -> None:
        """Refresh the visible table now (every stale one with `all_tables`)."""
        current = self.tabs.currentWidget()
        for view, stale in self._stale.items():
            if stale and (all_tables or view is current):
                view.reload() if view is self.shipments else view.refresh()
                self._stale[view] = False

    def _on_run_started(self, event: ev.RunStarted) -> None:
        self._scan_started_at = time.monotonic()
        self.progress.on_run_started(event)

    def _on_run_finished(self, event: ev.RunFinished) -> None:
        self.progress.on_run_finished(event)
        # On the database worker: the GUI thread never waits for the database during a scan (issue 16).
        dbworker.shared().submit(views.last_completed_scan_until, on_result=self.scan_panel.set_last_completed,
                                 owner=self.scan_panel)
        self._stale[self.history] = True
        self.schedule_refresh()
        seconds = time.monotonic() - self._scan_started_at
        found = event.summary.get("shipments_new")
        text = f"Scan {event.state.value} after {format_duration(seconds)}" + (
            f": {plural(found, 'new shipment')}." if isinstance(found, int) else ".")
        self.messages.info(text)
        if seconds >= NOTIFY_AFTER_SECONDS:
            self.notify("Shipscan: scan finished", text)

    def _on_paused(self, event: ev.RegistrationPaused) -> None:
        self.retries.set_paused(event.reason)
        self.messages.warning(f"Registration paused: {event.reason}")

    def _on_error_reported(self, event: ev.ErrorReported) -> None:
        # A failed scan is an error; one conversation that failed is a warning: the next scan retries it.
        report = self.messages.error if event.where == "scan" else self.messages.warning
        report(reported_text(event.where, event.message))

    def _on_scan_state(self, state: str) -> None:
        self.scan_panel.set_state(state)
        self.start_action.setEnabled(state == "idle")
        self.rescan_action.setEnabled(state == "idle")
        self.cancel_action.setEnabled(state == "scanning")
        if state == "idle" and self._close_after_scan:
            QTimer.singleShot(0, self.close)

    def _show_message(self, message: UserMessage) -> None:
        """Info in the status bar (the next one replaces it); warnings and errors in the banner, kept."""
        if message.level in ("warning", "error"):
            self.banner.add(message)
            return
        self.status_label.setText(message.text)
        self.status_label.setToolTip("\n".join(m.text for m in self.messages.history[-10:]))

    def notify(self, title: str, text: str) -> None:
        """A desktop notification (tray balloon where there is a tray) and the task bar flashes."""
        self.notifications.append(text)
        self.tray.notify(title, text)
        QApplication.alert(self)

    def show_group(self, key: str) -> None:
        """Bring the window forward on the shipments of status group `key` (the tray's menu)."""
        self._bring_forward()
        self.tabs.setCurrentWidget(self.shipments)
        self.shipments.tracking_bar.set_group(key)

    def _bring_forward(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def _start_morning_scan(self) -> None:
        """The morning scan: the Scan button over "since last scan"."""
        self.scan_panel.apply_preset("last")
        self.messages.info("Morning scan: scanning since the last scan.")
        self.scan_panel.start_button.click()

    def _rerun(self, run) -> None:
        """Re-run a history row: its range and inboxes, rescan off, with the progress in view."""
        if rerun(self.bridge, self.scan_panel, run):
            self.tabs.setCurrentIndex(0)

    def open_settings(self) -> None:
        from desktop.gui.settingsdialog import SettingsDialog

        dialog = SettingsDialog(self.bridge.services.settings, self)
        dialog.test_requested.connect(self.bridge.test_connection)
        self.bridge.connection_tested.connect(dialog.show_test_result)
        dialog.settings_saved.connect(self.bridge.apply_settings)  # applies at once; says what waits
        dialog.exec()
        self.bridge.connection_tested.disconnect(dialog.show_test_result)

    def _show_log_path(self) -> None:
        QMessageBox.information(self, "Log file", f"The log file is:\n{self.log_path or 'not available'}")

    # ------------------------------------------------------------------ closing

    def _confirm_close(self) -> bool:
        answer = QMessageBox.question(self, "A scan is running",
                                      "A scan is running. Cancel it and quit? Everything read so far is saved.")
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.bridge.scanning:
            event.ignore()
            if self._close_after_scan or self.confirm_close():
                self._close_after_scan = True
                self.bridge.cancel_scan()
            return
        event.accept()
        self.teamsync.stop()
        self.save_state()
        self.closed.emit()

    def save_state(self) -> None:
        """Remember geometry, range, filters, sort and column widths for the next start."""
        uistate.save(self, self.ui_state)
