"""The crash handler: the one `sys.excepthook` for unexpected exceptions (bugs).

Expected failures (`desktop.errors.ExpectedError`) never get here: they are shown in the status area.
Everything else, including exceptions from qasync's `asyncSlot` tasks (qasync forwards them to
`sys.excepthook`), is logged with its traceback and shown in one crash dialog with copyable details and
the log file's path. Headless runs (offscreen Qt, tests, `SHIPSCAN_NO_ERR_WINDOWS=1`) write the details
to a file in the log directory instead of opening a modal that nobody can close.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop import log as applog

log = logging.getLogger("shipscan.gui")


def is_headless() -> bool:
    return (os.environ.get("SHIPSCAN_NO_ERR_WINDOWS") == "1"
            or (QGuiApplication.platformName() or os.environ.get("QT_QPA_PLATFORM", "")) in ("offscreen", "minimal"))


class CrashHandler:
    """Install with `install()`; `uninstall()` restores the previous hook."""

    def __init__(self, log_path: Path | None, recent_log=lambda: "", *, headless: bool | None = None) -> None:
        self.log_path = log_path
        self.recent_log = recent_log
        self.headless = headless
        self.dumps: list[Path] = []
        self._dialog: CrashDialog | None = None
        self._previous = None

    def install(self) -> CrashHandler:
        self._previous, sys.excepthook = sys.excepthook, self.hook
        return self

    def uninstall(self) -> None:
        if self._previous is not None and sys.excepthook == self.hook:
            sys.excepthook = self._previous

    def hook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        log.critical("unexpected error", exc_info=(exc_type, exc, tb))
        details = self.details(exc_type, exc, tb)
        headless = is_headless() if self.headless is None else self.headless
        try:
            if headless:
                self._dump(details)
            else:
                self._show(details)
        except Exception:  # the crash handler itself must never raise
            sys.__excepthook__(exc_type, exc, tb)

    def details(self, exc_type, exc, tb) -> str:
        trace = applog.REDACTOR.redact("".join(traceback.format_exception(exc_type, exc, tb)), limit=None)
        return (f"Shipscan {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n"
                f"Log file: {self.log_path or 'not available'}\n\n{trace}\n"
                f"Recent log:\n{self.recent_log()}")

    def _dump(self, details: str) -> None:
        folder = self.log_path.parent if self.log_path else Path.cwd()
        path = folder / f"crash-{dt.datetime.now():%Y%m%d-%H%M%S-%f}.txt"
        path.write_text(details, encoding="utf-8")
        self.dumps.append(path)
        print(f"shipscan: unexpected error, details written to {path}", file=sys.stderr)

    def _show(self, details: str) -> None:
        # One dialog at a time: a second crash while it is open is appended to it.
        if self._dialog is not None and self._dialog.isVisible():
            self._dialog.append(details)
            return
        self._dialog = CrashDialog(details, self.log_path)
        self._dialog.show()
        self._dialog.raise_()


class CrashDialog(QDialog):
    """Non-modal: the app keeps running (its state may be damaged, so the text says so)."""

    def __init__(self, details: str, log_path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shipscan: unexpected error")
        self.setAccessibleName("Unexpected error")
        intro = QLabel("Something went wrong that Shipscan did not expect. Your saved data is safe. "
                       "Please copy the details below into a bug report. Restarting the app is a good idea.")
        intro.setWordWrap(True)
        where = QLabel(f"Log file: {log_path or 'not available'}")
        where.setTextFormat(Qt.TextFormat.PlainText)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit(details)
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Error details")
        copy = QPushButton("&Copy details")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        for widget in (intro, where, self.text, buttons):
            layout.addWidget(widget)
        self.resize(720, 480)

    def append(self, details: str) -> None:
        self.text.appendPlainText("\n" + "-" * 60 + "\n" + details)
