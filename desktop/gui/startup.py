"""Before the main window exists: a start-up error box, and the first start without keys.

`show_startup_error(text)`: an unusable --db and the like: one dialog, then the app exits.

`first_start(error)`: the services could not open for want of a key or a usable setting (`error`, a
`ConfigurationError`). Instead of a message box and an exit, the user chooses (`FirstStartDialog`):
- "demo": try Shipscan on the built-in demo now (no accounts needed);
- "retry": keys were entered in Settings (kept in the system keyring), so start again with them;
- "quit": nothing to do now; the dialog has said how to set the keys as environment variables.
Where no keyring exists, "Enter keys" is disabled and the dialog says why and what to do, in full (the
help is never clipped). Headless runs (offscreen Qt, `SHIPSCAN_NO_ERR_WINDOWS=1`, no display) show
nothing and answer "quit": the caller has printed the same line on stderr.

Both dialogs are opened with `open()` and awaited, never `exec()`: a nested Qt loop inside a running
qasync task re-enters the asyncio loop.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys

from desktop import secrets

DEMO, RETRY, QUIT = "demo", "retry", "quit"

ENV_HELP = ("To use your own accounts without the keyring, set these environment variables and start Shipscan "
            "again:\n  FRONT_API_TOKEN: a Front API token with conversations:read and messages:read (required)\n"
            "  SHIP24_API_KEY: to register shipments with Ship24\n"
            "  OPENAI_API_KEY: optional; without it the rules-only extractor runs")


def _headless() -> bool:
    if os.environ.get("SHIPSCAN_NO_ERR_WINDOWS") == "1":
        return True
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal"):
        return True
    return sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def show_startup_error(text: str) -> None:
    """Show `text` in a modal error box when a display is available; never raises."""
    if _headless():
        return
    try:
        from PySide6.QtWidgets import QApplication, QMessageBox

        app = QApplication.instance() or QApplication(sys.argv[:1])
        QMessageBox.critical(None, "Shipscan cannot start", text)
        del app
    except Exception:  # the dialog is a courtesy: stderr already has the message
        pass


@functools.cache
def _first_start_dialog_class():
    """Built on first use so that importing this module (from `desktop.app`'s error path) costs no Qt."""
    from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QVBoxLayout

    from desktop.gui.settingsdialog import help_label

    class FirstStartDialog(QDialog):
        """Welcome: what is missing, and three ways on (demo, enter keys, quit). `choice` holds the answer."""

        def __init__(self, error: Exception, keyring_ok: bool, parent=None) -> None:
            super().__init__(parent)
            self.setWindowTitle("Welcome to Shipscan")
            self.choice = QUIT
            layout = QVBoxLayout(self)
            layout.addWidget(help_label(f"Shipscan cannot start with your accounts yet: {error}", "What is missing"))
            layout.addWidget(help_label("Try Shipscan now on the built-in demo: simulated Front, OpenAI and Ship24 "
                                        "with a realistic inbox, and a database of its own. No accounts needed.",
                                        "About the demo"))
            if not keyring_ok:
                layout.addWidget(help_label(secrets.NO_KEYRING_HELP, "No keyring available"))
            layout.addWidget(help_label(ENV_HELP, "Environment variables"))
            self.demo_button = QPushButton("Try the &demo")
            self.keys_button = QPushButton("&Enter keys…")
            self.keys_button.setEnabled(keyring_ok)
            self.keys_button.setToolTip("Keys are kept in the system keyring." if keyring_ok else
                                        "No system keyring: use the environment variables above.")
            self.quit_button = QPushButton("&Quit")
            row = QHBoxLayout()
            for button, choice in ((self.demo_button, DEMO), (self.keys_button, RETRY), (self.quit_button, QUIT)):
                button.clicked.connect(lambda _=False, c=choice: self._choose(c))
                row.addWidget(button)
            layout.addLayout(row)
            self.demo_button.setDefault(True)

        def _choose(self, choice: str) -> None:
            self.choice = choice
            self.accept() if choice != QUIT else self.reject()

    return FirstStartDialog


def make_first_start_dialog(error: Exception, keyring_ok: bool | None = None, parent=None):
    """The welcome dialog for `error` (keyring availability asked of `secrets` unless given)."""
    ok = secrets.keyring_available() if keyring_ok is None else keyring_ok
    return _first_start_dialog_class()(error, ok, parent)


async def _shown(dialog) -> None:
    """Open `dialog` (window-modal, no nested loop) and wait until it closes."""
    done = asyncio.get_running_loop().create_future()
    dialog.finished.connect(lambda _code: done.done() or done.set_result(None))
    dialog.open()
    await done


async def first_start(error: Exception) -> str:
    """Ask how to go on without keys: DEMO, RETRY (keys were entered) or QUIT (also when headless)."""
    if _headless():
        return QUIT
    dialog = make_first_start_dialog(error)
    await _shown(dialog)
    if dialog.choice == RETRY:
        await _enter_keys()
    return dialog.choice


async def _enter_keys() -> None:
    """The settings dialog, for keys (and endpoints); its Test buttons work, as in the window."""
    from desktop import settings as settings_mod
    from desktop.errors import ConfigurationError
    from desktop.gui.connection import test_connection
    from desktop.gui.settingsdialog import SettingsDialog

    try:
        current = settings_mod.load().with_env()
    except ConfigurationError:  # a bad endpoint: shown as stored, so it can be corrected here
        current = settings_mod.load()
    dialog = SettingsDialog(current)

    async def test(service: str, url: str, key: str) -> None:
        dialog.show_test_result(service, *await test_connection(service, url, key or None))

    dialog.test_requested.connect(lambda service, url, key: asyncio.ensure_future(test(service, url, key)))
    await _shown(dialog)
