"""TeamSync: shows in this window what other desktops (or `shipscan` commands) change in the shared database.

Polling, not PostgreSQL LISTEN/NOTIFY: one way for SQLite and PostgreSQL alike, and a poll is one
primary-key read of the change counter (`desktop.store.changes`). A worker thread of its own reads it every
`interval` seconds with its own connection (peewee keeps one per thread), so the GUI thread never waits on
the database for it, even with the server far away. When the counter moved because of another process,
the thread raises a flag; a GUI timer that only reads that flag emits `changed_elsewhere` on the GUI thread
(no Qt object is touched from the worker thread). The main window connects it to the refresh it already
does after its own actions (shipments table, counts, details, retry queue, history).

Contracts:
- `changed_elsewhere` is emitted at most once per poll that saw another process's change, on the GUI thread.
- Changes made by this process are not reported (`changes.Watcher`), so a window does not reload for its
  own scan or reviews.
- A failed poll (database briefly unreachable, locked, not open yet) is logged at debug level and tried
  again at the next interval; it never reaches the user.
- `stop()` returns at once (the thread ends after its current poll and closes its connection); `stop(wait)`
  waits up to `wait` seconds for it (tests).

Signals:
    changed_elsewhere(): another process changed what the tables show.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.store import changes, tables

log = logging.getLogger("shipscan.gui")

#: Seconds between two reads of the change counter.
POLL_SECONDS = 1.5
#: Milliseconds between two looks of the GUI timer at the worker's flag (no database involved).
FLAG_CHECK_MS = 200


class TeamSync(QObject):
    changed_elsewhere = Signal()

    def __init__(self, interval: float = POLL_SECONDS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval = interval
        self.polls = 0                      # reads done (for tests and the log)
        self._changed = threading.Event()   # set by the worker thread, cleared by the GUI timer
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._timer = QTimer(self, interval=FLAG_CHECK_MS)
        self._timer.timeout.connect(self._check_flag)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start polling (the first poll only takes the counter's current value as the baseline)."""
        if self.running:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), name="shipscan-teamsync",
                                        daemon=True)
        self._thread.start()
        self._timer.start()

    def stop(self, wait: float = 0.0) -> None:
        """Stop polling; with `wait`, wait that many seconds at most for the thread to end."""
        self._stop.set()
        self._timer.stop()
        thread, self._thread = self._thread, None
        if thread is not None and wait > 0:
            thread.join(wait)

    def _check_flag(self) -> None:
        if self._changed.is_set():
            self._changed.clear()
            self.changed_elsewhere.emit()

    # ------------------------------------------------------------------ worker thread

    def _run(self, stop: threading.Event) -> None:
        watcher, database = changes.Watcher(), None
        try:
            while True:
                if tables.database.obj is not database:  # another database was opened: start over on it
                    _close_connection(database)
                    watcher, database = changes.Watcher(), tables.database.obj
                self._poll_once(watcher)
                if stop.wait(self.interval):
                    return
        finally:
            _close_connection(database)

    def _poll_once(self, watcher: changes.Watcher) -> None:
        try:
            if watcher.poll():
                self._changed.set()
        except Exception:  # noqa: BLE001 -- any database error: try again next time, never bother the user
            log.debug("team sync: reading the change counter failed", exc_info=True)
        self.polls += 1


def _close_connection(database) -> None:
    """Close the calling thread's connection to `database` (peewee keeps one per thread); None: nothing."""
    try:
        if database is not None and not database.is_closed():
            database.close()
    except Exception:  # noqa: BLE001 -- closing at the end must not raise in a daemon thread
        log.debug("team sync: closing its connection failed", exc_info=True)
