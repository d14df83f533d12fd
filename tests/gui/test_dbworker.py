"""Issue 16: the window never blocks on the database. The shipments table, its status counts, the carrier
list and the details pane read on the database worker thread; the GUI thread only applies the answers.

On both databases (`db_both`): SQLite, and a PostgreSQL server when there is one (tests/helpers/pg.py).
The last test puts the server behind a proxy that holds every byte (tests/helpers/delay_proxy.py).
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, QTimer

from desktop.gui import dbworker
from desktop.gui.messages import Messages
from desktop.gui.models.shipments import ShipmentTableModel
from desktop.gui.shipmentsview import ShipmentsView
from desktop.store import views
from desktop.store.tables import database
from tests.gui.seed import seed_shipments


class _Bridge:
    """What the view needs of the bridge here: where errors are shown."""

    def __init__(self) -> None:
        self.messages = Messages()


def _view(qtbot, count: int = 300) -> ShipmentsView:
    seed_shipments(count)
    view = ShipmentsView(_Bridge())
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    view.reload()
    assert view.wait()
    return view


def test_showing_filtering_and_refreshing_never_query_on_the_gui_thread(db_both, qtbot, queries):
    view = _view(qtbot)
    view.select_ids([5], current=5)                        # a current row: its details follow every refresh
    view.wait()
    queries.seen.clear()
    view.text_filter.setText("acme")
    view.apply_filter()                                     # ids, first page
    qtbot.waitUntil(lambda: not view.model.loading(), timeout=5000)
    view.table.scrollToBottom()                             # a page not loaded yet
    view.tracking_bar.set_group("in_transit")               # another filter
    view.reload()                                           # what a scan does every refresh: carriers, details
    assert view.wait()
    assert queries.seen, "the worker ran the reads"
    assert queries.on_this_thread() == []
    assert view.model.ids() == views.shipment_ids(view.model.filter, view.model.sort_order)


def test_only_the_last_of_quick_filter_changes_is_applied(db_both, qtbot):
    seed_shipments(200)
    model = ShipmentTableModel()
    model.reload()
    model.wait()
    applied: list[int] = []
    model.reloaded.connect(applied.append)
    filters = [views.ShipmentFilter(text=t) for t in ("a", "ac", "acm", "acme")] + [
        views.ShipmentFilter(text="acme", carrier="UPS")]
    for flt in filters:                                     # typed quickly: each supersedes the one before
        model.set_filter(flt)
    assert model.loading() and model.rowCount() == 200      # the old rows stay until the new ones arrive
    assert model.wait()
    expected = views.shipment_ids(filters[-1])
    assert 0 < len(expected) < 200
    assert applied == [len(expected)] and model.ids() == expected


def test_new_rows_arrive_with_their_first_page_so_nothing_blinks(db_both, qtbot):
    seed_shipments(300)
    model = ShipmentTableModel()
    shown_at_reset: list[object] = []
    model.modelReset.connect(lambda: shown_at_reset.append(model.index(0, 0).data()))
    model.reload()
    model.wait()
    model.set_filter(views.ShipmentFilter(text="globex"))
    model.wait()
    first = [views.shipment_rows([ids[0]])[ids[0]].number for ids in
             (views.shipment_ids(), views.shipment_ids(views.ShipmentFilter(text="globex")))]
    assert shown_at_reset == first                          # never "…" in the rows a reset shows


def test_a_failed_read_shows_as_an_error_and_keeps_the_rows(db_both, qtbot):
    view = _view(qtbot, 50)
    database.execute_sql("ALTER TABLE registration RENAME TO registration_gone")   # every read now fails
    view.text_filter.setText("acme")
    view.apply_filter()
    assert view.wait()
    assert view.model.rowCount() == 50                      # not an empty table
    assert "could not load the shipments" in (view.model.error() or "")
    assert "could not load the shipments" in view.count_label.text()
    errors = [m for m in view.bridge.messages.history if m.level == "error"]
    assert len(errors) == 1 and "could not load the shipments" in (errors[0].details or errors[0].text)
    view.reload()                                           # the next refresh fails the same way: no second banner
    view.wait()
    assert len([m for m in view.bridge.messages.history if m.level == "error"]) == 1

    database.execute_sql("ALTER TABLE registration_gone RENAME TO registration")
    view.reload()
    assert view.wait()
    assert view.model.error() is None and view.count_label.text() == f"{view.model.rowCount()} shipments"
    assert view.model.ids() == views.shipment_ids(views.ShipmentFilter(text="acme"))


# --- the worker itself ------------------------------------------------------------------------------------


def test_a_queued_job_is_superseded_by_a_newer_one_with_its_key(qtapp_worker):
    worker, gate = qtapp_worker
    results: list[str] = []
    worker.submit(gate.wait, on_result=lambda _r: results.append("gate"))   # holds the worker
    for name in ("first", "second", "third"):
        worker.submit(str.upper, name, on_result=results.append, key="same")
    other = worker.submit(str.upper, "other", on_result=results.append, key="another")
    gate.set()
    assert worker.wait(other)
    assert results == ["gate", "THIRD", "OTHER"]            # in order; the superseded two never ran


def test_errors_go_to_on_error_and_a_deleted_owner_gets_nothing(qtapp_worker):
    worker, gate = qtapp_worker
    gate.set()
    errors: list[BaseException] = []
    failing = worker.submit(int, "not a number", on_result=lambda _r: None, on_error=errors.append)
    assert worker.wait(failing)
    assert len(errors) == 1 and isinstance(errors[0], ValueError)

    owner, called = QObject(), []
    job = worker.submit(str.upper, "x", on_result=called.append, owner=owner)
    import shiboken6
    shiboken6.delete(owner)                                 # the model went away before its answer
    assert worker.wait(job) and called == []


@pytest.fixture
def qtapp_worker(qapp):
    worker, gate = dbworker.DbWorker(name="test-db"), threading.Event()
    yield worker, gate
    gate.set()
    worker.stop()


# --- a far server: the window keeps running -------------------------------------------------------------


@pytest.fixture
def held_server(qtbot):
    """A fresh PostgreSQL database reached through a DelayProxy (no delay until the test holds it)."""
    from desktop.store.db import close_database, open_database
    from tests.helpers import pg
    from tests.helpers.delay_proxy import DelayProxy

    url = pg.fresh_database_url()
    proxy = DelayProxy.for_url(url, delay=0.0)
    db = open_database(proxy.url)
    yield proxy
    proxy.release()
    close_database(db)
    proxy.close()
    pg.drop_database(url)


def test_the_window_keeps_running_while_the_server_does_not_answer(held_server, qtbot):
    proxy = held_server
    view = _view(qtbot, 300)
    ticks: list[int] = []
    heartbeat = QTimer(interval=10)
    heartbeat.timeout.connect(lambda: ticks.append(1))
    heartbeat.start()
    proxy.hold(release_after=20)            # the server "far away": nothing comes back until release()
    view.text_filter.setText("globex")
    view.apply_filter()                     # the old code waited here for the answer (until the release)
    view.reload()                           # and here, as the scan's refreshes do
    assert proxy.held, "the GUI thread waited for the database"
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=5000)   # timers (and painting) go on meanwhile
    assert proxy.held and view.model.loading() and view.model.rowCount() == 300
    proxy.release()
    qtbot.waitUntil(lambda: not view.model.loading(), timeout=10_000)
    heartbeat.stop()
    assert view.model.ids() == views.shipment_ids(views.ShipmentFilter(text="globex"))
