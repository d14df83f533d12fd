"""Each item model passes Qt's model tester and shows exactly what the store holds."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from desktop.core import events as ev
from desktop.gui.models.batches import BatchTableModel
from desktop.gui.models.history import RunHistoryModel
from desktop.gui.models.retries import RetryQueueModel
from desktop.gui.models.shipments import COLUMNS, IdRole, ShipmentTableModel
from desktop.store import views
from desktop.store.tables import ConversationRow, ScanRunRow, ShipmentRow, database
from tests.gui.seed import seed_shipments


def test_shipment_model_passes_the_model_tester(db, qtmodeltester):
    seed_shipments(1_000)
    model = ShipmentTableModel()
    model.reload()
    assert model.wait() and model.rowCount() == 1_000
    qtmodeltester.check(model)
    model.sort(0, Qt.SortOrder.AscendingOrder)
    model.set_filter(views.ShipmentFilter(text="acme"))
    assert model.wait() and 0 < model.rowCount() < 1_000
    qtmodeltester.check(model)


def test_shipment_model_rows_match_the_database(db):
    seed_shipments(450)  # more than two pages
    model = ShipmentTableModel()
    model.reload()
    assert model.wait()
    assert model.rowCount() == 450 and model.columnCount() == len(COLUMNS)
    expected = {s.id: s.tracking_number for s in ShipmentRow.select()}
    for page in range(0, 450, model.PAGE_SIZE):
        model.row(page)  # pages beyond the first are read when first shown: wait for them here
    shown = {model.index(r, 0).data(IdRole): model.index(r, 0).data() for r in range(model.rowCount())}
    assert shown == expected
    # Default order: newest first.
    found = [model.row(r).found for r in range(model.rowCount())]
    assert found == sorted(found, reverse=True)


def test_sorting_and_filtering_happen_in_sql(db):
    seed_shipments(200)
    model = ShipmentTableModel()
    model.sort([k for k, _ in COLUMNS].index("number"), Qt.SortOrder.AscendingOrder)
    model.wait()
    numbers = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert numbers == sorted(numbers)
    model.set_filter(views.ShipmentFilter(review="pending", carrier="UPS"))
    model.wait()
    rows = [model.row(r) for r in range(model.rowCount())]
    assert rows and all(r.review == "pending" and r.carrier == "UPS" for r in rows)
    assert model.rowCount() == views.count_shipments(views.ShipmentFilter(review="pending", carrier="UPS"))
    model.set_filter(views.ShipmentFilter(text="100%_"))  # LIKE wildcards are literal
    model.wait()
    assert model.rowCount() == 0


def test_refresh_keeps_rows_and_sees_changes(db):
    seed_shipments(10)
    model = ShipmentTableModel()
    model.reload()
    model.wait()
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    ShipmentRow.update(supplier="Initech").where(ShipmentRow.id == 3).execute()
    model.refresh()
    model.wait()
    assert not resets  # same rows: repaint, no reset
    assert model.row(model.row_of(3)).supplier == "Initech"


def test_retry_model(db, qtmodeltester):
    seed_shipments(50)
    model = RetryQueueModel()
    model.refresh()
    assert model.wait()            # read on the database worker
    qtmodeltester.check(model)
    states = {item.state for item in model.items()}
    assert states <= set(views.RETRY_STATES) and model.rowCount() == len(views.retry_queue())
    ids = [item.registration_id for item in model.items()]
    assert ids == sorted(ids)  # a stable order: oldest first (the view sorts on request)


def test_history_model(db, qtmodeltester):
    now = time.time()
    ScanRunRow.create(since=now - 86400, until=now, batch_size=50, concurrent_batches=3, extractor="llm",
                      state="completed", finished_at=now + 65, started_at=now,
                      counts='{"conversations_listed": 12, "conversations_scanned": 10, "conversations_unchanged": 2, '
                             '"conversations_failed": 0, "shipments_found": 4, "shipments_new": 3}')
    model = RunHistoryModel()
    model.refresh()
    assert model.wait()
    qtmodeltester.check(model)
    assert model.rowCount() == 1
    assert model.index(0, 5).data() == "completed"
    assert model.index(0, 6).data() == "12 / 10 / 2 / 0"
    assert model.index(0, 7).data() == "4 (3)"
    assert model.index(0, 8).data() == "1 min 05 s"


def test_batch_model_follows_events(qtmodeltester):
    model = BatchTableModel()
    qtmodeltester.check(model)
    model.on_batch_started(ev.BatchStarted(1, 3))
    model.on_conversation_finished(ev.ConversationFinished("cnv_1", 1, "ok", 2))
    model.on_conversation_finished(ev.ConversationFinished("cnv_2", 1, "failed", 0, "boom"))
    assert model.index(0, 2).data() == "2 of 3" and model.index(0, 4).data() == "1"
    model.on_batch_finished(ev.BatchFinished(1, 3, 3, 2, 1, 0, 4.25))
    assert [model.index(0, c).data() for c in range(6)] == ["1", "done", "3 of 3", "2", "1", "4.2"]
    qtmodeltester.check(model)


def test_progress_view_shows_waits_and_counts(qtbot):
    from desktop.gui.progress import ProgressView

    view = ProgressView()
    qtbot.addWidget(view)
    view.on_run_started(ev.RunStarted(1, 0, 1, (), 50, 3, "llm"))
    view.on_wait(ev.RateLimitWait("front", 12.2, ""))
    assert view.wait.text() == "Front budget: resuming in 12 s"
    view.on_listing(ev.ListingProgress(listed=100, total=400, complete=False))
    view.on_progress(ev.Progress(listed=400, done=100, scanned=90, unchanged=8, failed=2, shipments=30,
                                 listing_complete=True, elapsed=50.0, eta_seconds=150.0))
    text = view.counts.text()
    assert "100 of 400 conversations" in text and "2 failed" in text and "2.0/s" in text
    assert "about 2 min 30 s left" in text                # the pipeline's ETA (desktop.core.eta)
    assert (view.bar.value(), view.bar.maximum()) == (100, 400)
    view.batches.on_batch_started(ev.BatchStarted(1, 50))
    view.batches.on_batch_started(ev.BatchStarted(2, 50))    # no barrier: batch 1 finishes its last ones
    view.on_progress(ev.Progress(400, 101, 91, 8, 2, 30, True, 51.0))
    assert [row.state for row in view.batches.rows()] == ["finishing", "running"]
    assert "2 batches open" in view.counts.text() and "left" not in view.counts.text()
    view.on_progress(ev.Progress(400, 102, 91, 8, 2, 30, True, 52.0, elsewhere=1))   # issue 16's team scans
    assert "2 failed · 1 left to another scan · 30 shipments" in view.counts.text()
    view.on_run_finished(ev.RunFinished(1, ev.RunState.COMPLETED, {}))
    assert view.wait.text() == "" and view.counts.text().startswith("Scan completed.")


def test_search_finds_numbers_typed_with_spaces_and_takes_several_terms(db, qtbot):
    """Issue 11 item 10: typed into the real search box of the shipments view, through the debounce."""
    from desktop.gui.shipmentsview import ShipmentsView

    seed_shipments(40)
    database.execute_sql("UPDATE shipment SET tracking_number = '1Z535J540312345678' WHERE id = 7")
    view = ShipmentsView(bridge=None)
    qtbot.addWidget(view)
    view.reload()
    view.wait()

    def search(text: str) -> list[int]:
        view.text_filter.clear()
        with qtbot.waitSignal(view.model.reloaded, timeout=3000):
            qtbot.keyClicks(view.text_filter, text)
        return sorted(view.model.ids())

    assert search("1Z 535J 5403") == [7]
    assert search("1z-535j-5403-1234") == [7]
    # Several terms: every one must match some column (here the supplier and the subject).
    subjects = {c.id: c.subject for c in ConversationRow.select()}
    rows = list(ShipmentRow.select())
    expected = sorted(s.id for s in rows if s.supplier == "Globex" and "1003" in subjects[s.conversation_id])
    assert expected and search("globex 1003") == expected
    assert search("globex 1003 nosuchword") == []
    assert search('"Acme Supplies"') == sorted(s.id for s in rows if s.supplier == "Acme Supplies")
    assert search('"Supplies Acme"') == []                 # a quoted phrase is kept whole
    assert view.count_label.text() == "0 shipments"
    search("1Z 535J 5403")
    assert view.count_label.text() == "1 shipment"


def test_days_in_transit_only_for_what_ship24_tracks(db):
    """A shipment not registered with Ship24 is not "0 days in transit": its Days cell is empty."""
    from desktop.gui.models.shipments import display

    seed_shipments(40)
    rows = views.shipment_rows(views.shipment_ids()).values()
    tracked = [row for row in rows if row.registration == "registered"]
    untracked = [row for row in rows if row.registration != "registered"]
    assert tracked and untracked
    counted = [row for row in tracked if row.days is not None and row.days >= 0]
    assert counted and all(display(row, "days") == str(row.days) for row in counted)
    assert all(display(row, "days") == "" for row in untracked)
