"""The one bridge between the core and the widgets: core events in, Qt signals out; user actions in.

`Bridge.sink` is the event sink handed to the pipeline and the registration worker. It re-emits each
event as the Qt signal for its type, with the frozen event dataclass as the payload, on the GUI thread
(the core runs on the same qasync loop, so there is no thread hand-off). The few async entry points
(`start_scan`, `estimate`, `retry`, `load_inboxes`, `test_connection`) are `@asyncSlot`s here; widgets
stay synchronous. Expected failures (`ExpectedError`) become status messages; anything else propagates
to the crash handler.

Signals (payload in brackets):
    run_started[RunStarted], listing_progress[ListingProgress], batch_started[BatchStarted],
    batch_finished[BatchFinished], conversation_started[ConversationStarted],
    conversation_finished[ConversationFinished], shipment_found[ShipmentFound], progress[Progress],
    rate_limit_wait[RateLimitWait], error_reported[ErrorReported], run_finished[RunFinished],
    registration_changed[RegistrationChanged], registration_paused[RegistrationPaused],
    status_refreshed[StatusRefreshed]: one per core event type.
    scan_state_changed[str]: "idle" | "scanning" | "cancelling".
    estimate_ready[Estimate | None], inboxes_loaded[list[Inbox]],
    inboxes_unavailable[str]: why the inboxes cannot be listed (a token without `inboxes:read`; optional),
    shipments_changed[]: a review action changed shipments or registrations,
    connection_tested[str service, bool ok, str message],
    status_refresh_busy[bool]: a tracking-status refresh (F5 or the schedule) started (True) / ended (False),
    settings_applied[Settings]: saved settings now in force (`apply_settings`).

Tracking-status refresh: one at a time, whoever asks (F5 or the schedule); a second request while one runs
is refused with a message, never run twice. Its final message carries the failures (never an "N checked"
that hides them), and a refused key ends it at the first 401 with one message (`StatusRefresher`).
The schedule, and a refused key stopping it until a refresh by hand works: `statusschedule`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from desktop.clients.front import MissingScope
from desktop.core import events as ev
from desktop.errors import ExpectedError
from desktop.gui import connection, livesettings
from desktop.gui.estimate import estimate_scan
from desktop.gui.messages import Messages
from desktop.gui.reviewapi import ReviewApi
from desktop.gui.statusschedule import StatusRefreshRunner, refresh_minutes

log = logging.getLogger("shipscan.gui")

#: Event type -> name of the Bridge signal that carries it.
EVENT_SIGNALS: dict[type, str] = {
    ev.RunStarted: "run_started", ev.ListingProgress: "listing_progress", ev.BatchStarted: "batch_started",
    ev.BatchFinished: "batch_finished", ev.ConversationStarted: "conversation_started",
    ev.ConversationFinished: "conversation_finished", ev.ShipmentFound: "shipment_found",
    ev.Progress: "progress", ev.RateLimitWait: "rate_limit_wait", ev.ErrorReported: "error_reported",
    ev.RunFinished: "run_finished", ev.RegistrationChanged: "registration_changed",
    ev.RegistrationPaused: "registration_paused", ev.StatusRefreshed: "status_refreshed",
}


class Bridge(QObject):
    run_started = Signal(object)
    listing_progress = Signal(object)
    batch_started = Signal(object)
    batch_finished = Signal(object)
    conversation_started = Signal(object)
    conversation_finished = Signal(object)
    shipment_found = Signal(object)
    progress = Signal(object)
    rate_limit_wait = Signal(object)
    error_reported = Signal(object)
    run_finished = Signal(object)
    registration_changed = Signal(object)
    registration_paused = Signal(object)
    status_refreshed = Signal(object)

    scan_state_changed = Signal(str)
    estimate_ready = Signal(object)
    inboxes_loaded = Signal(object)
    inboxes_unavailable = Signal(str)
    shipments_changed = Signal()
    connection_tested = Signal(str, bool, str)
    status_refresh_busy = Signal(bool)
    settings_applied = Signal(object)

    def __init__(self, services, messages: Messages, *, make_scanner: Callable | None = None,
                 worker=None, refresher=None, review: ReviewApi | None = None,
                 parent: QObject | None = None) -> None:
        """Args:
            services: the opened `desktop.services` object (settings, front, llm, ship24, ...).
            make_scanner: `(params, sink) -> scanner` with `await scanner.run(params)`; from the app.
            worker: the `RegistrationWorker` (None: registration is off, e.g. no Ship24 key).
            refresher: the tracking-status `StatusRefresher` (None: no status refresh).
        """
        super().__init__(parent)
        self.services = services
        self.messages = messages
        self.worker = worker
        self.refresher = refresher
        self.review = review or ReviewApi()
        self._make_scanner = make_scanner
        self._scan_task: asyncio.Task | None = None
        self._scanner = None
        self._estimate_task: asyncio.Task | None = None
        self._worker_task: asyncio.Task | None = None
        self._worker_stop: asyncio.Event | None = None
        self.status = StatusRefreshRunner(self)    # F5 and the schedule
        self._state = "idle"
        self._emitters = {kind: getattr(self, name).emit for kind, name in EVENT_SIGNALS.items()}

    # ------------------------------------------------------------------ events in

    def sink(self, event: ev.Event) -> None:
        """The core's sink: re-emit `event` as its signal. Quick, and never raises into the core."""
        emit = self._emitters.get(type(event))
        if emit is None:
            log.debug("no signal for event %s", type(event).__name__)
            return
        emit(event)

    # ------------------------------------------------------------------ scan

    @property
    def state(self) -> str:
        return self._state

    @property
    def scanning(self) -> bool:
        return self._scan_task is not None

    @asyncSlot(object)
    async def start_scan(self, params) -> None:
        """Run one scan to its end. A second start while one runs is refused (never overlaps)."""
        if self._scan_task is not None:
            self.messages.warning("A scan is already running; cancel it first.")
            return
        try:
            scanner = self._make_scanner(params, self.sink)
        except ExpectedError as exc:
            self.messages.error(f"Cannot start the scan: {exc}")
            return
        self.show_notices()
        self._scanner = scanner
        self._scan_task = asyncio.ensure_future(scanner.run(params))
        self._set_state("scanning")
        try:
            summary = await self._scan_task
            if self._state == "cancelling":
                self.messages.info("Scan cancelled: everything read so far is saved.")
            elif getattr(summary, "state", None) == "failed":
                self.messages.error(f"The scan failed: {summary.get('error') or 'see the log'}")
        except asyncio.CancelledError:
            if self._state != "cancelling":
                raise  # the app is shutting down: let the cancellation through
            self.messages.info("Scan cancelled: everything read so far is saved.")
        except ExpectedError as exc:
            self.messages.error(f"The scan stopped: {exc}")
        finally:
            self._scan_task = self._scanner = None
            self._set_state("idle")
            self._wake_worker()

    def show_notices(self) -> None:
        """Show what the services want the user told (e.g. "no OpenAI key: rules extractor"), once each."""
        notices = getattr(self.services, "notices", None)
        while notices:
            self.messages.info(notices.pop(0))

    def cancel_scan(self) -> None:
        """Ask the running scan to stop (it stops within ~2 s; `scan_state_changed("idle")` follows)."""
        if self._scan_task is not None and self._state == "scanning":
            self._set_state("cancelling")
            if hasattr(self._scanner, "cancel"):
                self._scanner.cancel()  # the run ends with its summary, state "cancelled"
            else:
                self._scan_task.cancel()

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.scan_state_changed.emit(state)

    # ------------------------------------------------------------------ estimate, inboxes, connection

    @asyncSlot(object)
    async def estimate(self, params) -> None:
        """Estimate a scan of `params` (a newer request cancels an older one still running)."""
        if self._estimate_task is not None:
            self._estimate_task.cancel()
        svc = self.services
        task = asyncio.ensure_future(estimate_scan(svc.front, svc.settings, params.since, params.until,
                                                   tuple(params.inboxes), params.extractor,
                                                   params.batch_size * params.concurrent_batches))
        self._estimate_task = task
        try:
            self.estimate_ready.emit(await task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
        except ExpectedError as exc:
            self.messages.warning(f"No estimate: {exc}")
            self.estimate_ready.emit(None)
        finally:
            if self._estimate_task is task:
                self._estimate_task = None

    @asyncSlot()
    async def load_inboxes(self) -> None:
        try:
            inboxes = await self.services.front.inboxes()
        except MissingScope as exc:   # the inbox list is optional: the scan panel says so, scans cover all
            self.inboxes_unavailable.emit(f"the Front token lacks the {exc.scope} scope")
            return
        except ExpectedError as exc:
            self.messages.warning(f"Could not list the Front inboxes: {exc}")
            return
        self.inboxes_loaded.emit(list(inboxes))

    @asyncSlot(str, str, str)
    async def test_connection(self, service: str, base_url: str, key: str) -> None:
        ok, message = await connection.test_connection(service, base_url, key or None)
        self.connection_tested.emit(service, ok, message)

    # ------------------------------------------------------------------ review and registration

    def approve(self, ids: Sequence[int]) -> bool:
        return self._review_action("approve", "Approved", list(ids))

    def reject(self, ids: Sequence[int]) -> bool:
        return self._review_action("reject", "Rejected", list(ids))

    def dismiss(self, ids: Sequence[int]) -> bool:
        return self._review_action("dismiss", "Dismissed", list(ids))

    def edit(self, shipment_id: int, **changes) -> bool:
        """Edit number/courier/carrier/order (the caller has re-validated the number); True when saved."""
        return self._review_action("edit", "Saved", shipment_id, **changes)

    def set_destination(self, shipment_id: int, postcode: str | None, country: str | None) -> bool:
        return self._review_action("set_destination", "Destination saved for", shipment_id,
                                   postcode=postcode, country=country)

    def _review_action(self, name: str, verb: str, *args, **kwargs) -> bool:
        """Run one review action; report what it changed in the status area; True when none failed."""
        results = getattr(self.review, name)(*args, **kwargs)
        failed = [r for r in results if not r.ok]
        done = sum(1 for r in results if r.ok and getattr(r, "changed", True))
        if len(results) == 1:
            (self.messages.error if failed else self.messages.info)(results[0].message)
        else:
            self._report_many(verb, results, failed, done)
        if done:
            self.shipments_changed.emit()
            self._wake_worker()
        return not failed

    def _report_many(self, verb: str, results: list, failed: list, done: int) -> None:
        """One line for a multi-shipment action: how many changed, how many were already so, and why not."""
        unchanged = [r for r in results if r.ok and not getattr(r, "changed", True)]
        parts = [f"{verb} {done} of {len(results)} shipments." if (failed or unchanged)
                 else f"{verb} {done} shipments."]
        if unchanged:
            reasons = sorted({r.message.rstrip(".") for r in unchanged})
            parts.append(f"{len(unchanged)} unchanged ({'; '.join(reasons).lower()}).")
        if failed:
            parts.append(failed[0].message)
        (self.messages.warning if failed else self.messages.info)(" ".join(parts))

    @asyncSlot(object)
    async def retry(self, ids: Sequence[int] | None) -> None:
        """Retry these registrations (shipment ids; None = all) now, whatever their backoff says."""
        if self.worker is None:
            self.messages.error("Registration is off: no Ship24 key is set (Settings).")
            return
        try:
            result = self.worker.retry_now(None if ids is None else list(ids))
            if inspect.isawaitable(result):
                await result
        except ExpectedError as exc:
            self.messages.error(f"Retry failed: {exc}")
        self.shipments_changed.emit()

    def hand_approval(self) -> bool:
        """Whether only approved shipments register (the worker's setting, else the saved one)."""
        if self.worker is not None:
            return bool(self.worker.approve_all_by_hand)
        return bool(getattr(self.services.settings, "approve_all_by_hand", False))

    def resume_registration(self) -> None:
        """Lift a registration pause (quota renewed, key fixed)."""
        if self.worker is None:
            return
        ids = self.worker.resume()
        self.messages.info(f"Registration resumed: {len(ids)} shipment(s) queued.")
        self.shipments_changed.emit()

    @property
    def refreshing(self) -> bool:
        """True while a tracking-status refresh runs (F5 or the schedule)."""
        return self.status.running is not None

    @asyncSlot()
    async def refresh_status(self) -> None:
        """Refresh the tracking status of registered shipments now (refused while one runs)."""
        await self.status.by_hand()

    # ------------------------------------------------------------------ settings

    def apply_settings(self, new) -> None:
        """Put saved settings in force now (`livesettings.apply`), restart the status schedule if its
        interval changed, and say what waits for the next start."""
        previous = refresh_minutes(self.services.settings)
        later = livesettings.apply(self.services, self.worker, new)
        if refresh_minutes(new) != previous:
            self.status.stopped = None
            self.status.restart(refresh_minutes(new))
        waiting = ", ".join(later)
        self.messages.info("Settings saved and applied." + (
            f" {waiting[:1].upper()}{waiting[1:]}: at the next start." if later else ""))
        self.settings_applied.emit(self.services.settings)

    def _wake_worker(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    # ------------------------------------------------------------------ background worker, shutdown

    def start_worker(self) -> None:
        """Run the registration worker in the background for the app's lifetime."""
        if self.worker is None or self._worker_task is not None:
            return
        self._worker_stop = asyncio.Event()
        self._worker_task = asyncio.ensure_future(self.worker.run(self._worker_stop))
        self._worker_task.add_done_callback(self._worker_done)
        self.status.restart(refresh_minutes(self.services.settings))

    def _worker_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if isinstance(exc, ExpectedError):
                self.messages.error(f"Registration stopped: {exc}")
            else:
                loop = asyncio.get_event_loop()
                loop.call_exception_handler({"message": "registration worker failed", "exception": exc})

    async def aclose(self, timeout: float = 5.0) -> None:
        """Cancel the scan and stop the worker; in reverse order of start."""
        if self._scan_task is not None:
            self._set_state("cancelling")
            self._scan_task.cancel()
            await asyncio.wait([self._scan_task], timeout=timeout)
        if self._estimate_task is not None:
            self._estimate_task.cancel()
        if self._worker_task is not None:
            assert self._worker_stop is not None
            self._worker_stop.set()
            tasks = [t for t in (self._worker_task, self.status.task) if t is not None]
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            self._worker_task = self.status.task = None
