"""Issue 11 item 7: a cancelled scan and its resumed run are two honest rows in the History tab.

The cancelled part keeps its outcome, its own new shipments and its own duration; the resumed part counts
only its own, and the hour between the cancellation and the resume is in neither duration.
"""

from __future__ import annotations

from desktop.core.pipeline import ScanParams
from desktop.store.tables import ScanRunRow, ShipmentRow, database

HOUR = 3600.0


def _params(services) -> ScanParams:
    """About half the small workspace, in batches of 5 one at a time: long enough to cancel mid-way."""
    conversations = [c for c in services.workspace.conversations if c.messages]
    times = sorted(max(m.created_at for m in c.messages) for c in conversations)
    return ScanParams(times[len(times) // 2] - 1, times[-1] + 2, batch_size=5, concurrent_batches=1,
                      extractor="rules")


def _history(window) -> list[dict]:
    window.tabs.setCurrentWidget(window.history)
    window.history.refresh()
    assert window.history.wait()   # read on the database worker
    model = window.history.model
    columns = [key for key, _title in type(model).columns]
    return [{key: model.index(row, col).data() for col, key in enumerate(columns)} | {"view": model.run(row)}
            for row in range(model.rowCount())]


def test_a_cancelled_then_resumed_scan_shows_both_parts_honestly(window, services, qtbot):
    bridge, params = window.bridge, _params(services)
    with qtbot.waitSignal(bridge.run_finished, timeout=60_000) as cancelled:
        bridge.start_scan(params)
        qtbot.waitUntil(lambda: ShipmentRow.select().count() > 0, timeout=30_000)
        bridge.cancel_scan()
    assert cancelled.args[0].state.value == "cancelled"
    found_before_cancel = ShipmentRow.select().count()
    # As if the cancellation had happened an hour ago: the idle hour must not count as scanning time.
    database.execute_sql("UPDATE scan_run SET started_at = started_at - ?, finished_at = finished_at - ?",
                         [HOUR, HOUR])
    qtbot.waitUntil(lambda: bridge.state == "idle", timeout=5000)

    with qtbot.waitSignal(bridge.run_finished, timeout=60_000) as resumed:
        bridge.start_scan(params)
    assert resumed.args[0].state.value == "completed" and resumed.args[0].summary["resumed"]
    assert ScanRunRow.select().count() == 1   # one run, resumed (its conversations stay its own)

    rows = _history(window)
    assert [r["state"] for r in rows] == ["completed (resumed)", "cancelled, resumed later"]
    newest, oldest = (r["view"] for r in rows)
    assert oldest.counts["shipments_new"] == found_before_cancel
    assert newest.counts["shipments_new"] + oldest.counts["shipments_new"] == ShipmentRow.select().count()
    assert newest.seconds is not None and newest.seconds < HOUR
    assert oldest.seconds is not None and oldest.seconds < HOUR
    assert rows[0]["shipments"].endswith(f"({newest.counts['shipments_new']})")


def test_conversations_left_to_another_scan_are_named():
    """Issue 16's team scans: a run that skipped conversations another desktop's scan held says so, so its
    counts add up (listed = scanned + unchanged + failed + left to the other scan)."""
    from desktop.gui.models.history import RunHistoryModel
    from desktop.store.history_views import RunView

    counts = {"conversations_listed": 60, "conversations_scanned": 58, "conversations_unchanged": 0,
              "conversations_failed": 0, "claimed_elsewhere": 2}
    run = RunView(1, 0.0, 10.0, 0.0, 86400.0, (), 50, 3, "llm", False, "completed", counts, None)
    assert RunHistoryModel._display(run, "counts") == "60 / 58 / 0 / 0 · 2 left to another scan"
    alone = RunView(2, 0.0, 10.0, 0.0, 86400.0, (), 50, 3, "llm", False, "completed",
                    {**counts, "claimed_elsewhere": 0, "conversations_scanned": 60}, None)
    assert RunHistoryModel._display(alone, "counts") == "60 / 60 / 0 / 0"
