"""The error banner: warnings and errors stay visible above the tabs until the agent dismisses them.

The status bar is one line that the next message overwrites; a failure must not vanish that way. The
banner shows the newest problem in full (word-wrapped), says how many others there are, and keeps every
one in a list with its time and raw details (the "Details" button). The same text arriving again (a
failing service reported for every conversation) counts up on its entry instead of flooding the list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from desktop.gui.formats import plural
from desktop.gui.messages import UserMessage

#: At most this many different problems are kept (the oldest go first); the log keeps everything.
MAX_ENTRIES = 50

_STYLE = {"error": "background:#fde7e7; color:#5c0a0a; border:1px solid #e0a0a0;",
          "warning": "background:#fff4d6; color:#4d3800; border:1px solid #e5c86e;"}


@dataclass
class Problem:
    """One distinct problem: its sentence, how often it came, when last, and the raw texts behind it."""

    level: str
    text: str
    count: int = 1
    at: float = 0.0
    details: list[str] = field(default_factory=list)


class ErrorBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setAccessibleName("Problems")
        self.problems: list[Problem] = []
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # error texts may hold email-derived words
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAccessibleName("Latest problem")
        self.details_button = QPushButton("&Details")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._toggle_details)
        self.dismiss_button = QPushButton("Dis&miss")
        self.dismiss_button.clicked.connect(self.dismiss)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Problem details")
        self.details.setMaximumHeight(160)
        self.details.hide()
        top = QHBoxLayout()
        top.addWidget(self.message, 1)
        top.addWidget(self.details_button)
        top.addWidget(self.dismiss_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addLayout(top)
        layout.addWidget(self.details)
        self.hide()

    def add(self, message: UserMessage) -> None:
        """Show `message` (a warning or an error) and keep it until dismissed."""
        problem = next((p for p in self.problems if p.text == message.text), None)
        if problem is None:
            problem = Problem(message.level, message.text)
            self.problems.append(problem)
            del self.problems[:-MAX_ENTRIES]
        else:  # the newest goes last, so the banner shows it
            self.problems.remove(problem)
            self.problems.append(problem)
            problem.count += 1
            problem.level = "error" if "error" in (problem.level, message.level) else problem.level
        problem.at = message.at
        if message.details and message.details not in problem.details:
            problem.details = (problem.details + [message.details])[-5:]
        self._render()

    def dismiss(self) -> None:
        self.problems.clear()
        self.details_button.setChecked(False)
        self.hide()

    def _render(self) -> None:
        latest = self.problems[-1]
        text = latest.text + (f" ({latest.count}×)" if latest.count > 1 else "")
        others = len(self.problems) - 1
        if others:
            text += f"\n… and {plural(others, 'other problem')} (Details)."
        self.message.setText(text)
        level = "error" if any(p.level == "error" for p in self.problems) else "warning"
        self.setStyleSheet(f"QFrame#errorBanner {{{_STYLE[level]}}} QFrame#errorBanner QLabel {{border:none;}}")
        self.details.setPlainText(self.details_text())
        self.show()

    def details_text(self) -> str:
        """Every kept problem, newest first, with its time, count and the raw text it came from."""
        lines = []
        for problem in reversed(self.problems):
            when = dt.datetime.fromtimestamp(problem.at).strftime("%Y-%m-%d %H:%M:%S")
            count = f" ({problem.count}×)" if problem.count > 1 else ""
            lines.append(f"{when}  {problem.level}: {problem.text}{count}")
            lines.extend(f"    {raw}" for raw in problem.details)
        return "\n".join(lines)

    def _toggle_details(self, on: bool) -> None:
        self.details.setVisible(on)
        self.details_button.setText("Hide &details" if on else "&Details")
