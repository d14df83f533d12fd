"""One facade for user-facing messages: log them, and show them in the status area.

`Messages.info/warning/error(text)` log the text and emit `shown`. Until a view calls `attach()`,
messages are buffered and then flushed, so errors raised during start-up are not lost.
Warnings and errors are worded for people (`errortext.explain`: what failed, what it means, what to do);
the raw text stays in `UserMessage.details` and in the log. The main window keeps them in its error
banner until dismissed; info goes to the status bar. A modal dialog is only for decisions (not this
module's job).

Signals:
    shown(UserMessage): a message for the status area.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from desktop.gui.errortext import explain

log = logging.getLogger("shipscan.gui")


@dataclass(frozen=True)
class UserMessage:
    level: str  # "info" | "warning" | "error"
    text: str
    at: float = field(default_factory=time.time)
    details: str = ""  # the raw text when `text` was reworded (for the "Details" view); else ""


class Messages(QObject):
    shown = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._buffer: list[UserMessage] | None = []
        self.history: list[UserMessage] = []

    def info(self, text: str) -> None:
        self._show("info", text, logging.INFO)

    def warning(self, text: str) -> None:
        self._show("warning", text, logging.WARNING)

    def error(self, text: str) -> None:
        self._show("error", text, logging.ERROR)

    def attach(self) -> None:
        """The status area is connected: flush the buffered messages, then emit directly."""
        buffered, self._buffer = self._buffer or [], None
        for message in buffered:
            self.shown.emit(message)

    def _show(self, level: str, text: str, log_level: int) -> None:
        log.log(log_level, "%s", text)
        shown = explain(text) if level != "info" else text
        message = UserMessage(level, shown, details=text if shown != text else "")
        self.history.append(message)
        del self.history[:-200]  # keep the last 200 for tests and the status tooltip
        if self._buffer is not None:
            self._buffer.append(message)
        else:
            self.shown.emit(message)
