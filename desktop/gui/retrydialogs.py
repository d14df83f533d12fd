"""The retry queue's destination dialog: it names the field Ship24 is missing (postcode, country or both).

What is missing is read from the registration's last error (the worker's needs-info message names the
fields: "DPD needs the destination postcode"); fields already filled are not asked for again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from desktop.gui.editdialog import DestinationDialog
from desktop.store import views

FIELD_WORDS = {"postcode": ("postcode", "post code", "postal", "zip"), "country": ("country",)}


def missing_fields(item: views.RetryItem) -> tuple[str, ...]:
    """"postcode" and/or "country": what the last error asks for and the shipment lacks (both when the
    error names neither, e.g. from a server that gives no detail)."""
    asked = (item.last_error or "").split(". Add the destination")[0].lower()
    named = [field for field, words in FIELD_WORDS.items() if any(w in asked for w in words)]
    have = {"postcode": bool(item.destination_postcode), "country": bool(item.destination_country)}
    lacking = tuple(field for field in (named or list(FIELD_WORDS)) if not have[field])
    return lacking or tuple(named or FIELD_WORDS)


def missing_text(fields: tuple[str, ...]) -> str:
    words = " and the ".join(f"destination {field}" for field in fields)
    return f"Missing: the {words}. Ship24 cannot track this carrier's parcels without it."


class MissingDestinationDialog(DestinationDialog):
    """`DestinationDialog` with a line naming what is missing; the first missing field has the focus."""

    def __init__(self, item: views.RetryItem, parent: QWidget | None = None) -> None:
        super().__init__(item.number, item.destination_postcode, item.destination_country, parent)
        self.missing = missing_fields(item)
        self.missing_label = QLabel(missing_text(self.missing))
        self.missing_label.setTextFormat(Qt.TextFormat.PlainText)
        self.missing_label.setWordWrap(True)
        self.missing_label.setAccessibleName("Missing fields")
        self.layout().insertWidget(1, self.missing_label)
        for field in ("postcode", "country"):
            edit = getattr(self, field)
            if field in self.missing:
                edit.setPlaceholderText("required by the carrier" if field == "postcode" else
                                        "required by the carrier, e.g. GB, US, DE")
        getattr(self, self.missing[0]).setFocus()
