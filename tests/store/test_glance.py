"""Issue 15: the status groups' SQL and their counts in one query (a real SQLite file and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.store import views
from desktop.store.db import close_database, open_database
from desktop.store.glance import GROUPS
from desktop.store.tables import database
from tests.gui.seed import seed_shipments
from tests.helpers.pg import assert_kind


@pytest.fixture
def db(db_target):
    handle = open_database(db_target)
    assert_kind(handle, db_target)
    yield handle
    close_database(handle)


def _ago(days: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")


def _status(shipment_id: int, milestone: str | None, event_days_ago: float | None, state: str = "registered") -> None:
    database.execute_sql("UPDATE shipment SET milestone = ?, latest_event = ?, latest_event_at = ?, "
                         "review_state = 'auto' WHERE id = ?",
                         [milestone, milestone and "Arrived (Leeds)", None if event_days_ago is None
                          else _ago(event_days_ago), shipment_id])
    database.execute_sql("UPDATE registration SET state = ?, registered_at = ? WHERE shipment_id = ?",
                         [state, dt.datetime.now(dt.UTC).timestamp() - 9 * 86400, shipment_id])


def test_groups_and_their_counts_agree(db):
    seed_shipments(40)   # registration states cycle: queued, registered, failed, waiting_approval, dismissed
    database.execute_sql("UPDATE registration SET state = 'queued' WHERE state = 'registered'")
    _status(1, "in_transit", 1)          # moving
    _status(2, "in_transit", 8)          # stalled for 8 days
    _status(3, "info_received", 0.5)
    _status(4, "out_for_delivery", 0.1)
    _status(5, "delivered", 20)          # delivered long ago: never "not updated"
    _status(6, "exception", 2)
    _status(7, "failed_attempt", 6)      # an exception AND not updated
    _status(8, None, None)               # registered 9 days ago, no checkpoint yet: not updated
    counts = views.tracking_counts(views.ShipmentFilter(stale_days=5))
    assert (counts["in_transit"], counts["out_for_delivery"], counts["delivered"], counts["exception"],
            counts["stale"]) == (4, 1, 1, 2, 3)
    assert counts["all"] == 40
    # Every group's count is what choosing it shows.
    for key, _label in GROUPS:
        shown = views.shipment_ids(views.ShipmentFilter(tracking=key, stale_days=5))
        assert len(shown) == counts[key], key
    assert set(views.shipment_ids(views.ShipmentFilter(tracking="stale", stale_days=5))) == {2, 7, 8}
    assert set(views.shipment_ids(views.ShipmentFilter(tracking="stale", stale_days=7))) == {2, 8}
    # Not registered: neither registered nor dismissed, nor rejected.
    unregistered = database.execute_sql(
        "SELECT COUNT(*) FROM shipment s JOIN registration r ON r.shipment_id = s.id "
        "WHERE r.state NOT IN ('registered', 'dismissed') AND s.review_state != 'rejected'").fetchone()[0]
    assert counts["not_registered"] == unregistered > 0
    # The other filters apply to the counts too.
    assert views.tracking_counts(views.ShipmentFilter(text="1Z0000000000000005"))["all"] == 1


def test_days_in_transit_and_customer_columns(db):
    seed_shipments(4)
    database.execute_sql("UPDATE conversation SET customer = 'Dana Diaz <dana@example.com>'")
    today = dt.datetime.now(dt.UTC).date()
    database.execute_sql("UPDATE shipment SET shipped_date = ? WHERE id = 1", [(today - dt.timedelta(days=4)).isoformat()])
    database.execute_sql("UPDATE shipment SET shipped_date = '2026-01-01', milestone = 'delivered', "
                         "latest_event_at = '2026-01-03T09:00:00' WHERE id = 2")
    rows = views.shipment_rows([1, 2])
    assert rows[1].days == 4 and rows[2].days == 2
    assert (rows[1].customer, rows[1].email) == ("Dana Diaz", "dana@example.com")
    assert views.shipment_ids(views.ShipmentFilter(text="dana@example")) == views.shipment_ids()
    ordered = views.shipment_ids(views.ShipmentFilter(), views.ShipmentSort("days", descending=False))
    everything = views.shipment_rows(ordered)
    assert [everything[i].days for i in ordered] == sorted(r.days for r in everything.values())
    assert ordered[0] == 2
