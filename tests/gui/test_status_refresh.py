"""Issue 11 item 6: Refresh tracking status (F5) against the Ship24 simulator.

A busy state while it runs, a second F5 refused (one request per tracker, not two), the failures in the
final message (not overwritten by "N checked"), and a refused key stopping at the first 401.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.clients.ship24 import Ship24Client
from desktop.core.status import StatusRefresher
from desktop.store.tables import database
from tests.gui.conftest import run
from tests.gui.seed import seed_shipments

TRACKERS = 12


def _registered_with_unknown_trackers(window, qtbot) -> None:
    """Registered shipments whose trackers Ship24 does not know: every read is a 404. Written once the
    schedule's first refresh (at start, on the store thread) is over, so that it does not read them."""
    qtbot.waitUntil(lambda: not window.bridge.refreshing, timeout=5000)
    seed_shipments(TRACKERS)
    database.execute_sql("UPDATE shipment SET review_state = 'auto'")
    database.execute_sql("UPDATE registration SET state = 'registered', kind = NULL, last_error = NULL, "
                         "tracker_id = 'trk_gone_' || shipment_id, registered_at = 1")


def _result_reads(services) -> int:
    return sum(n for route, n in services.sims.ship24.log.requests_by_route.items() if route.endswith("/results"))


def _press_f5(window, qtbot) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F5)


def test_f5_is_busy_once_and_ends_with_its_failures(window, services, qtbot):
    _registered_with_unknown_trackers(window, qtbot)
    bridge, messages = window.bridge, window.bridge.messages
    busy: list[bool] = []
    bridge.status_refresh_busy.connect(busy.append)
    reads = _result_reads(services)
    _press_f5(window, qtbot)
    qtbot.waitUntil(lambda: busy == [True], timeout=5000)
    assert bridge.refreshing
    _press_f5(window, qtbot)                         # pressed again while it runs: refused, said so
    qtbot.waitUntil(lambda: any("already" in m.text for m in messages.history[-3:]), timeout=5000)
    qtbot.waitUntil(lambda: busy == [True, False], timeout=20_000)
    assert not bridge.refreshing
    assert _result_reads(services) - reads == TRACKERS   # once per tracker, not twice
    last = messages.history[-1]
    assert last.level == "warning" and f"{TRACKERS} could not be refreshed" in last.text, last


def test_a_refused_key_stops_at_the_first_401_with_one_message(window, services, qtbot):
    _registered_with_unknown_trackers(window, qtbot)
    bridge, messages = window.bridge, window.bridge.messages
    client = Ship24Client(services.sims.ship24_url, "apik_wrong_key")
    bridge.refresher = StatusRefresher(client, bridge.sink)
    refused = services.sims.ship24.log.status_counts[401]
    shown = len(messages.history)
    busy: list[bool] = []
    bridge.status_refresh_busy.connect(busy.append)
    try:
        _press_f5(window, qtbot)
        qtbot.waitUntil(lambda: busy == [True, False], timeout=20_000)
    finally:
        run(qtbot, client.aclose())
    assert services.sims.ship24.log.status_counts[401] - refused == 1
    problems = [m for m in messages.history[shown:] if m.level != "info"]
    assert len(problems) == 1 and problems[0].level == "error", problems
