"""Issue 15 items 5 and 8 in the real window against the simulators: the start-up range "since last scan",
the morning scan (its own clock, the scan itself real), "Rescan this range" with its price, and Re-run
from a history row."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from PySide6.QtCore import QDateTime, QSettings
from PySide6.QtGui import QAction

from desktop.gui.messages import Messages
from desktop.store import views
from tests.gui.conftest import run


def _scan(window, qtbot, preset: str = "7d"):
    """A scan by the Scan button (rules extractor) to its end; returns its RunFinished event."""
    panel, bridge = window.scan_panel, window.bridge
    panel.extractor.setCurrentIndex(panel.extractor.findData("rules"))
    panel.apply_preset(preset)
    with qtbot.waitSignal(bridge.run_finished, timeout=60_000) as finished:
        panel.start_button.click()
    qtbot.waitUntil(lambda: not bridge.scanning, timeout=5000)
    return finished.args[0]


def _restart(window, services, qtbot):
    """Close `window` (it saves its state) and open the next one on the same state file."""
    from desktop.app import compose

    window.close()
    bridge2, second = compose(services, Messages())
    qtbot.addWidget(second)
    second.show()
    second.start()
    return bridge2, second


# --- the start-up range ----------------------------------------------------------------------------------


def test_startup_range_is_since_last_scan_once_a_scan_exists(window, services, qtbot):
    assert window.scan_panel.preset == "7d"                      # first start: the default stays
    _scan(window, qtbot)
    last_until = views.last_completed_scan_until()
    bridge2, second = _restart(window, services, qtbot)
    try:
        panel = second.scan_panel
        assert panel.preset == "last"
        since, until = panel.range()
        assert since == min(last_until, until - 60)            # (at least a minute: preset_range)
        # Dates set by hand are remembered as they are, scan or not.
        panel.since_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(last_until) - 3 * 86400))
        hand = panel.range()
        bridge3, third = _restart(second, services, qtbot)
        try:
            assert third.scan_panel.preset is None and third.scan_panel.range()[0] == hand[0]
        finally:
            run(qtbot, bridge3.aclose())
    finally:
        run(qtbot, bridge2.aclose())


# --- the morning scan ----------------------------------------------------------------------------------


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.moment = start

    def __call__(self) -> dt.datetime:
        return self.moment


def test_morning_scan_runs_once_a_day_at_its_time_and_never_over_a_running_scan(window, services, qtbot):
    from desktop.gui.morningscan import STATE_KEY

    bridge, morning = window.bridge, window.morning
    _scan(window, qtbot)                                       # so "since last scan" has a start
    clock = Clock(dt.datetime(2026, 12, 7, 7, 59, 30))
    morning.now = clock
    bridge.apply_settings(replace(services.settings, morning_scan=True, morning_scan_at="08:00"))
    assert morning.enabled
    runs = len(views.runs())
    clock.moment = dt.datetime(2026, 12, 7, 7, 59, 50)
    assert not morning.check()
    clock.moment = dt.datetime(2026, 12, 7, 8, 0, 10)
    with qtbot.waitSignal(bridge.run_finished, timeout=60_000) as finished:
        assert morning.check()
        assert not morning.check()                             # running, and today's has run
    assert finished.args[0].summary["state"] == "completed"
    qtbot.waitUntil(lambda: not bridge.scanning, timeout=5000)
    newest = views.runs()[0]
    assert len(views.runs()) == runs + 1 and newest.since == window.scan_panel.range()[0]
    assert window.scan_panel.preset == "last"
    clock.moment = dt.datetime(2026, 12, 7, 9, 0)
    assert not morning.check()                                 # not twice a day
    bridge.apply_settings(replace(services.settings, morning_scan_at="09:30"))
    clock.moment = dt.datetime(2026, 12, 7, 9, 31)
    assert not morning.check()                                 # not even at a later time set that day

    # The next day a scan by hand runs at the time: the morning scan waits for its end, then runs.
    bridge.apply_settings(replace(services.settings, morning_scan_at="08:00"))
    clock.moment = dt.datetime(2026, 12, 8, 8, 0, 5)
    window.scan_panel.apply_preset("7d")
    with qtbot.waitSignal(bridge.run_finished, timeout=60_000):
        window.scan_panel.start_button.click()
        qtbot.waitUntil(lambda: bridge.scanning, timeout=5000)
        assert not morning.check()
    qtbot.waitUntil(lambda: not bridge.scanning, timeout=5000)
    assert len(views.runs()) == runs + 2
    with qtbot.waitSignal(bridge.run_finished, timeout=60_000):
        assert morning.check()
    assert len(views.runs()) == runs + 3
    assert window.ui_state.value(STATE_KEY) == "2026-12-08"


def test_a_morning_time_missed_while_the_app_was_closed_does_not_fire_at_start(qtbot, tmp_path):
    from desktop.gui.morningscan import MorningScan

    state = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    started: list[dt.datetime] = []
    clock = Clock(dt.datetime(2026, 12, 7, 10, 15))            # the app starts after 08:00
    morning = MorningScan(state, lambda: started.append(clock.moment), lambda: False, now=clock)
    settings = type("S", (), {"morning_scan": True, "morning_scan_at": "08:00"})()
    morning.configure(settings)
    clock.moment = dt.datetime(2026, 12, 7, 10, 16)
    assert not morning.check() and not started
    clock.moment = dt.datetime(2026, 12, 8, 8, 0, 30)           # left running overnight: the next morning
    assert morning.check() and started == [clock.moment]
    settings.morning_scan_at = "25:00"                          # not a time: off, never a crash
    morning.configure(settings)
    assert not morning.enabled
    settings.morning_scan, settings.morning_scan_at = False, "08:00"
    morning.configure(settings)
    clock.moment = dt.datetime(2026, 12, 9, 8, 1)
    assert not morning.check() and len(started) == 1            # off: nothing


def test_settings_dialog_saves_the_schedules(window, services, qtbot, tmp_path):
    from PySide6.QtCore import QTime

    from desktop.gui.settingsdialog import SettingsDialog

    dialog = SettingsDialog(services.settings, window, settings_path=tmp_path / "settings.json")
    qtbot.addWidget(dialog)
    assert dialog.refresh_auto.isChecked() and not dialog.morning_scan.isChecked()
    assert not dialog.morning_at.isEnabled()
    dialog.refresh_auto.setChecked(False)
    dialog.morning_scan.setChecked(True)
    dialog.morning_at.setTime(QTime(7, 45))
    saved = []
    dialog.settings_saved.connect(saved.append)
    dialog.save()
    new = saved[0]
    assert (new.status_refresh_auto, new.status_refresh_minutes, new.morning_scan, new.morning_scan_at) == (
        False, services.settings.status_refresh_minutes, True, "07:45")
    from desktop import settings as settings_mod
    assert settings_mod.load(tmp_path / "settings.json").morning_scan_at == "07:45"


# --- Rescan this range, Re-run ---------------------------------------------------------------------------


def test_rescan_this_range_says_its_price_and_reads_everything_again(window, services, qtbot):
    bridge = window.bridge
    first = _scan(window, qtbot).summary
    listed = first["conversations_listed"]
    assert listed > 0
    asked: list[str] = []
    window.rescan.confirm = lambda text: asked.append(text) or False
    runs = len(views.runs())
    window.rescan_action.trigger()
    qtbot.waitUntil(lambda: bool(asked), timeout=20_000)
    text = asked[0]
    unchanged = views.known_conversations(*window.scan_panel.range()).unchanged
    assert unchanged >= listed - 2                             # the first scan read nearly all of them
    assert (f"A normal scan would read {listed - unchanged:,} of {listed:,} conversations "
            f"({unchanged:,} unchanged)") in text, text
    assert f"{listed:,} conversations in range, 0 unchanged since their last scan → {listed:,} to read" in text
    assert "Front requests" in text
    qtbot.wait(300)
    assert not bridge.scanning and len(views.runs()) == runs      # no: nothing started

    window.rescan.confirm = lambda text: asked.append(text) or True
    with qtbot.waitSignal(bridge.run_finished, timeout=60_000) as finished:
        window.rescan_action.trigger()
    summary = finished.args[0].summary
    assert summary["conversations_unchanged"] == 0 and summary["conversations_scanned"] == listed
    assert views.runs()[0].rescan


def test_rerun_from_a_history_row_scans_its_range_and_inboxes_again(window, services, qtbot):
    bridge, panel, history = window.bridge, window.scan_panel, window.history
    qtbot.waitUntil(lambda: panel.inbox_list.count() > 1, timeout=10_000)
    inbox = panel.inbox_list.item(1)
    inbox.setCheckState(inbox.checkState().Checked)
    first = _scan(window, qtbot, "30d")
    ran = views.runs()[0]
    assert ran.inboxes == (panel.selected_inboxes()[0],)
    panel.apply_preset("today")
    for row in range(panel.inbox_list.count()):                 # the panel now shows something else
        panel.inbox_list.item(row).setCheckState(inbox.checkState().Unchecked)
    window.tabs.setCurrentWidget(history)
    history.refresh()
    assert history.wait()
    assert not history.rerun_button.isEnabled()                 # nothing selected
    menu = history.menu_at(history.table.visualRect(history.model.index(0, 0)).center())
    with qtbot.waitSignal(bridge.run_finished, timeout=60_000) as finished:
        menu.findChild(QAction, "rerun").trigger()
    assert window.tabs.currentIndex() == 0                      # the progress is in view
    again = views.runs()[0]
    assert (again.since, again.until, again.inboxes, again.rescan) == (ran.since, ran.until, ran.inboxes, False)
    summary = finished.args[0].summary
    assert summary["conversations_listed"] == first.summary["conversations_listed"]
    assert summary["conversations_unchanged"] == summary["conversations_listed"]   # rescan off: nothing re-read
    assert panel.range() == (ran.since, ran.until) and panel.selected_inboxes() == list(ran.inboxes)
