"""Loader: a model's whole-table read on the GUI's database worker, its answer applied on the GUI thread.

The retry queue, the held groups and the history refresh while a scan runs and on timers; with the
database on a server, each read made on the GUI thread froze the window for its round trips. A `Loader`
hands the read to `desktop.gui.dbworker` instead. Contracts:
- `submit(fn, *args)` returns at once; later, on the GUI thread, `apply(result)` runs with the answer of
  the LATEST submission only: a queued older read is superseded (never runs), a running older one's
  answer is dropped as stale.
- A failed read is logged and keeps what is shown (a failed read is never "no rows"); `error()` says why
  until the next answer arrives.
- `wait()` blocks until the latest read was applied (or failed): for tests and actions, never painting.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from desktop.gui import dbworker

log = logging.getLogger("shipscan.gui")


class Loader:
    """One kind of read for `owner` (a model); `apply` receives each fresh answer (module contracts)."""

    def __init__(self, owner: QObject, apply: Callable[[Any], None], worker: dbworker.DbWorker | None = None,
                 name: str = "load") -> None:
        self._owner, self._apply = owner, apply
        self._worker = worker or dbworker.shared()
        self._key = (id(self), name)
        self._wanted = 0
        self._job: dbworker.Job | None = None
        self._error: str | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._wanted += 1
        self._job = self._worker.submit(fn, *args, on_result=functools.partial(self._done, self._wanted),
                                        on_error=functools.partial(self._failed, self._wanted), key=self._key,
                                        owner=self._owner)

    def loading(self) -> bool:
        """True while the latest read has not been applied yet."""
        return self._job is not None

    def error(self) -> str | None:
        return self._error

    def wait(self, timeout: float | None = 30.0) -> bool:
        """Block until the latest read was applied or failed; False if `timeout` seconds passed first."""
        job = self._job
        if job is not None and not self._worker.wait(job, timeout):
            return False
        return self._job is None

    def _done(self, generation: int, result: Any) -> None:
        if generation != self._wanted:
            return   # a newer read is on its way: this answer is stale
        self._job, self._error = None, None
        self._apply(result)

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation != self._wanted:
            return
        self._job, self._error = None, f"{type(error).__name__}: {error}"
        log.warning("a table could not be read: %s", self._error, exc_info=error)
