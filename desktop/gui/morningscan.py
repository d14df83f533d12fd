"""The optional morning scan: at a set local time, while the app runs, the same scan as the Scan button
over "since last scan" (issue 15 item 5).

Contracts:
- It fires when the clock passes today's time (`Settings.morning_scan_at`, "HH:MM") while it is armed:
  armed since the window started, or since the setting last changed. A time that passed while the app was
  closed (or before the setting was saved) is not caught up: nobody asked for a scan at 11:00 because the
  PC was off at 8:00.
- At most once a day: the day it last fired is remembered in the window state (`morningscan/last_day`),
  so a restart or a later time set the same day does not scan twice.
- Never while a scan runs: it waits until that scan has ended (the same day), then starts.
- It starts by `start()` (the window: the "since last scan" preset, then the Start button), so the scan
  is exactly what the button would run, with the panel's inboxes and batching.
The check runs every `CHECK_MS` on a QTimer; `check()` is public so tests drive it with their own clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

log = logging.getLogger("shipscan.gui")

#: How often the time is checked (a missed tick only delays the scan by this much).
CHECK_MS = 30_000
STATE_KEY = "morningscan/last_day"


def parse_time(text: str) -> dt.time | None:
    """"HH:MM" (24 h) as a time; None when it is not one (the morning scan then stays off)."""
    try:
        hours, minutes = (int(part) for part in str(text).strip().split(":"))
        return dt.time(hours, minutes)
    except (TypeError, ValueError):
        return None


class MorningScan(QObject):
    """Starts `start()` once a day at the set time while the app runs (see the module docstring).

    Signals:
        fired(str): the day (ISO date) a morning scan was started.
    """

    fired = Signal(str)

    def __init__(self, state: QSettings, start: Callable[[], None], busy: Callable[[], bool], *,
                 now: Callable[[], dt.datetime] = dt.datetime.now, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state, self._start, self._busy = state, start, busy
        #: The local clock (tests replace it).
        self.now = now
        self._at: dt.time | None = None
        self._armed_at = now()
        self._timer = QTimer(self, interval=CHECK_MS)
        self._timer.timeout.connect(self.check)

    def configure(self, settings) -> None:
        """Take the morning-scan settings (at start and after each save); a change re-arms from now."""
        at = parse_time(settings.morning_scan_at) if settings.morning_scan else None
        if at != self._at:
            self._at, self._armed_at = at, self.now()
        if at is None:
            self._timer.stop()
        elif not self._timer.isActive():
            self._timer.start()

    @property
    def enabled(self) -> bool:
        return self._at is not None

    def due(self, now: dt.datetime) -> dt.datetime | None:
        """Today's scan time when it is due at `now` (passed while armed, not yet run today), else None."""
        if self._at is None:
            return None
        moment = dt.datetime.combine(now.date(), self._at)
        if not self._armed_at < moment <= now:
            return None
        return None if self._state.value(STATE_KEY) == now.date().isoformat() else moment

    def check(self) -> bool:
        """Start the morning scan when it is due and no scan runs; True when it started one."""
        now = self.now()
        if self.due(now) is None or self._busy():
            return False
        day = now.date().isoformat()
        self._state.setValue(STATE_KEY, day)   # first: a scan that fails to start is not retried all day
        self._state.sync()
        log.info("morning scan started (%s)", self._at)
        self._start()
        self.fired.emit(day)
        return True
