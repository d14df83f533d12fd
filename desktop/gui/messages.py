"""One facade for user-facing messages: log them, and show them in the status area.

`Messages.info/warning/error(text)` log the text and emit `shown`. Until a view calls `attach()`,
messages are buffered and then flushed, so errors raised during start-up are not lost.
Info and warnings go to the status bar; a modal dialog is only for decisions (not this module's job).

Signals:
    shown(UserMessage): a message for the status area.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

log = logging.getLogger("shipscan.gui")


@dataclass(frozen=True)
class UserMessage:
    level: str  # "info" | "warning" | "error"
    text: str
    at: float = field(default_factory=time.time)


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
        message = UserMessage(level, text)
        self.history.append(message)
        del self.history[:-200]  # keep the last 200 for tests and the status tooltip
        if self._buffer is not None:
            self._buffer.append(message)
        else:
            self.shown.emit(message)
