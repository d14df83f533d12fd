"""A start-up error before the main window exists (an unusable --db): one dialog, then the app exits.

Headless runs (offscreen Qt, `SHIPSCAN_NO_ERR_WINDOWS=1`, no display) show nothing: the caller has
already printed the same line on stderr.
"""

from __future__ import annotations

import os
import sys


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
