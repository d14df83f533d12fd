"""Care: crash handler, buffered messages, closing during a scan, settings without a keyring, notifications."""

from __future__ import annotations

import sys

import keyring
from keyring.backends import fail

from desktop.core import events as ev
from desktop.gui.crash import CrashHandler
from desktop.gui.messages import Messages
from desktop.gui.settingsdialog import SettingsDialog
from desktop.settings import Settings


def test_crash_handler_writes_details_when_headless(tmp_path, qapp):
    handler = CrashHandler(tmp_path / "shipscan.log", lambda: "recent line", headless=True)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        handler.hook(*sys.exc_info())
    assert len(handler.dumps) == 1
    text = handler.dumps[0].read_text()
    assert "RuntimeError: boom" in text and str(tmp_path / "shipscan.log") in text and "recent line" in text


def test_crash_dialog_when_not_headless(tmp_path, qtbot):
    handler = CrashHandler(tmp_path / "shipscan.log", headless=False)
    for message in ("first", "second"):
        try:
            raise ValueError(message)
        except ValueError:
            handler.hook(*sys.exc_info())
    dialog = handler._dialog
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    details = dialog.text.toPlainText()
    assert "ValueError: first" in details and "ValueError: second" in details  # one dialog, both errors


def test_messages_are_buffered_until_attached(qapp):
    messages = Messages()
    shown = []
    messages.shown.connect(shown.append)
    messages.error("early")
    assert shown == []
    messages.attach()
    messages.info("late")
    assert [m.text for m in shown] == ["early", "late"]


def test_closing_during_a_scan_asks_then_cancels(window, qtbot):
    bridge, panel = window.bridge, window.scan_panel
    # One conversation at a time: the scan must still run when the second close cancels it (with five at
    # once it sometimes completed first, under load).
    panel.batch_size.setValue(1)
    panel.concurrent.setValue(1)
    panel.extractor.setCurrentIndex(panel.extractor.findData("rules"))
    panel.apply_preset("30d")
    asked = []
    window.confirm_close = lambda: asked.append(1) or False
    panel.start_button.click()
    qtbot.waitUntil(lambda: bridge.scanning, timeout=5000)
    window.close()  # the user says no: the window stays, the scan goes on
    assert asked == [1] and window.isVisible() and bridge.scanning
    window.confirm_close = lambda: asked.append(2) or True
    with qtbot.waitSignal(window.closed, timeout=20_000), qtbot.waitSignal(bridge.run_finished) as finished:
        window.close()
    assert finished.args[0].state == ev.RunState.CANCELLED
    assert not bridge.scanning and not window.isVisible()


def test_long_scan_sends_a_notification(window, qtbot):
    window._scan_started_at -= 3600  # as if the scan had started an hour ago
    window.bridge.sink(ev.RunFinished(1, ev.RunState.COMPLETED, {"shipments_new": 3}))
    assert window.notifications and "3 new shipments" in window.notifications[-1]






def test_settings_without_a_keyring_says_so(qtbot, tmp_path):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        dialog = SettingsDialog(Settings(), settings_path=tmp_path / "settings.json")
        qtbot.addWidget(dialog)
        assert not dialog.keyring_ok
        assert not dialog.key_edits["front"].isEnabled()
        dialog.key_edits["front"].setText("secret")
        assert not dialog.save_key("front")
        assert "keyring" in dialog.test_results["front"].text().lower()
        assert not list(tmp_path.iterdir())  # nothing written anywhere
    finally:
        keyring.set_keyring(previous)


def test_settings_keys_show_only_set_or_not(qtbot, tmp_path, memory_keyring):
    dialog = SettingsDialog(Settings(), settings_path=tmp_path / "settings.json")
    qtbot.addWidget(dialog)
    assert dialog.key_status["ship24"].text() == "not set"
    dialog.key_edits["ship24"].setText("apik_secret_value")
    assert dialog.save_key("ship24")
    assert dialog.key_status["ship24"].text() == "set"
    assert memory_keyring.store[("shipscan", "ship24")] == "apik_secret_value"
    assert "apik_secret_value" not in dialog.key_status["ship24"].text()
    dialog.share.setValue(50)
    dialog.by_hand.setChecked(True)
    with qtbot.waitSignal(dialog.settings_saved) as saved:
        dialog.save()
    assert saved.args[0].front_budget_share == 0.5 and saved.args[0].approve_all_by_hand
    assert "apik_secret_value" not in (tmp_path / "settings.json").read_text()


def test_test_connection_against_the_simulators(window, services, qtbot):
    from desktop.sim import DEMO_KEYS

    bridge = window.bridge
    for service, url, key, ok in (("front", services.sims.front_url, DEMO_KEYS["front"], True),
                                  ("front", services.sims.front_url, "wrong-token", False),
                                  ("ship24", services.sims.ship24_url, DEMO_KEYS["ship24"], True),
                                  ("openai", services.sims.openai_url, DEMO_KEYS["openai"], True)):
        with qtbot.waitSignal(bridge.connection_tested, timeout=10_000) as result:
            bridge.test_connection(service, url, key)
        assert result.args[0] == service and result.args[1] is ok, result.args
