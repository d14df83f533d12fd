"""The details pane of one shipment: evidence with the number highlighted, flags, links to Front and the carrier.

Subjects and email text are shown as PLAIN text, always: the evidence goes into a read-only
QPlainTextEdit (`setPlainText`) and the number is highlighted with a character format on a text cursor,
never by building HTML from email text. Links are buttons that open URLs we build ourselves; when no
browser starts (`open_url` answers False: no default browser, a locked-down desktop), the pane shows the
link with a "Copy link" button instead of failing silently.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.export import FRONT_OPEN_URL, front_url  # noqa: F401  -- re-exported: the pane's links
from desktop.gui.formats import format_time
from desktop.gui.models.history import ACTION_WORDS
from desktop.gui.models.shipments import STATE_LABELS, display
from desktop.store.history_views import ReviewAction
from desktop.store.views import ShipmentDetail

FLAG_TEXT = {
    "carrier_disagrees": "the LLM and the engine disagree on the carrier",
    "ambiguous_format": "the number fits more than one carrier",
    "no_check_digit": "the format has no check digit",
    "not_validated": "the number is not validated",
    "llm_missed": "found by the engine; the LLM did not list it",
    "llm_only": "only the LLM saw it as a tracking number: check it",
    "text_truncated": "the conversation was too long: the LLM saw only part of it",
    # The holds the registration policy stores on a shipment (`desktop.hold_reasons.STORED_HOLDS`).
    "no_agreeing_context": "held: nothing near the number names its carrier",
    "too_many_numbers": "held: its conversation lists more numbers than one order has",
    "scan_cap": "held: this scan's cap of automatic registrations was reached",
    "day_cap": "held: the 24-hour cap of automatic registrations was reached",
}


def _review(state: str, last: ReviewAction | None) -> str:
    """The review state, and who last acted on it and when (team mode shows whose decision it was)."""
    said = STATE_LABELS.get(state, state)
    if last is None:
        return said
    return f"{said} ({last.actor} {ACTION_WORDS.get(last.action, last.action)}, {format_time(last.at)})"


def number_pattern(number: str) -> re.Pattern[str]:
    """Matches `number` in text even when written with spaces or dashes between its characters."""
    return re.compile(r"[\s\-]*".join(re.escape(ch) for ch in number), re.IGNORECASE)


def carrier_url(courier: str, number: str) -> str | None:
    try:
        from desktop.core.tracking import courier_info
    except ImportError:  # the engine is optional for the pane: no link rather than no pane
        return None
    info = courier_info(courier)
    return info.tracking_url(number) if info else None


class DetailsPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Shipment details")
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, label in (("number", "Number"), ("carrier", "Carrier"), ("order", "Order/PO"),
                           ("supplier", "Supplier"), ("customer", "Customer"),
                           ("destination", "Destination"), ("review", "Review"),
                           ("registration", "Registration"), ("status", "Tracking status"),
                           ("confidence", "Confidence"), ("subject", "Subject"), ("flags", "Flags")):
            value = QLabel()
            value.setTextFormat(Qt.TextFormat.PlainText)  # never interpret email-derived text
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
            value.setAccessibleName(label)
            form.addRow(label, value)
            self.fields[key] = value
        self.evidence = QPlainTextEdit()
        self.evidence.setReadOnly(True)
        self.evidence.setAccessibleName("Evidence")
        self.evidence.setPlaceholderText("Select a shipment to see where it was found.")
        # Alt+F belongs to the File menu, so "&Open in Front" (Alt+O).
        self.front_button = QPushButton("&Open in Front")
        self.carrier_button = QPushButton("Carrier &tracking page")
        self.front_button.clicked.connect(lambda: self.open_link(self.front_link))
        self.carrier_button.clicked.connect(lambda: self.open_link(self.carrier_link))
        links = QHBoxLayout()
        links.addWidget(self.front_button)
        links.addWidget(self.carrier_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Evidence"))
        layout.addWidget(self.evidence, 1)
        layout.addLayout(links)
        layout.addWidget(self._build_fallback())
        self.front_link: str | None = None
        self.carrier_link: str | None = None
        #: Opens a URL in the browser; False when none started. Tests replace it.
        self.open_url = QDesktopServices.openUrl
        self.show_detail(None)

    def _build_fallback(self) -> QWidget:
        """The row shown when no browser started: the link itself, selectable, and a Copy button."""
        self.fallback = QWidget()
        self.fallback.setAccessibleName("Link to copy")
        self.fallback_text = QLabel()
        self.fallback_text.setTextFormat(Qt.TextFormat.PlainText)
        self.fallback_text.setWordWrap(True)
        self.fallback_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                                   | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.copy_link_button = QPushButton("Copy lin&k")
        self.copy_link_button.clicked.connect(self.copy_link)
        row = QHBoxLayout(self.fallback)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.fallback_text, 1)
        row.addWidget(self.copy_link_button)
        self.fallback.hide()
        self._fallback_url: str | None = None
        return self.fallback

    def show_detail(self, detail: ShipmentDetail | None) -> None:
        """Show `detail`; None empties the pane and disables its links (nothing selected, or filtered out)."""
        self.detail = detail
        self._hide_fallback()
        if detail is None:
            for label in self.fields.values():
                label.clear()
            self.evidence.setPlainText("")
            self.front_link = self.carrier_link = None
            self._update_links()
            return
        row = detail.row
        destination = " ".join(v for v in (detail.destination_postcode, detail.destination_country) if v)
        # One row each (the pane's height is the window's minimum): the status with its last checkpoint,
        # days in transit and expected date; the customer with the conversation's last message date.
        days = display(row, "days")
        untracked = "" if row.registration == "registered" else "not tracked yet (not registered with Ship24)"
        status = " · ".join(v for v in (display(row, "status") or untracked, row.checkpoint, display(row, "checkpoint_at"),
                                        days and f"{days} days in transit", detail.expected_delivery and
                                        f"expected {detail.expected_delivery}") if v)
        message = display(row, "message")
        customer = " · ".join(v for v in (row.customer, row.email if row.email != row.customer else "",
                                          message and f"last message {message}") if v)
        registration = STATE_LABELS.get(row.registration, row.registration) + (
            f" ({_headline(detail.registration_error)})" if detail.registration_error else "")
        values = {"number": row.number, "carrier": row.carrier, "order": row.order, "supplier": row.supplier,
                  "destination": destination, "review": _review(row.review, detail.last_review),
                  "registration": registration,
                  "status": status, "customer": customer, "confidence": f"{detail.confidence:.2f} ({detail.extractor or 'unknown'}"
                  f"{', validated' if detail.validated else ''})", "subject": row.subject,
                  "flags": "; ".join(FLAG_TEXT.get(f, f) for f in detail.flags) or "none"}
        for key, value in values.items():
            self.fields[key].setText(value)
        self.show_evidence(detail.evidence, row.number)
        self.front_link = front_url(row.conversation_id)
        self.carrier_link = carrier_url(row.courier, row.number)
        self._update_links()

    def show_evidence(self, text: str, number: str) -> None:
        """Plain text, with every occurrence of `number` highlighted through a character format."""
        self.evidence.setPlainText(text)
        highlight = QTextCharFormat()
        highlight.setBackground(self.palette().color(QPalette.ColorRole.Highlight))
        highlight.setForeground(self.palette().color(QPalette.ColorRole.HighlightedText))
        highlight.setFontWeight(700)
        for match in number_pattern(number).finditer(text) if number else ():
            cursor = QTextCursor(self.evidence.document())
            cursor.setPosition(match.start())
            cursor.setPosition(match.end(), QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(highlight)

    def _update_links(self) -> None:
        self.front_button.setEnabled(self.front_link is not None)
        self.front_button.setToolTip(self.front_link or "")
        self.carrier_button.setEnabled(self.carrier_link is not None)
        self.carrier_button.setToolTip(self.carrier_link or "No public tracking page for this carrier.")

    def open_link(self, url: str | None) -> bool:
        """Open `url` in the browser; when none starts, show the link with "Copy link". True when opened."""
        if not url:
            return False
        if self.open_url(QUrl(url)):
            self._hide_fallback()
            return True
        self._fallback_url = url
        self.fallback_text.setText(f"No web browser started. Copy the link and open it yourself:\n{url}")
        self.fallback.show()
        self.copy_link_button.setFocus()
        return False

    def copy_link(self) -> None:
        if self._fallback_url:
            QGuiApplication.clipboard().setText(self._fallback_url)
            self.copy_link_button.setText("Copied")

    def _hide_fallback(self) -> None:
        self._fallback_url = None
        self.fallback.hide()
        self.copy_link_button.setText("Copy lin&k")


def _headline(error: str) -> str:
    """An error's first sentence: the pane names the cause; what to do about it (a paused queue's
    instructions, several lines long) is on the retry queue's banner already."""
    first = error.split(". ", 1)[0].rstrip(".")
    return first if len(first) <= 160 else first[:159] + "…"
