"""Dialogs that change a shipment: edit number/carrier/order (re-validated live), and enter a destination.

The edit dialog re-validates the number with the tracking-number engine as the user types: OK is only
enabled for a number that normalises, and it says plainly whether the number is valid for the chosen
carrier (one that is not waits for review: `store.review.edit` puts it back to "needs review").
`changes()` returns what `store.review.edit` expects. A shipment that can no longer be edited (registered
with Ship24) is refused up front: the dialog opens read-only with the reason and only a Close button,
rather than accepting typing it would then drop.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.core import tracking
from desktop.store import review


class EditShipmentDialog(QDialog):
    def __init__(self, number: str, courier: str, order: str, parent: QWidget | None = None, *,
                 refusal: str | None = None) -> None:
        """`refusal`: why the shipment cannot be edited; by default looked up (`review.edit_refusal`)."""
        super().__init__(parent)
        self.setWindowTitle("Edit shipment")
        self.refusal = refusal if refusal is not None else review.edit_refusal(number, courier)
        self.number = QLineEdit(number)
        self.number.setAccessibleName("Tracking number")
        self.carrier = QComboBox()
        self.carrier.setAccessibleName("Carrier")
        self.carrier.addItem("(unknown)", "")
        for code, info in tracking.COURIERS.items():
            self.carrier.addItem(info.name, code)
        self.carrier.setCurrentIndex(max(0, self.carrier.findData(courier)))
        self.order = QLineEdit(order)
        self.order.setAccessibleName("Order or PO number")
        self.verdict = QLabel()
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Number", self.number)
        form.addRow("&Carrier", self.carrier)
        form.addRow("&Order/PO", self.order)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.verdict)
        layout.addWidget(self.buttons)
        self.number.textChanged.connect(self._revalidate)
        self.carrier.currentIndexChanged.connect(self._revalidate)
        self._original = (number, courier, order)
        if self.refusal:
            self._refuse(self.refusal)
        else:
            self._revalidate()

    def _refuse(self, reason: str) -> None:
        """Read-only, the reason shown, only Close: nothing typed here could be saved."""
        self.setWindowTitle("Shipment (read-only)")
        for edit in (self.number, self.order):
            edit.setReadOnly(True)
        self.carrier.setEnabled(False)
        self.verdict.setText(reason)
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).clicked.connect(self.reject)

    def _revalidate(self) -> None:
        if self.refusal:
            return
        normal = tracking.normalise(self.number.text())
        ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if not normal:
            self.verdict.setText("Not a tracking number (letters and digits only; no look-alike characters).")
            ok_button.setEnabled(False)
            return
        matches = tracking.validate(normal)
        couriers = sorted({m.courier for m in matches})
        chosen = self.carrier.currentData()
        if not matches:
            text = f"{normal} is valid for no known carrier: it will wait for review, not register by itself."
        elif chosen and chosen not in couriers:
            names = ", ".join(tracking.COURIERS[c].name for c in couriers if c in tracking.COURIERS)
            text = (f"{normal} is not a valid {self.carrier.currentText()} number (it fits: {names}): saved "
                    "so, it will wait for review, not register by itself.")
        else:
            check = " with its check digit" if any(m.has_check_digit for m in matches) else ""
            text = f"{normal} is valid{check}."
            if not chosen and len(couriers) == 1:
                self.carrier.setCurrentIndex(self.carrier.findData(couriers[0]))
                return  # _revalidate runs again from the index change
        self.verdict.setText(text)
        ok_button.setEnabled(True)

    def changes(self) -> dict:
        """Keyword arguments for `store.review.edit` (only what changed, plus `validated`); {} when refused."""
        if self.refusal:
            return {}
        normal = tracking.normalise(self.number.text()) or ""
        courier = self.carrier.currentData() or ""
        order = self.order.text().strip()
        matches = tracking.validate(normal) if normal else []
        changes: dict = {"validated": any(m.courier == courier for m in matches)}
        if normal != self._original[0]:
            changes["tracking_number"] = normal
        if courier != self._original[1]:
            info = tracking.courier_info(courier)
            changes.update(courier=courier, carrier=info.name if info else "",
                           courier_code=(info.ship24_code or "") if info else "")
        if order != self._original[2]:
            changes["order_number"] = order
        return changes


class DestinationDialog(QDialog):
    """Postcode and destination country, for couriers Ship24 cannot track without them."""

    def __init__(self, number: str, postcode: str | None, country: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Destination")
        intro = QLabel(f"The carrier needs the destination of {number} to track it.")
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.postcode = QLineEdit(postcode or "")
        self.postcode.setAccessibleName("Destination postcode")
        self.country = QLineEdit(country or "")
        self.country.setAccessibleName("Destination country (ISO code)")
        self.country.setPlaceholderText("e.g. GB, US, DE")
        self.country.setMaxLength(3)
        form = QFormLayout()
        form.addRow("&Postcode", self.postcode)
        form.addRow("&Country", self.country)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def values(self) -> tuple[str, str]:
        return self.postcode.text().strip(), self.country.text().strip().upper()
