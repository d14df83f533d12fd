"""The shipments table's right-click menu, double-click, and bulk work on the selection.

Every entry reuses what the view and its details pane already do (approve/reject the selection, edit the
current row, the pane's Front and carrier links); only copying, the bulk destination and retry are new
here. Right-clicking a row outside the selection selects that row first, as file managers do.
Double-click opens the row's conversation in Front (the pane's link, with its no-browser fallback).

The destination is asked through `ask_destination(count)` -> (postcode, country) or None, which tests
replace; an empty field leaves that field of each shipment as it is. Saving goes through the store's
`review.set_destination` (one transaction per shipment; registered shipments are refused, with reason).
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu

from desktop.gui.details import carrier_url
from desktop.gui.formats import plural
from desktop.store import outbox, review
from desktop.store.views import ShipmentView

#: (name, menu text) in menu order; None = a separator.
MENU: tuple[tuple[str, str] | None, ...] = (
    ("copy_number", "Copy &number"), ("copy_link", "Copy &tracking link"), None,
    ("open_front", "Open in &Front"), ("open_carrier", "Open &carrier page"), None,
    ("approve", "&Approve"), ("reject", "&Reject"), ("edit", "&Edit…"), None,
    ("destination", "Set &destination…"), ("retry", "Re&try registration now"))


#: Why a selected shipment's registration cannot be retried, in the order the message names them.
RETRY_REFUSALS = {
    "approval": "{n} wait{s} for approval (approve {them} with A to register {them})",
    "registered": "{n} {is_} registered already",
    "dismissed": "{n} {is_} rejected or dismissed (never registered)",
    "other": "{n} {is_} not waiting to register",
}


def split_for_retry(rows: list[ShipmentView], hand_approval: bool) -> tuple[list[int], Counter[str]]:
    """The shipments among `rows` whose registration a retry moves now, and the others counted by reason
    (keys of `RETRY_REFUSALS`). A retried row the worker would not send (it waits for a person's approval)
    is not "retried": saying so would be the app claiming work it does not do."""
    movable: list[int] = []
    refused: Counter[str] = Counter()
    for row in rows:
        if row.registration == outbox.REGISTERED:
            refused["registered"] += 1
        elif row.registration == outbox.DISMISSED or row.review == "rejected":
            refused["dismissed"] += 1
        elif row.registration == outbox.WAITING_APPROVAL or (hand_approval and row.review != "approved"):
            refused["approval"] += 1
        elif row.registration in outbox.RETRYABLE_STATES:
            movable.append(row.id)
        else:
            refused["other"] += 1
    return movable, refused


def refusal_text(refused: Counter[str]) -> str:
    """"2 wait for approval (...), 1 is registered already": the reasons of `split_for_retry`."""
    parts = []
    for reason, template in RETRY_REFUSALS.items():
        if n := refused[reason]:
            parts.append(template.format(n=f"{n:,}", s="s" if n == 1 else "", is_="is" if n == 1 else "are",
                                         them="it" if n == 1 else "them"))
    return ", ".join(parts)


class ShipmentActions:
    """Wires the menu, the double-click and the bulk actions onto `view` (a ShipmentsView)."""

    def __init__(self, view) -> None:
        self.view = view
        self.ask_destination = self._ask_destination
        table = view.table
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._show_menu)
        table.doubleClicked.connect(self._double_clicked)

    # ------------------------------------------------------------------ menu

    def menu_at(self, pos: QPoint) -> QMenu | None:
        """The menu for the row at viewport position `pos` (None off the rows); selects that row first when
        it is not selected. Tests trigger its actions by `objectName`."""
        index = self.view.table.indexAt(pos)
        if not index.isValid():
            return None
        self._select_if_outside(index)
        slots = {"copy_number": self.copy_numbers, "copy_link": self.copy_tracking_links,
                 "open_front": self.open_front, "open_carrier": self.open_carrier,
                 "approve": self.view.approve_selected, "reject": self.view.reject_selected,
                 "edit": self.view.edit_current, "destination": self.set_destination, "retry": self.retry}
        menu = QMenu(self.view.table)
        count = len(self.view.selected_ids())
        for entry in MENU:
            if entry is None:
                menu.addSeparator()
                continue
            name, text = entry
            action = QAction(text, menu)
            action.setObjectName(name)
            action.triggered.connect(slots[name])
            menu.addAction(action)
        menu.findChild(QAction, "edit").setEnabled(count == 1)
        menu.findChild(QAction, "open_front").setEnabled(self.view.details.front_link is not None)
        menu.findChild(QAction, "open_carrier").setEnabled(self.view.details.carrier_link is not None)
        self._enable_retry(menu.findChild(QAction, "retry"))
        return menu

    def _enable_retry(self, action: QAction) -> None:
        """Enabled when a selected shipment can be retried; otherwise its status tip says why not."""
        rows = self._selected_rows(wait=False)     # the menu opens at once: rows not loaded count as movable
        movable, refused = split_for_retry(rows, self.view.bridge.hand_approval())
        action.setEnabled(bool(movable) or len(rows) < len(self.view.selected_ids()))
        if not action.isEnabled():
            action.setStatusTip(f"Nothing to retry: {refusal_text(refused)}.")

    def _show_menu(self, pos: QPoint) -> None:
        menu = self.menu_at(pos)
        if menu is not None:
            menu.exec(self.view.table.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def _select_if_outside(self, index: QModelIndex) -> None:
        table = self.view.table
        selection = table.selectionModel()
        if not selection.isRowSelected(index.row(), index.parent()):
            flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            selection.setCurrentIndex(index, flags)
        elif table.currentIndex().row() != index.row():
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)

    def _double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_front()

    # ------------------------------------------------------------------ copy and open

    def _selected_rows(self, wait: bool = True):
        """The selected rows' views; with `wait=False` only those whose page is loaded (nothing is read)."""
        model = self.view.model
        positions = {sid: i for i, sid in enumerate(model.ids())}   # row_of per id scans the ids: quadratic
        fetch = model.row if wait else model.row_if_loaded
        rows = (fetch(positions.get(sid)) for sid in self.view.selected_ids())
        return [row for row in rows if row is not None]

    def copy_numbers(self) -> None:
        """The selected tracking numbers, one a line."""
        QGuiApplication.clipboard().setText("\n".join(row.number for row in self._selected_rows()))

    def copy_tracking_links(self) -> None:
        """The carrier's public tracking page of each selected shipment, one a line (none known: skipped,
        and said so)."""
        links = [url for row in self._selected_rows() if (url := carrier_url(row.courier, row.number))]
        QGuiApplication.clipboard().setText("\n".join(links))
        if not links:
            self.view.bridge.messages.warning("No public tracking page is known for this carrier.")

    def open_front(self) -> None:
        self.view.details.open_link(self.view.details.front_link)

    def open_carrier(self) -> None:
        self.view.details.open_link(self.view.details.carrier_link)

    # ------------------------------------------------------------------ bulk work

    def set_destination(self) -> None:
        """Ask once, save the postcode and/or country on every selected shipment, report in one line."""
        ids = self.view.selected_ids()
        values = self.ask_destination(len(ids)) if ids else None
        if not values:
            return
        postcode, country = (value.strip() or None for value in values)
        if postcode is None and country is None:
            return
        results = review.set_destination(ids, postcode=postcode, country=country)
        done = [r for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        text = f"Destination saved for {plural(len(done), 'shipment')}."
        if failed:
            text += f" {len(failed):,} not changed: {failed[0].message}"
        (self.view.bridge.messages.warning if failed else self.view.bridge.messages.info)(text)
        if done:
            self.view.bridge.shipments_changed.emit()
            worker = getattr(self.view.bridge, "worker", None)
            if worker is not None:
                worker.wake()  # the edited ones are queued again: register them now, not at the next poll

    def _ask_destination(self, count: int) -> tuple[str, str] | None:
        from desktop.gui.editdialog import DestinationDialog

        dialog = DestinationDialog(plural(count, "selected shipment"), None, None, self.view)
        dialog.setToolTip("An empty field leaves that field of each shipment as it is.")
        return dialog.values() if dialog.exec() else None

    def retry(self) -> None:
        """Retry the selected shipments' registrations now (those queued, failed or paused), and say how
        many that is and why the others are not (waiting for approval, registered, rejected)."""
        ids = self.view.selected_ids()
        if not ids:
            return
        rows = self._selected_rows()
        movable, refused = split_for_retry(rows, self.view.bridge.hand_approval())
        movable += list(set(ids) - {row.id for row in rows})   # rows no longer shown: the store decides
        messages = self.view.bridge.messages
        if not movable:
            messages.warning(f"Nothing to retry: {refusal_text(refused)}.")
            return
        self.view.bridge.retry(movable)
        if getattr(self.view.bridge, "worker", None) is None:
            return   # the bridge said why nothing happens (no Ship24 key)
        text = f"Retrying {plural(len(movable), 'registration')} now."
        if refused:
            text += f" Not retried: {refusal_text(refused)}."
        messages.info(text)
