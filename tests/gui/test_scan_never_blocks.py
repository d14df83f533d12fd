"""Issue 16, last "done when": with the database on a server that stops answering, a scan in the window never
blocks the window. The pipeline, the claims, the registration worker and the status refresh call the store
on its own thread (`desktop.core.storecalls`); the retry queue, held groups and history read on the GUI's
database worker. So while the server is held (tests/helpers/delay_proxy.py), Qt timers keep firing, and
during the whole scan no SQL statement runs on the GUI thread (peewee logs every statement with its thread).

Needs a PostgreSQL server (tests/helpers/pg.py: skipped without one, failed when SHIPSCAN_TEST_PG_REQUIRED=1).
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QTimer

from desktop.core import events as ev
from desktop.gui.messages import Messages
from desktop.store.tables import ConversationRow, RegistrationRow, ShipmentRow
from tests.gui.conftest import fast_sim_config, run


@pytest.fixture
def far_window(qloop, qtbot, small_workspace):
    """The real main window (composed as `desktop.app` does, worker running) on a fresh PostgreSQL database
    reached through a DelayProxy (a few ms away; the test holds it), with the demo's simulators."""
    from desktop.app import compose
    from desktop.services import open_services
    from tests.helpers import pg
    from tests.helpers.delay_proxy import DelayProxy

    url = pg.fresh_database_url()
    proxy = DelayProxy.for_url(url, delay=0.002)
    manager = open_services(demo=True, db=proxy.url, sim_config=fast_sim_config(), workspace=small_workspace)
    services = run(qtbot, manager.__aenter__())
    bridge, window = compose(services, Messages())
    window.show()   # not qtbot.addWidget: its teardown closes the window, which asks first while a scan runs
    window.start()
    bridge.start_worker()
    try:
        yield window, proxy
    finally:   # the app's own shutdown order (desktop.app): the scan and worker stop, then the window goes
        proxy.release()
        run(qtbot, bridge.aclose())
        window.hide()
        window.deleteLater()
        run(qtbot, manager.__aexit__(None, None, None))
        proxy.close()
        pg.drop_database(url)


def test_a_scan_never_waits_for_the_database_on_the_gui_thread(far_window, qtbot, queries):
    window, proxy = far_window
    bridge, panel = window.bridge, window.scan_panel
    panel.batch_size.setValue(5)
    panel.concurrent.setValue(2)
    panel.extractor.setCurrentIndex(panel.extractor.findData("rules"))
    panel.apply_preset("7d")
    qtbot.waitSignal(bridge.estimate_ready, timeout=10_000).wait()   # asked for by the range: not the scan's
    queries.recording = False                    # from the scan's start on, below
    queries.seen.clear()
    gui_thread = threading.get_ident()
    ticks: list[bool] = []                       # one per heartbeat: whether the server was held then
    heartbeat = QTimer(interval=10)
    heartbeat.timeout.connect(lambda: ticks.append(proxy.held))
    heartbeat.start()
    finished: list[ev.RunFinished] = []
    bridge.run_finished.connect(finished.append)
    queries.recording = True

    panel.start_button.click()
    qtbot.waitSignal(bridge.batch_finished, timeout=30_000).wait()
    # The tables a scan refreshes (the retry queue with its held groups, the history) are on screen too.
    window.tabs.setCurrentWidget(window.retries)
    qtbot.waitSignal(bridge.conversation_finished, timeout=10_000).wait()
    window.tabs.setCurrentWidget(window.history)
    queries.recording = False                    # the test's own read, on this thread
    committed = ConversationRow.select().count()
    queries.recording = True

    proxy.hold(release_after=20)                 # the server stops answering, mid-scan
    # The scan goes on meanwhile (Front and the extractor do not need the database): conversations
    # finish and want their commits. The old code waited for them on the GUI thread, so no timer fired
    # until the release.
    qtbot.waitUntil(lambda: sum(ticks) >= 20, timeout=10_000)
    assert proxy.held, "the GUI thread waited for the database"
    assert bridge.scanning and not finished
    proxy.release()

    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    queries.recording = False
    heartbeat.stop()
    assert finished[0].state == ev.RunState.COMPLETED
    on_gui = queries.on_thread(gui_thread)
    assert on_gui == [], f"{len(on_gui)} statements on the GUI thread during the scan: {on_gui[:5]}"
    assert len(queries.seen) > 100, "the scan's statements ran (on other threads)"

    # Nothing was lost to the hold: every listed conversation committed once, with its shipments queued.
    summary = finished[0].summary
    assert ConversationRow.select().count() > committed
    assert summary["conversations_failed"] == 0
    assert summary["conversations_scanned"] + summary["conversations_unchanged"] == summary["conversations_listed"]
    assert ShipmentRow.select().count() == summary["shipments_found"] > 0
    assert RegistrationRow.select().count() == ShipmentRow.select().count()
