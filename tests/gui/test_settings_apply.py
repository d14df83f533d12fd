"""Issue 11 items 1 and 2: saved settings apply at once; runtime endpoints (demo, env) are never saved.

The Settings dialog is opened from the real window (File → Settings, a modal `exec()`); a timer answers it
as a person would, through its widgets.
"""

from __future__ import annotations

import json
from dataclasses import replace

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel

from desktop import settings as settings_mod
from desktop.core.pipeline import ScanParams
from desktop.gui.settingsdialog import SettingsDialog
from desktop.store.tables import RegistrationRow, ShipmentRow
from tests.gui.conftest import run


def answer_modal(act, seen: dict) -> None:
    """Once a modal dialog is up, call `act(dialog)`; `seen["dialog"]` is the dialog it found. The dialog
    is closed afterwards whatever `act` did (a failing `act` must fail the test, not leave it waiting)."""
    def handle() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, handle)
            return
        seen["dialog"] = dialog
        try:
            act(dialog)
        finally:
            if dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, handle)


def week(services) -> ScanParams:
    """The workspace's last 7 days, rules extractor (no LLM needed)."""
    end = max(m.created_at for c in services.workspace.conversations for m in c.messages) + 2
    return ScanParams(end - 7 * 86400, end, batch_size=25, concurrent_batches=2, extractor="rules")


def test_hand_approval_saved_in_settings_applies_to_the_next_scan(window, services, qtbot):
    """Item 1: ticked and saved, "approve every shipment by hand" holds for the very next scan."""
    assert not services.settings.approve_all_by_hand
    seen: dict = {}

    def tick_and_save(dialog: SettingsDialog) -> None:
        seen["texts"] = "\n".join(label.text() for label in dialog.findChildren(QLabel))
        dialog.by_hand.setChecked(True)
        dialog.cap_scan.setValue(7)
        dialog.save()

    answer_modal(tick_and_save, seen)
    window.open_settings()
    assert isinstance(seen["dialog"], SettingsDialog)
    assert settings_mod.load().approve_all_by_hand  # saved

    with qtbot.waitSignal(window.bridge.run_finished, timeout=60_000):
        window.bridge.start_scan(week(services))
    drained = run(qtbot, window.bridge.worker.drain_once())
    assert ShipmentRow.select().count() > 0
    assert not ShipmentRow.select().where(ShipmentRow.review_state == "auto").exists()
    assert drained.attempted == 0 and services.sims.ship24.log.trackers_created == 0
    assert not RegistrationRow.select().where(RegistrationRow.state == "registered").exists()
    assert services.settings.approve_all_by_hand and services.settings.auto_register_per_scan == 7
    # The dialog said which settings apply at once and which at the next start.
    assert "apply at once" in seen["texts"] and "next time Shipscan starts" in seen["texts"]


def test_saving_settings_in_the_demo_keeps_the_real_endpoints(window, services, qtbot):
    """Item 2: the demo's 127.0.0.1 URLs are shown read-only and never written to the settings file."""
    path = settings_mod.settings_path()
    settings_mod.save(replace(settings_mod.Settings(), front_url="https://front.example.com"), path)
    seen: dict = {}

    def change_model_and_save(dialog: SettingsDialog) -> None:
        seen["read_only"] = [edit.isReadOnly() for edit in dialog.url_edits.values()]
        dialog.model_edit.setText("gpt-x")
        dialog.save()

    answer_modal(change_model_and_save, seen)
    window.open_settings()
    text = path.read_text()
    saved = json.loads(text)
    assert seen["read_only"] == [True, True, True]
    assert "127.0.0.1" not in text and saved["model"] == "gpt-x"
    assert saved["front_url"] == "https://front.example.com"        # the user's own endpoint survives
    assert saved["ship24_url"] == settings_mod.SHIP24_DEFAULT_URL
    # The running demo keeps its simulators, and the new model is in force at once.
    assert services.settings.front_url == services.sims.front_url
    assert services.llm.model == "gpt-x"


def test_endpoints_from_environment_variables_are_not_saved(qtbot, tmp_path, monkeypatch):
    """Item 2: an endpoint set by FRONT_API_URL is shown read-only and the file keeps its own."""
    path = tmp_path / "settings.json"
    settings_mod.save(replace(settings_mod.Settings(), front_url="https://front.example.com"), path)
    monkeypatch.setenv("FRONT_API_URL", "http://127.0.0.1:9")
    dialog = SettingsDialog(settings_mod.load(path).with_env(), settings_path=path)
    qtbot.addWidget(dialog)
    assert dialog.url_edits["front"].isReadOnly() and not dialog.url_edits["ship24"].isReadOnly()
    assert "FRONT_API_URL" in dialog.url_edits["front"].toolTip()
    dialog.url_edits["ship24"].setText("https://ship24.example.com")
    with qtbot.waitSignal(dialog.settings_saved):
        dialog.save()
    saved = json.loads(path.read_text())
    assert saved["front_url"] == "https://front.example.com"
    assert saved["ship24_url"] == "https://ship24.example.com"
