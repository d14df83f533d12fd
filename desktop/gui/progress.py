"""Live progress of a scan: overall bar with counts, rate and time left, visible rate-limit waits, batch table.

Fed by the bridge's signals (connected in the main window); it keeps no state beyond what it shows.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core import events as ev
from desktop.gui.errortext import explain
from desktop.gui.formats import plural
from desktop.gui.models.batches import BatchTableModel

SERVICE_NAMES = {"front": "Front budget", "openai": "OpenAI limit", "ship24": "Ship24 limit"}


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class ProgressView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.batches = BatchTableModel(self)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Scan progress")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.counts = self._label("No scan running.", "Scan counts")
        self.wait = self._label("", "Rate-limit waits")
        self.table = QTableView()
        self.table.setModel(self.batches)
        self.table.setAccessibleName("Batches")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        for widget in (self.bar, self.counts, self.wait, self.table):
            layout.addWidget(widget)
        self._waits: dict[str, tuple[float, str]] = {}
        self._total: int | None = None
        self._last: ev.Progress | None = None
        self._started = 0.0
        self._ticker = QTimer(self, interval=1000)
        self._ticker.timeout.connect(self._tick)

    @staticmethod
    def _label(text: str, name: str) -> QLabel:
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setAccessibleName(name)
        label.setWordWrap(True)
        return label

    # ------------------------------------------------------------------ event slots

    def on_run_started(self, event: ev.RunStarted) -> None:
        self.batches.clear()
        self._waits.clear()
        self._total, self._last, self._started = None, None, time.monotonic()
        self.bar.setRange(0, 0)  # busy until the listing tells us the total
        self.counts.setText("Listing conversations…" + (" (continuing an interrupted run)" if event.resumed else ""))
        self.wait.clear()
        self._ticker.start()

    def on_listing(self, event: ev.ListingProgress) -> None:
        self._total = event.listed if event.complete else (event.total or self._total)
        self._update_bar()

    def on_progress(self, event: ev.Progress) -> None:
        self._last = event
        if event.listing_complete:
            self._total = event.listed
        self._update_bar()
        self.counts.setText(self.describe(event))

    def on_wait(self, event: ev.RateLimitWait) -> None:
        self._waits[event.service] = (time.monotonic() + event.seconds, event.reason)
        self._show_waits()

    def on_run_finished(self, event: ev.RunFinished) -> None:
        self._ticker.stop()
        self._waits.clear()
        self.wait.clear()
        self.batches.tick()
        if event.state == ev.RunState.COMPLETED:
            self.bar.setRange(0, max(1, self.bar.maximum()))
            self.bar.setValue(self.bar.maximum())
        else:
            self.bar.setRange(0, max(1, self.bar.maximum()))
        done = self.describe(self._last) if self._last else ""
        error = event.summary.get("error") if event.state == ev.RunState.FAILED else None
        # A failed scan says why, in words (the raw text is in the error banner's details and the log).
        outcome = f"Scan failed: {explain(error)}" if error else f"Scan {event.state.value}."
        self.counts.setText(f"{outcome} {done}".strip())

    # ------------------------------------------------------------------ display

    def describe(self, p: ev.Progress) -> str:
        total = self._total if self._total is not None else p.listed
        more = "" if p.listing_complete else "+"
        noun = "conversation" if total == 1 and not more else "conversations"
        parts = [f"{p.done:,} of {total:,}{more} {noun}",
                 f"{p.scanned:,} read", f"{p.unchanged:,} unchanged", f"{p.failed:,} failed",
                 plural(p.shipments, "shipment")]
        if p.elsewhere:   # the done count includes them: say where they went
            parts.insert(4, f"{p.elsewhere:,} left to another scan")
        if p.elapsed > 0 and p.done:
            parts.append(f"{p.done / p.elapsed:.1f}/s")
            if p.eta_seconds is not None and total > p.done:
                parts.append(f"about {format_duration(p.eta_seconds)} left")
        open_batches = self.batches.open_count()
        if open_batches > 1:
            parts.append(f"{plural(open_batches, 'batch', 'batches')} open")
        return " · ".join(parts)

    def _update_bar(self) -> None:
        done = self._last.done if self._last else 0
        if self._total:
            self.bar.setRange(0, self._total)
            self.bar.setValue(min(done, self._total))
            self.bar.setFormat("%v of %m conversations")

    def _show_waits(self) -> None:
        now = time.monotonic()
        lines = []
        for service, (until, reason) in list(self._waits.items()):
            left = until - now
            if left <= 0.5:
                del self._waits[service]
                continue
            name = SERVICE_NAMES.get(service, service)
            lines.append(f"{name}: resuming in {int(left + 0.5)} s" + (f" ({reason})" if reason else ""))
        self.wait.setText("\n".join(lines))

    def _tick(self) -> None:
        self._show_waits()
        self.batches.tick()
