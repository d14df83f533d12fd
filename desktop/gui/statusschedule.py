"""Tracking-status refresh in the window: by hand (F5) and on the schedule, one at a time (for the bridge).

Contracts:
- One refresh at a time, whoever asks; a second request while one runs is refused with a message.
- Each refresh ends in one message: its failures (never an "N checked" that hides them), a quiet success
  for the schedule's rounds. A refused key ends it at the first 401 (`StatusRefresher`).
- The schedule refreshes every `refresh_minutes(settings)` (0 when `status_refresh_auto` is off).
- A refusal (`ServiceRefused`: the key) also stops the schedule, so it does not knock on Ship24 with the
  same key every round: it starts again after the next refresh by hand that works, a saved change of the
  schedule's settings, or a restart. Reading results costs no Ship24 quota (quota counts trackers created,
  api-notes §2.9), so a registration paused for quota leaves the schedule running.
"""

from __future__ import annotations

import asyncio
import logging

from desktop.clients.errors import ServiceRefused
from desktop.errors import ExpectedError

log = logging.getLogger("shipscan.gui")


def refresh_minutes(settings) -> int:
    """Minutes between scheduled status refreshes; 0 when the schedule is off."""
    if not getattr(settings, "status_refresh_auto", True):
        return 0
    return max(0, int(getattr(settings, "status_refresh_minutes", 0) or 0))


class StatusRefreshRunner:
    """Runs `bridge.refresher` for the bridge: its messages and `status_refresh_busy` go through the bridge."""

    def __init__(self, bridge) -> None:
        self.bridge = bridge
        self.task: asyncio.Task | None = None          # the schedule
        self.running: asyncio.Task | None = None       # the refresh under way
        #: Why the schedule stopped by itself (a refused key), None while it may run.
        self.stopped: str | None = None

    async def by_hand(self) -> None:
        """F5: refresh now (refused while one runs); one that works restarts a stopped schedule."""
        bridge = self.bridge
        if bridge.refresher is None:
            bridge.messages.error("Tracking status needs a Ship24 key (Settings).")
            return
        if self.running is not None:
            bridge.messages.info("Tracking status is being refreshed already; please wait for it to finish.")
            return
        bridge.messages.info("Refreshing tracking status…")
        if await self.once(announce=True) and self.stopped is not None:
            self.stopped = None
            self.restart(refresh_minutes(bridge.services.settings))

    async def once(self, *, announce: bool) -> bool:
        """One refresh, ending in one message (a quiet success when not `announce`d); False when it failed
        as a whole."""
        bridge, messages = self.bridge, self.bridge.messages
        self.running = asyncio.current_task()
        bridge.status_refresh_busy.emit(True)
        try:
            summary = await bridge.refresher.refresh()
        except ServiceRefused as exc:
            self.stopped = str(exc)
            # Said before the cause: the error text's rewording (errortext) keeps what precedes the service.
            off = " (automatic refresh is off until a refresh by hand, F5, works)" if self.task is not None else ""
            messages.error(f"Tracking status refresh failed{off}: {exc}")
            return False
        except ExpectedError as exc:
            messages.error(f"Tracking status refresh failed: {exc}")
            return False
        finally:
            self.running = None
            bridge.status_refresh_busy.emit(False)
        bridge.shipments_changed.emit()
        counts = f"{summary.checked} checked, {summary.changed} changed"
        if summary.failed:  # the last word: an "N checked" after it would hide the failure
            messages.warning(f"Tracking status: {counts}; {summary.failed} could not be refreshed: "
                             f"{summary.errors[0]}")
        elif announce:
            messages.info(f"Tracking status: {counts}.")
        return True

    async def _schedule(self, stop: asyncio.Event, seconds: float) -> None:
        """Refresh every `seconds` until `stop` or a refusal; a round that finds one running skips it."""
        while not stop.is_set() and self.stopped is None:
            if self.running is None:
                try:
                    await self.once(announce=False)
                except Exception as exc:  # keep the schedule alive: the next round may work
                    log.exception("status refresh failed")
                    self.bridge.messages.error(f"Tracking status refresh failed: {exc}")
            try:
                await asyncio.wait_for(stop.wait(), timeout=seconds)
            except TimeoutError:
                pass

    def restart(self, minutes: int) -> None:
        """(Re)start the schedule every `minutes` (0: stop it); only while the bridge's worker runs."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
        stop = self.bridge._worker_stop
        if self.bridge.refresher is not None and stop is not None and minutes > 0:
            self.task = asyncio.ensure_future(self._schedule(stop, minutes * 60))
            self.task.add_done_callback(self.bridge._worker_done)
