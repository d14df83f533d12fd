"""Desktop notifications for shipments that need a person: new exceptions, and shipments not updated for
N days (issue 15 item 7), each shipment once.

Contracts:
- `check()` reads the two groups through the store's own filters (`store.glance`: "exception" and "stale"
  with the N the shipments view's "Not updated for N days" tab uses), so a notification names exactly the
  shipments the tab lists.
- A shipment is notified once per kind, ever: the ids already told are remembered in the window state
  (`notices/<database>/<kind>`; the database is named by a hash of its path or URL, never the URL itself,
  which may hold a password). A restart does not repeat them; a shipment that leaves the group and comes
  back is not told again.
- One notification per kind and check, however many are new ("3 new exceptions: 1Z…, …"), so a first
  start over an old database says one line, not hundreds.
- `counts_changed(exceptions, stale)` is emitted after every check (the tray's tooltip and menu).
When: after each status refresh, at start, and every `CHECK_MS` (a shipment goes stale by time alone).
The reads run on the GUI's database worker (`dbworker`), so a database on a server never freezes the
window; the notification follows when they are done (`wait()` for tests).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from desktop.gui import dbworker
from desktop.gui.formats import plural
from desktop.store import views

#: How often the groups are read while nothing else triggers it.
CHECK_MS = 10 * 60_000
#: Numbers named in one notification; the rest are counted.
NAMED = 3
KINDS = ("exception", "stale")


def read_groups(days: int) -> dict[str, list[int]]:
    """Kind -> the ids of its group now (runs on the database worker)."""
    return {kind: views.shipment_ids(views.ShipmentFilter(tracking=kind, stale_days=days)) for kind in KINDS}


def read_numbers(ids: list[int]) -> dict[int, str]:
    """Id -> tracking number of `ids` (runs on the database worker)."""
    return {sid: row.number for sid, row in views.shipment_rows(ids).items()}


def database_key(target: object) -> str:
    """A short, stable name for the database `target` (path or URL) that reveals nothing of it."""
    return hashlib.sha256(str(target).encode()).hexdigest()[:12]


class ShipmentNotices(QObject):
    """Checks the exception and stale groups and notifies what is new (see the module docstring).

    Args:
        state: where the notified ids are remembered (the window's QSettings).
        database: the database's path or URL (only its hash is stored).
        stale_days: () -> the N of "not updated for N days".
        notify: (title, text) -> None, the window's desktop notification.

    Signals:
        counts_changed(int exceptions, int stale)
    """

    counts_changed = Signal(int, int)

    def __init__(self, state: QSettings, database: object, stale_days: Callable[[], int],
                 notify: Callable[[str, str], None], parent: QObject | None = None,
                 worker: dbworker.DbWorker | None = None) -> None:
        super().__init__(parent)
        self._worker = worker or dbworker.shared()
        self._state, self._stale_days, self._notify = state, stale_days, notify
        self._prefix = f"notices/{database_key(database)}"
        self.counts: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._jobs: list[dbworker.Job] = []   # submitted, not yet waited for (`wait`)
        self._timer = QTimer(self, interval=CHECK_MS)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        """Check now, then every CHECK_MS."""
        self.check()
        self._timer.start()

    def check(self, *_args) -> None:
        """Read both groups (on the database worker), then notify the new shipments of each."""
        days = self._stale_days()
        self._submit(read_groups, days, on_result=functools.partial(self._on_groups, days),
                     key=(id(self), "groups"))

    def _submit(self, fn, *args, **kwargs) -> None:
        self._jobs = [job for job in self._jobs if not job.delivered and not job.cancelled]
        self._jobs.append(self._worker.submit(fn, *args, owner=self, **kwargs))

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the checks asked for so far are done and notified (tests); False on a timeout."""
        while self._jobs:
            job = self._jobs.pop(0)
            if not self._worker.wait(job, timeout):   # delivers its callback, which may submit the next
                return False
        return True

    def _on_groups(self, days: int, groups: dict[str, list[int]]) -> None:
        for kind in KINDS:
            ids = groups[kind]
            self.counts[kind] = len(ids)
            known = self._known(kind)
            new = [i for i in ids if i not in known]
            if new:
                self._remember(kind, known | set(new))   # now: a second check in flight finds them told
                self._submit(read_numbers, new[:NAMED], on_result=functools.partial(self._tell, kind, new, days))
        self.counts_changed.emit(self.counts["exception"], self.counts["stale"])

    def _tell(self, kind: str, ids: list[int], days: int, numbers: dict[int, str]) -> None:
        self._notify(*self._text(kind, ids, days, numbers))

    def _known(self, kind: str) -> set[int]:
        raw = self._state.value(f"{self._prefix}/{kind}") or ""
        return {int(part) for part in str(raw).split() if part.isdigit()}

    def _remember(self, kind: str, ids: set[int]) -> None:
        # One space-separated string: QSettings' INI lists of one item read back as a plain string.
        self._state.setValue(f"{self._prefix}/{kind}", " ".join(str(i) for i in sorted(ids)))
        self._state.sync()

    @staticmethod
    def _text(kind: str, ids: list[int], days: int, known_numbers: dict[int, str]) -> tuple[str, str]:
        numbers = [known_numbers[i] for i in ids[:NAMED] if i in known_numbers]
        more = len(ids) - len(numbers)
        named = ", ".join(numbers) + (f" and {more} more" if more else "")
        if kind == "exception":
            return "Shipscan: delivery problems", f"{plural(len(ids), 'new exception')}: {named}."
        return (f"Shipscan: not updated for {days} days",
                f"{plural(len(ids), 'shipment')} not updated for {days} days: {named}.")
