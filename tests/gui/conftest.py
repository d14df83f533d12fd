"""GUI test fixtures: a qasync loop on pytest-qt's QApplication, demo services on fast simulators, the window.

The loop is created with `already_running=True`, so Qt's nested loops (`qtbot.waitUntil`, `waitSignal`)
drive asyncio callbacks; coroutines are run with `run(qtbot, coro)`, never `run_until_complete`
(stack-notes §2.3 A).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import PySide6  # noqa: F401  -- before qasync
import pytest
import qasync

from desktop.gui.messages import Messages
from tests.helpers.sqlthreads import queries  # noqa: F401  -- the fixture, for every GUI test module


def run(qtbot, coro, timeout: int = 30_000):
    """Run `coro` on the running qasync loop, spinning Qt until it is done; returns its result."""
    task = asyncio.ensure_future(coro)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


@pytest.fixture(scope="session")
def _session_loop(qapp):
    """One qasync loop for the whole session, attached to pytest-qt's running QApplication.

    WORKAROUND: one loop per test does not work: `QEventLoop.stop()` calls `QApplication.exit()`, after
    which a new loop's callbacks never run. So the loop lives as long as the QApplication, and it is
    marked as asyncio's running loop only during the tests that use it (`qloop`), so that other tests'
    `asyncio.run()` still work.
    """
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(None)  # private: the constructor marked it running for everyone
    yield loop
    loop.stop()
    loop.close()


@pytest.fixture
def qloop(_session_loop, qapp):
    """The running loop for this test; tasks it leaves behind are cancelled at its end."""
    asyncio.events._set_running_loop(_session_loop)  # private API, as qasync's already_running does
    asyncio.set_event_loop(_session_loop)
    before = asyncio.all_tasks(_session_loop)
    try:
        yield _session_loop
    finally:
        for task in asyncio.all_tasks(_session_loop) - before:
            task.cancel()
        for _ in range(5):
            qapp.processEvents()
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


@pytest.fixture(scope="session")
def small_workspace():
    """120 conversations over the last 14 days (a week's scan reads about half of them)."""
    from desktop.sim.workspace import generate_workspace

    return generate_workspace(seed=7, conversations=120, days=14)


def fast_sim_config():
    """Real rate limiting, with Front's window scaled to 3 s so a demo scan takes seconds."""
    from desktop.sim import SimConfig

    config = SimConfig.for_tests()
    config.front.rate_limit_per_minute = 200
    config.front.window_seconds = 3.0
    return config


def moving_sim_config(ship24_clock_offset: float = 0.0):
    """`fast_sim_config` whose Ship24 trackers move fast (an hour a step, 10 hours a second), a quarter of
    them into an exception and a fifth stalling in transit; Ship24's clock `ship24_clock_offset` seconds off."""
    config = fast_sim_config()
    movement = config.ship24.movement
    movement.enabled, movement.time_scale = True, 36_000.0
    movement.exception_rate, movement.stall_in_transit_rate = 0.25, 0.2
    config.ship24.timeline_step_seconds = 3600.0
    config.ship24.clock_offset_seconds = ship24_clock_offset
    return config


@pytest.fixture
def services(qloop, qtbot, tmp_path: Path, small_workspace):
    """`open_services` in demo mode: in-process simulators, a demo database in tmp_path."""
    from desktop.services import open_services

    manager = open_services(demo=True, db=tmp_path / "demo.sqlite3", sim_config=fast_sim_config(),
                            workspace=small_workspace)
    svc = run(qtbot, manager.__aenter__())
    yield svc
    run(qtbot, manager.__aexit__(None, None, None))


@pytest.fixture
def window(services, qtbot):
    """The real main window, composed exactly as `desktop.app` does, with the worker running."""
    from desktop.app import compose

    messages = Messages()
    bridge, win = compose(services, messages)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()  # keyboard shortcuts only reach the active window
    qtbot.waitUntil(win.isActiveWindow, timeout=3000)
    win.start()
    bridge.start_worker()
    yield win
    run(qtbot, bridge.aclose())
