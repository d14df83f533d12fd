"""Recorder: an event sink for core tests that keeps every event it receives."""

from __future__ import annotations


class Recorder(list):
    """A `desktop.core.events.Sink` that appends each event; `of(kind)` filters by event class."""

    def __call__(self, event) -> None:
        self.append(event)

    def of(self, kind) -> list:
        return [e for e in self if isinstance(e, kind)]
