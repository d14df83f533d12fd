"""DbWorker: the GUI's database reads run on one worker thread; their results come back on the GUI thread.

With the database on a server (PostgreSQL 50 ms away), every query made on the GUI thread freezes the
window for at least one round trip. So the views hand their reads (the shipments table's ids and pages,
the status tabs' counts, the carrier list, the details pane) to a `DbWorker`, which runs them in order on
its own thread, with its own connection (peewee keeps one connection per thread per database), and calls
back on the GUI thread when each one is done.

Contracts:
- `submit(fn, *args, on_result=..., on_error=..., key=..., owner=...)` returns a `Job` at once. Later,
  on the thread that created the worker (the GUI thread), exactly one of `on_result(value)` or
  `on_error(exception)` is called, unless the job was superseded or its owner was deleted.
- A job submitted with a `key` supersedes a job with the same key that has not started yet: the older
  one never runs and never calls back (typing "acme" queries once, not four times). A job already
  running is not interrupted: its caller drops the stale result itself (e.g. by a generation number).
- Jobs run one at a time, in submission order, so a read submitted after a write (done on the GUI
  thread) sees it, and results arrive in submission order.
- `wait(job)` blocks the calling (GUI) thread until `job` has run and delivers its callback before it
  returns (and every earlier finished job's): for tests and for actions that need a row at once. Never
  call it from painting code.
- The worker uses whatever database `desktop.store.tables.database` is bound to when a job runs; when
  that changes (another database opened), it closes its connection to the previous one.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal

from desktop.store import tables

log = logging.getLogger("shipscan.gui")


@dataclasses.dataclass(eq=False)
class Job:
    """One read: `fn(*args)` on the worker thread; the outcome is `result` or `error` once `done` is set."""

    fn: Callable[..., Any]
    args: tuple
    on_result: Callable[[Any], None]
    on_error: Callable[[BaseException], None] | None = None
    key: object = None
    owner: QObject | None = None
    result: Any = None
    error: BaseException | None = None
    cancelled: bool = False
    delivered: bool = False
    done: threading.Event = dataclasses.field(default_factory=threading.Event)


class DbWorker(QObject):
    """One thread that runs store reads in order (see the module's contracts). Create it on the GUI thread."""

    # Emitted on the worker thread; the queued connection runs `_deliver` on this object's (GUI) thread.
    _finished = Signal(object)

    def __init__(self, name: str = "shipscan-db", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._cond = threading.Condition()
        self._queue: collections.deque[Job] = collections.deque()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._busy = False
        self._database = None   # the peewee database the worker thread last used (worker thread only)
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------------ GUI thread

    def submit(self, fn: Callable[..., Any], *args: Any, on_result: Callable[[Any], None],
               on_error: Callable[[BaseException], None] | None = None, key: object = None,
               owner: QObject | None = None) -> Job:
        """Queue `fn(*args)`; see the module docstring for when the callbacks run."""
        job = Job(fn, args, on_result, on_error, key, owner)
        with self._cond:
            if key is not None:
                self._supersede(key)
            self._queue.append(job)
            self._cond.notify()
            if self._thread is None:
                self._start()
        return job

    def wait(self, job: Job, timeout: float | None = None) -> bool:
        """Block until `job` ran, then deliver the finished jobs' callbacks (in order) before returning.

        Returns False if `timeout` (seconds) passed first; True otherwise (also for a superseded job,
        which has no callback to deliver)."""
        if not job.done.wait(timeout):
            return False
        # The worker posts the delivery before it sets `done`, so every earlier job's delivery is posted too:
        # deliver them now, in their order, rather than when the event loop next runs.
        QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        self._deliver(job)
        return True

    def drain(self, timeout: float | None = 30.0, rounds: int = 10) -> bool:
        """Block until every job submitted so far ran and its callback was delivered, including jobs those
        callbacks submit (up to `rounds` times). For tests and actions; False if `timeout` passed first."""
        for _round in range(rounds):
            if not self.wait(self.submit(_nothing, on_result=_ignore), timeout):
                return False
            if self.idle():
                return True
        return self.idle()

    def idle(self) -> bool:
        """True when no job waits or runs (the callbacks of finished jobs may still be on their way)."""
        with self._cond:
            return not self._queue and not self._busy

    def stop(self, timeout: float = 5.0) -> None:
        """Run the queued jobs (their callbacks are dropped), close the worker's connection and end its
        thread. A job submitted later starts a new thread; if the old one is still stuck in a read after
        `timeout` seconds, later jobs wait for it and never call back (the application is quitting)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the database worker is still busy with a read; not waiting for it")
                return
        with self._cond:
            self._stopping, self._thread = False, None
            if self._queue:  # submitted while it stopped
                self._start()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def _supersede(self, key: object) -> None:
        for old in [job for job in self._queue if job.key == key]:
            self._queue.remove(old)
            old.cancelled = True
            old.done.set()

    def _deliver(self, job: Job) -> None:
        """Call the job's callback once, unless it was superseded or its owner is gone."""
        if job.delivered or job.cancelled:
            return
        job.delivered = True
        if job.owner is not None and not shiboken6.isValid(job.owner):
            return
        if job.error is None:
            job.on_result(job.result)
        elif job.on_error is not None:
            job.on_error(job.error)
        else:
            log.error("database read %s failed", getattr(job.fn, "__name__", job.fn), exc_info=job.error)

    # ------------------------------------------------------------------ worker thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    break
                job = self._queue.popleft()
                self._busy = True
            try:
                self._follow_database()
                job.result = job.fn(*job.args)
            except Exception as exc:  # delivered to the caller, who shows it: a failed read is never "no rows"
                job.error = exc
            with self._cond:
                self._busy = False
            if not self._stopping:
                self._finished.emit(job)
            job.done.set()
        self._close_connection()

    def _follow_database(self) -> None:
        """Close this thread's connection to a database the tables are no longer bound to."""
        current = tables.database.obj
        if self._database is not None and self._database is not current:
            self._close_connection()
        self._database = current

    def _close_connection(self) -> None:
        if self._database is None:
            return
        try:
            self._database.close()  # peewee: closes this thread's connection only
        except Exception:  # an already broken connection: nothing more to release
            log.debug("closing the database worker's connection failed", exc_info=True)
        self._database = None


_shared: dict[str, DbWorker] = {}


def shared(name: str = "shipscan-db") -> DbWorker:
    """The application's database worker called `name` (created on first use, on the GUI thread; stopped
    when Qt quits). The default one runs the views' reads; "shipscan-counts" runs the status tabs' counts
    beside it, on its own thread and connection, so a filter's rows and counts are read at the same time."""
    worker = _shared.get(name)
    if worker is None:
        worker = _shared[name] = DbWorker(name)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(worker.stop)
    return worker


def _nothing() -> None:
    """The job `drain` waits for: jobs run in order, so every earlier one has run when it has."""


def _ignore(_result: object) -> None:
    pass
