"""Issue 11 item 11: the first start without keys is usable.

The welcome dialog offers the demo, keys (where a keyring exists) and the environment variables, its help
never clipped; the app goes on into the demo when chosen instead of quitting; the Settings dialog shows
the no-keyring help whole at its default size.
"""

from __future__ import annotations

import argparse
import asyncio
import gc

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QLabel

from desktop import log as applog
from desktop.errors import ConfigurationError
from desktop.gui import startup
from desktop.gui.messages import Messages
from desktop.gui.settingsdialog import SettingsDialog
from desktop.settings import Settings
from tests.gui.conftest import fast_sim_config, run

MISSING = ConfigurationError("No front key: set FRONT_API_TOKEN (or save it in the app's settings, which keeps "
                             "it in the system keyring).")


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _shown_whole(qtbot, widget) -> list[QLabel]:
    """Show `widget` at its default size; the wrapped labels it cuts (height below what they need)."""
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return [label for label in widget.findChildren(QLabel)
            if label.wordWrap() and label.isVisible() and label.height() < label.heightForWidth(label.width())]


def test_welcome_without_a_keyring_offers_the_demo_and_the_environment(qtbot, no_keyring):
    dialog = startup.make_first_start_dialog(MISSING)
    assert _shown_whole(qtbot, dialog) == []
    text = "\n".join(label.text() for label in dialog.findChildren(QLabel))
    for needed in ("FRONT_API_TOKEN", "SHIP24_API_KEY", "OPENAI_API_KEY", "No system keyring", "demo"):
        assert needed in text
    assert dialog.demo_button.isEnabled() and not dialog.keys_button.isEnabled()
    dialog.demo_button.click()
    assert dialog.choice == startup.DEMO and not dialog.isVisible()


def test_welcome_with_a_keyring_lets_keys_be_entered(qtbot):
    dialog = startup.make_first_start_dialog(MISSING, keyring_ok=True)
    qtbot.addWidget(dialog)
    assert dialog.keys_button.isEnabled()
    dialog.keys_button.click()
    assert dialog.choice == startup.RETRY


def test_settings_show_the_no_keyring_help_whole(qtbot, tmp_path, no_keyring):
    dialog = SettingsDialog(Settings(), settings_path=tmp_path / "settings.json")
    assert _shown_whole(qtbot, dialog) == []


def test_first_start_without_keys_goes_on_into_the_demo(qapp, qloop, qtbot, tmp_path, monkeypatch,
                                                        small_workspace):
    """No key, the user picks the demo: the window opens on the demo instead of the app quitting."""
    import desktop.services
    from desktop import app

    asked: list[str] = []

    async def choose_demo(error):
        asked.append(str(error))
        return startup.DEMO

    real_open = desktop.services.open_services

    def open_in_threads(args, *, sims_in_child=False, **options):  # the demo's simulators here, small
        return real_open(args, sim_config=fast_sim_config(), workspace=small_workspace, **options)

    monkeypatch.setattr(startup, "first_start", choose_demo)
    monkeypatch.setattr(desktop.services, "open_services", open_in_threads)
    monkeypatch.setenv("SHIPSCAN_QUIT_AFTER", "0.5")
    setup = applog.setup(0, tmp_path / "log", console=False)
    args = argparse.Namespace(demo=False, db=str(tmp_path / "shipscan.sqlite3"), verbose=0)
    try:
        code = run(qtbot, app._run_services_and_window(qapp, args, setup, Messages(), asyncio.Event()),
                   timeout=60_000)
    finally:
        gc.unfreeze()
        setup.close()
    assert code == 0
    assert len(asked) == 1 and "FRONT_API_TOKEN" in asked[0]
    assert "window opening (demo=True" in setup.ring.text()

