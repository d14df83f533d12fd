"""Rescan this range (the command line's `scan --rescan`) and Re-run a scan from the history (issue 15
item 8).

Contracts:
- Rescan takes the scan panel's range, inboxes and batching, with `rescan=True`: unchanged conversations
  are read and sent to the LLM again. It costs what a full scan costs, so it asks first
  (`confirm(text) -> bool`, which tests replace), and the question says the price: the estimate of the
  rescan next to what a normal scan of the range would read. Nothing starts when the answer is no, when
  the range is empty, or while a scan runs.
- Re-run takes a history row's range and inboxes with the panel's batching and extractor, `rescan=False`
  (what is unchanged since costs nothing), shows that range in the panel and starts it.
Both start through `Bridge.start_scan`, the Scan button's path.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from qasync import asyncSlot

from desktop.core.storecalls import store_call
from desktop.errors import ExpectedError
from desktop.gui.estimate import Estimate, compute_estimate, front_budget, front_total
from desktop.store import views

TITLE = "Rescan this range"


async def rescan_estimates(front, settings, params) -> tuple[Estimate, Estimate]:
    """(a normal scan, the rescan) of `params`' range: one Front count, the database's known conversations."""
    total = await front_total(front, params.since, params.until, tuple(params.inboxes))
    known = await store_call(views.known_conversations, params.since, params.until, tuple(params.inboxes))
    limit, window = front_budget(front)

    def estimate(unchanged: int) -> Estimate:
        return compute_estimate(total, unchanged, extractor=params.extractor, model=settings.model,
                                average_tokens=known.average_tokens, budget_share=settings.front_budget_share,
                                limit_per_minute=limit, window_seconds=window,
                                concurrency=params.batch_size * params.concurrent_batches,
                                searches=max(1, len(params.inboxes)))

    return estimate(known.unchanged), estimate(0)


def confirmation_text(normal: Estimate | None, rescan: Estimate | None, problem: str = "") -> str:
    """The question, with what the rescan costs (or why there is no estimate)."""
    head = ("A rescan reads every conversation of this range again, also those unchanged since their last "
            "scan (with the LLM extractor, each is an LLM call). Shipments already found are not registered "
            "twice.")
    if normal is None or rescan is None:
        return f"{head}\n\nNo estimate: {problem or 'unknown'}.\n\nRescan anyway?"
    lines = [head, "",
             f"A normal scan would read {normal.to_scan:,} of {normal.conversations:,} conversations "
             f"({normal.unchanged:,} unchanged). The rescan:", *rescan.lines(), "", "Rescan this range?"]
    return "\n".join(lines)


class Rescan(QObject):
    """The "Rescan this range…" action of the Scan menu (see the module docstring)."""

    def __init__(self, bridge, panel, parent: QWidget) -> None:
        super().__init__(parent)
        self.bridge, self.panel, self._parent = bridge, panel, parent
        self.confirm = self._confirm

    @asyncSlot()
    async def ask(self) -> None:
        """Estimate, ask, and start the rescan when the answer is yes."""
        if self.bridge.scanning:
            self.bridge.messages.warning("A scan is already running; cancel it first.")
            return
        since, until = self.panel.range()
        if until <= since:
            self.bridge.messages.warning("The end of the range must be after its start.")
            return
        params = replace(self.panel.params(), rescan=True)
        svc, problem = self.bridge.services, ""
        try:
            normal, full = await rescan_estimates(svc.front, svc.settings, params)
        except ExpectedError as exc:
            normal = full = None
            problem = str(exc)
        if self.confirm(confirmation_text(normal, full, problem)):
            self.bridge.start_scan(params)

    def _confirm(self, text: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, TITLE, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self._parent)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes


def rerun(bridge, panel, run: views.RunView) -> bool:
    """Start a scan of `run`'s range and inboxes (rescan off), shown in the panel first; False (and a
    message) while a scan runs."""
    if bridge.scanning:
        bridge.messages.warning("A scan is already running; cancel it first.")
        return False
    params = replace(panel.params(), since=run.since, until=run.until, inboxes=tuple(run.inboxes), rescan=False)
    panel.set_range(run.since, run.until)
    check_inboxes(panel, run.inboxes)
    bridge.start_scan(params)
    return True


def check_inboxes(panel, inbox_ids) -> None:
    """Tick exactly `inbox_ids` in the panel's inbox list (none = all inboxes)."""
    wanted = set(inbox_ids)
    for row in range(panel.inbox_list.count()):
        item = panel.inbox_list.item(row)
        if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            checked = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
