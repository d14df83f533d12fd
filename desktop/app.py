"""The desktop app's composition root: `shipscan` / `shipscan --demo` end up in `main(args)`.

Builds, in this order: logging, the QApplication, the crash handler, the qasync event loop, the services
(settings, keys, database, API clients; with --demo the simulators and the demo database), the bridge
with the registration worker, and the main window. On close it shuts them down in reverse: the scan is
cancelled, the worker stopped, the window deleted, then the services close their clients and the database,
and last the engine's worker process is stopped. SIGTERM (logout, `kill`), SIGINT (Ctrl-C) and SIGHUP run
the same shutdown as closing the window, without asking; the exit code is 0 as after a close. Children
that the app starts die with it even when it is killed outright (`desktop.lifeline`).

First start without keys (or with an unusable endpoint): instead of exiting, the user may try the demo,
enter keys in Settings and go on, or quit (`desktop.gui.startup.first_start`); headless runs print the
missing key and exit 2 as before. With --demo, the simulators' endpoints are marked as holding for this
run only, so saving Settings never writes them to the settings file.

This is the only module that knows every concrete class; everything else receives its dependencies.
`SHIPSCAN_QUIT_AFTER=<seconds>` closes the window by itself after that long (smoke tests, screenshots).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable

import PySide6  # noqa: F401  -- must be imported before qasync, which picks the first binding it finds
import qasync  # noqa: E402  (after PySide6 on purpose)
from PySide6.QtWidgets import QApplication

from desktop import __version__
from desktop import log as applog
from desktop.core import offload
from desktop.errors import ConfigurationError
from desktop.gui.bridge import Bridge
from desktop.gui.crash import CrashHandler, is_headless
from desktop.gui.mainwindow import MainWindow
from desktop.gui.messages import Messages

log = logging.getLogger("shipscan.gui")

#: The signals that close the app in order, as closing the window does (those the platform has).
QUIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))
#: Registrations claimed and recorded at a time by the window's worker (see compose).
GUI_REGISTRATION_BATCH = 25


def make_scanner_factory(svc):
    """`(params, sink) -> Scanner` for the bridge: the extractor is chosen per scan (LLM or rules)."""
    # Import the pipeline and the extractors now, at start-up, rather than freezing the window on the first
    # Start click (the tracking engine compiles a few hundred patterns on import: ~0.3 s).
    import desktop.core.llm_extractor  # noqa: F401
    import desktop.core.pipeline  # noqa: F401
    import desktop.core.rules_extractor  # noqa: F401

    def make_scanner(params, sink):
        from desktop.core.pipeline import Scanner

        return Scanner(svc.front, svc.extractor(params.extractor), sink, settings=svc.settings, llm=svc.llm)

    return make_scanner


#: Front requests on the wire at once in the window (a scan from the command line keeps up to a whole scan
#: window's). The window's loop also paints: when Front's budget window opens, 150 answers landing in one
#: turn froze it for 72 ms (tests/benchmarks/bench_gui.py), 32 for 39 ms, and the scan took as long (its
#: pace is Front's budget).
WINDOW_FRONT_IN_FLIGHT = 32


def compose(svc, messages: Messages, *, log_path=None) -> tuple[Bridge, MainWindow]:
    """Build the bridge (with the registration worker and status refresher) and the main window."""
    if getattr(svc, "demo", False):  # the simulators' ports change each run: never saved (Settings)
        cfg = svc.settings
        svc.settings = cfg.with_runtime_endpoints("the demo", front_url=cfg.front_url, openai_url=cfg.openai_url,
                                                  ship24_url=cfg.ship24_url)
    bridge = Bridge(svc, messages, make_scanner=make_scanner_factory(svc))
    if hasattr(svc, "relay"):
        svc.relay.sink = bridge.sink  # rate-limit waits of every client, also outside a scan
    if svc.ship24 is not None:
        from desktop.core.registration import RegistrationWorker
        from desktop.core.status import StatusRefresher

        # Recording a bulk answer runs on the window's thread in one go (so a Retry or Resume cannot land in
        # the middle of it): 25 outcomes at a time keep it short (100 took 110 ms, measured).
        bridge.worker = RegistrationWorker(svc.ship24, bridge.sink, batch_limit=GUI_REGISTRATION_BATCH,
                                           approve_all_by_hand=svc.settings.approve_all_by_hand)
        bridge.refresher = StatusRefresher(svc.ship24, bridge.sink)
    window = MainWindow(bridge, messages, log_path=log_path, llm_available=svc.llm is not None,
                        demo=bool(getattr(svc, "demo", False)))
    return bridge, window


async def run_window(app: QApplication, args: argparse.Namespace, setup: applog.LogSetup) -> int:
    """Open the services and the window; return when the window has closed and everything shut down."""
    messages = Messages()
    closed = asyncio.Event()
    restore_signals = _close_on_signals(closed)
    try:
        return await _run_services_and_window(app, args, setup, messages, closed)
    finally:
        restore_signals()


async def _run_services_and_window(app: QApplication, args: argparse.Namespace, setup: applog.LogSetup,
                                   messages: Messages, closed: asyncio.Event) -> int:
    async with contextlib.AsyncExitStack() as stack:
        svc = await _open_services(stack, args)
        for key in (svc.keys.front, svc.keys.openai, svc.keys.ship24):
            setup.redactor.add_secret(key)
        log.info("window opening (demo=%s, db=%s)", bool(getattr(svc, "demo", False)), svc.db_path)
        bridge, window = compose(svc, messages, log_path=setup.log_path)
        window.closed.connect(closed.set)
        app.aboutToQuit.connect(closed.set)
        window.show()
        window.start()
        bridge.start_worker()
        # Move everything built so far out of the collector's way: full collections during a scan then
        # walk only new objects, which keeps GC pauses of the GUI thread short (measured ~30 -> ~10 ms).
        gc.collect()
        gc.freeze()
        _quit_after(window)
        bridge.show_notices()
        if svc.llm is None:
            messages.info("No OpenAI key is set: scans use the rules extractor.")
        if svc.ship24 is None:
            messages.warning("No Ship24 key is set: shipments are found but not registered.")
        await closed.wait()
        await bridge.aclose()
        window.hide()
        window.deleteLater()
    return 0


async def _open_services(stack: contextlib.AsyncExitStack, args: argparse.Namespace):
    """The opened services (closed with `stack`). While they cannot open for want of a key or a usable
    setting, the first-start dialog offers the demo or Settings; "quit" re-raises the error."""
    from desktop.gui import startup
    from desktop.services import open_services

    while True:
        try:
            return await stack.enter_async_context(open_services(args, sims_in_child=True,
                                                                 front_in_flight=WINDOW_FRONT_IN_FLIGHT))
        except ConfigurationError as exc:
            log.info("cannot open the services: %s", exc)
            choice = await startup.first_start(exc)
            if choice == startup.QUIT:
                raise
            if choice == startup.DEMO:
                args = copy.copy(args)
                args.demo = True


def _close_on_signals(closed: asyncio.Event) -> Callable[[], None]:
    """Set `closed` on QUIT_SIGNALS, from the event loop; returns the function that undoes this.

    Not `window.close()`: that asks first while a scan runs, and nobody may be there to answer. A signal
    that is ignored on entry (`nohup`, a background job without job control) stays ignored.
    """
    loop = asyncio.get_running_loop()
    previous = {signum: signal.getsignal(signum) for signum in QUIT_SIGNALS
                if signal.getsignal(signum) is not signal.SIG_IGN}

    def on_signal(signum: int) -> None:
        log.info("%s received: closing", signal.Signals(signum).name)
        closed.set()

    for signum in previous:
        try:
            # The loop's own handling (set_wakeup_fd and its self-pipe) wakes Qt's event loop at once; a
            # bare Python handler runs only when Python code next runs, which an idle window may never do.
            loop.add_signal_handler(signum, on_signal, signum)
        except NotImplementedError:  # Windows' loops: a plain handler that hands over to the loop
            signal.signal(signum, lambda number, _frame: loop.call_soon_threadsafe(on_signal, number))

    def restore() -> None:
        for signum, handler in previous.items():
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signum)
            if handler is not None:  # None: set outside Python, cannot be put back
                signal.signal(signum, handler)

    return restore


def _quit_after(window: MainWindow) -> None:
    seconds = os.environ.get("SHIPSCAN_QUIT_AFTER")
    if seconds:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(float(seconds) * 1000), window.close)


def _setup_needed(error: ConfigurationError) -> int:
    """A key or setting is missing and the user chose to quit (or nobody can be asked): say which, exit 2."""
    print(f"shipscan: {error}", file=sys.stderr)
    if not is_headless():
        print("shipscan: to try it without accounts, run `shipscan --demo`", file=sys.stderr)
    return 2


def make_application() -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "shipscan"])
    app.setApplicationName("Shipscan")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Shipscan")
    app.setDesktopFileName("shipscan")
    from desktop.gui.about import app_icon

    app.setWindowIcon(app_icon())  # title and task bars (X11, Windows); Wayland takes the .desktop file's
    # The window decides when the app ends (it may first cancel a scan), not Qt's last-window rule.
    app.setQuitOnLastWindowClosed(False)
    # The extraction threads are CPU-bound. Each time the GUI thread releases the interpreter lock (every
    # SQLite statement, every socket call) it waits up to one switch interval to get it back: 5 ms by
    # default, which adds up to freezes of 100-300 ms per conversation commit. 1 ms keeps them short.
    sys.setswitchinterval(0.001)
    offload.use_processes()  # the engine's CPU work never competes with the window for the lock
    return app


def _exception_handler(crash: CrashHandler):
    """Route exceptions of background tasks and callbacks to the crash handler (they are bugs)."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException) and not isinstance(exc, asyncio.CancelledError):
            crash.hook(type(exc), exc, exc.__traceback__)
        else:
            loop.default_exception_handler(context)

    return handle


def main(args: argparse.Namespace) -> int:
    """Run the desktop app until its window closes; returns the process exit code."""
    setup = applog.setup(getattr(args, "verbose", 0) or 0)
    app = make_application()
    crash = CrashHandler(setup.log_path, lambda: setup.ring.text(200)).install()
    loop = qasync.QEventLoop(app)
    loop.set_exception_handler(_exception_handler(crash))
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(run_window(app, args, setup))
    except ConfigurationError as exc:
        return _setup_needed(exc)
    finally:
        offload.shutdown()  # the engine's worker process: after the services, so no scan still needs it
        crash.uninstall()
        asyncio.set_event_loop(None)
        log.info("window closed")
