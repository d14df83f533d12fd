"""Issue 15 item 7 in the real window against the simulators: desktop notifications of new exceptions and
of shipments not updated for N days, each shipment once (across a restart too), and the tray's counts;
item 1's schedule: a refused key stops the scheduled status refresh until a refresh by hand works.

The Ship24 simulator's trackers move (exceptions, failed attempts, stalls), on a clock 8 days behind this
machine's, so every journey's last checkpoint is 8 days old: what is not delivered is "not updated for 5
days", as a stalled parcel is.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from desktop.clients.ship24 import Ship24Client
from desktop.core.status import StatusRefresher
from desktop.gui.messages import Messages
from desktop.store import glance, outbox
from desktop.store.tables import RegistrationRow, ShipmentRow
from tests.gui.conftest import moving_sim_config, run
from tests.gui.test_shipments_glance import _scan_week

DAYS_BEHIND = 8


@pytest.fixture
def old_journeys(qloop, qtbot, tmp_path: Path, small_workspace):
    """(compose, services): demo services whose Ship24 trackers move fast on a clock 8 days behind."""
    from desktop.app import compose
    from desktop.services import open_services

    config = moving_sim_config(ship24_clock_offset=-DAYS_BEHIND * 86400.0)
    manager = open_services(demo=True, db=tmp_path / "demo.sqlite3", sim_config=config, workspace=small_workspace)
    services = run(qtbot, manager.__aenter__())
    opened = []

    def open_window(state: QSettings):
        bridge, win = compose(services, Messages())
        win.ui_state = state
        qtbot.addWidget(win)
        win.show()
        win.start()
        bridge.start_worker()
        opened.append(bridge)
        return win

    yield open_window, services
    for bridge in opened:
        run(qtbot, bridge.aclose())
    run(qtbot, manager.__aexit__(None, None, None))


def _register_and_refresh(window, qtbot, ids: list[int]) -> None:
    """Approve `ids`, wait until the worker is done with them (some need a postcode: they wait), refresh."""
    bridge = window.bridge
    bridge.approve(ids)
    qtbot.waitUntil(lambda: RegistrationRow.select().where(RegistrationRow.shipment.in_(ids), RegistrationRow.state.in_(
        (outbox.QUEUED, outbox.WAITING_APPROVAL))).count() == 0, timeout=30_000)
    time.sleep(0.8)                                  # every journey's last event (5 steps of 0.1 s) is out
    with qtbot.waitSignal(bridge.status_refresh_busy, timeout=30_000, check_params_cb=lambda busy: not busy):
        bridge.refresh_status()
    assert window.notices.wait()                    # the groups are read on the database worker


def _groups(days: int = 5) -> tuple[set[int], set[int]]:
    """(exceptions, not updated for `days` days), counted here in Python from the stored rows."""
    cutoff = glance.stale_cutoff(days)
    exceptions, stale = set(), set()
    for s in ShipmentRow.select():
        registered = RegistrationRow.get(RegistrationRow.shipment == s.id).state == outbox.REGISTERED
        if s.milestone in ("exception", "failed_attempt"):
            exceptions.add(s.id)
        if registered and s.milestone != "delivered" and s.latest_event_at and s.latest_event_at < cutoff:
            stale.add(s.id)
    return exceptions, stale


def _told(window, start: int, word: str) -> list[str]:
    return [text for text in window.notifications[start:] if word in text]


def test_exceptions_and_stale_shipments_are_notified_once_each_and_counted_in_the_tray(
        old_journeys, qtbot, tmp_path):
    open_window, services = old_journeys
    state = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = open_window(state)
    window.bridge.apply_settings(replace(services.settings, approve_all_by_hand=True))
    _scan_week(window, qtbot)
    ids = [s.id for s in ShipmentRow.select().order_by(ShipmentRow.id)]
    assert len(ids) >= 10
    first_half, second_half = ids[: len(ids) // 2], ids[len(ids) // 2:]

    _register_and_refresh(window, qtbot, first_half)
    exceptions, stale = _groups()
    assert exceptions and stale, (exceptions, stale)            # the simulator's journeys made both
    told_exc, told_stale = _told(window, 0, "exception"), _told(window, 0, "not updated")
    assert len(told_exc) == 1 and told_exc[0].startswith(f"{len(exceptions)} new exception")
    assert len(told_stale) == 1 and told_stale[0].startswith(f"{len(stale)} shipment")
    named = [i for i in exceptions if ShipmentRow.get_by_id(i).tracking_number in told_exc[0]]
    assert len(named) == min(3, len(exceptions))                # named (three of them), not only counted
    tray = window.tray
    assert tray.icon.toolTip() == (f"Shipscan: {len(exceptions)} exception{'s' * (len(exceptions) != 1)}, "
                                   f"{len(stale)} not updated for 5 days")
    assert f"({len(exceptions)})" in tray.exceptions_action.text()
    assert f"({len(stale)})" in tray.stale_action.text()

    # Refreshed again: nothing new, nothing told again.
    told = len(window.notifications)
    with qtbot.waitSignal(window.bridge.status_refresh_busy, timeout=30_000, check_params_cb=lambda b: not b):
        window.bridge.refresh_status()
    assert window.notices.wait()
    assert len(window.notifications) == told

    # The rest registered: only the new ones are told.
    _register_and_refresh(window, qtbot, second_half)
    exceptions2, stale2 = _groups()
    new_exc, new_stale = _told(window, told, "exception"), _told(window, told, "not updated")
    if exceptions2 - exceptions:
        assert len(new_exc) == 1 and new_exc[0].startswith(f"{len(exceptions2 - exceptions)} new exception")
    else:
        assert not new_exc
    if stale2 - stale:
        assert len(new_stale) == 1 and new_stale[0].startswith(f"{len(stale2 - stale)} shipment")
    else:
        assert not new_stale

    # The tray's menu opens the shipments on that group.
    tray.exceptions_action.trigger()
    assert window.tabs.currentWidget() is window.shipments
    assert window.shipments.tracking_bar.group() == "exception"
    qtbot.waitUntil(lambda: window.shipments.model.rowCount() == len(exceptions2), timeout=5000)

    # A restart tells nothing again.
    window.close()
    second = open_window(QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat))
    assert second.notices.wait()
    assert second.notices.counts == {"exception": len(exceptions2), "stale": len(stale2)}
    assert second.notifications == []


def test_a_refused_key_stops_the_status_schedule_until_a_refresh_by_hand_works(old_journeys, qtbot, tmp_path):
    open_window, services = old_journeys
    window = open_window(QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat))
    _scan_week(window, qtbot)
    bridge = window.bridge
    qtbot.waitUntil(lambda: RegistrationRow.select().where(RegistrationRow.state == outbox.REGISTERED).count() > 0,
                    timeout=30_000)
    good = bridge.refresher
    wrong = Ship24Client(services.sims.ship24_url, "apik_wrong_key")
    bridge.refresher = StatusRefresher(wrong, bridge.sink)
    log = services.sims.ship24.log
    refused = log.status_counts[401]
    try:
        # A schedule of one round a second (the interval is in minutes: 1/60).
        bridge.status.restart(1 / 60)
        qtbot.waitUntil(lambda: bridge.status.stopped is not None, timeout=10_000)
        qtbot.wait(2500)                                        # two more rounds would have gone by
        assert log.status_counts[401] - refused == 1            # one request, then the schedule stopped
        assert bridge.status.task.done()
        said = [m for m in bridge.messages.history if m.level == "error"][-1].text
        assert "automatic refresh is off until a refresh by hand" in said and "Ship24 refused the API key" in said
        bridge.refresher = good                                 # the key fixed: F5 works and restarts it
        with qtbot.waitSignal(bridge.status_refresh_busy, timeout=30_000, check_params_cb=lambda b: not b):
            bridge.refresh_status()
        qtbot.waitUntil(lambda: bridge.status.task is not None and not bridge.status.task.done(), timeout=5000)
        assert bridge.status.stopped is None
    finally:
        run(qtbot, wrong.aclose())


def test_the_status_schedule_can_be_switched_off(window, services, qtbot):
    bridge = window.bridge
    assert bridge.status.task is not None and not bridge.status.task.done()
    bridge.apply_settings(replace(services.settings, status_refresh_auto=False))
    assert bridge.status.task is None
    bridge.apply_settings(replace(services.settings, status_refresh_auto=True, status_refresh_minutes=30))
    assert bridge.status.task is not None and not bridge.status.task.done()
