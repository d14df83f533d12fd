"""The shipments view's search and its joins, on SQLite and PostgreSQL: what the SQL finds equals what a
plain Python filter over the same rows finds (every term in one of the shipment's own text columns or its
conversation's subject or customer, case-insensitive), and pruning the joins a query does not read keeps
its rows and order."""

from __future__ import annotations

import pytest

from desktop.store import views
from desktop.store.tables import database
from tests.gui.seed import seed_shipments

SEARCHES = ["acme", "ACME", "po-1", "Smith", "order 7", '"Order 7"', "smith acme", "ups", "zz-no-such",
            # LIKE's wildcards and escape character are literal in a search
            "100%", "10_", "0%", "h\\s", "ash_c", "_"]


def _rows() -> list[dict]:
    cursor = database.execute_sql(
        "SELECT s.id, s.tracking_number, s.order_number, s.supplier, s.carrier, c.subject, c.customer "
        "FROM shipment s JOIN conversation c ON c.id = s.conversation_id ORDER BY s.id")
    keys = ("id", "tracking_number", "order_number", "supplier", "carrier", "subject", "customer")
    return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]


def _expected(rows: list[dict], text: str) -> set[int]:
    terms = [t.lower() for t in views.search_terms(text)]
    def matches(row: dict, term: str) -> bool:
        return any(term in (row[key] or "").lower() for key in row if key != "id")
    return {row["id"] for row in rows if all(matches(row, term) for term in terms)}


@pytest.fixture
def seeded(db):
    seed_shipments(300)
    # Customers on some conversations, so a search can match only through the conversation.
    database.execute_sql("UPDATE conversation SET customer = 'Ann Smith' WHERE id IN "
                         "(SELECT conversation_id FROM shipment WHERE id % 7 = 0)")
    database.execute_sql("UPDATE conversation SET subject = 'Re: order 7 delayed' WHERE id IN "
                         "(SELECT conversation_id FROM shipment WHERE id % 11 = 0)")
    # Wildcards and backslashes in the data, so a search for them can go wrong by matching too much.
    database.execute_sql("UPDATE shipment SET supplier = 'Acme 100% Ltd' WHERE id % 13 = 0")
    database.execute_sql("UPDATE shipment SET supplier = 'Bash\\slash_co' WHERE id % 17 = 0")
    return _rows()


@pytest.mark.parametrize("text", SEARCHES)
def test_the_search_finds_what_a_plain_filter_finds(seeded, text):
    expected = _expected(seeded, text)
    assert set(views.shipment_ids(views.ShipmentFilter(text=text))) == expected
    assert views.count_shipments(views.ShipmentFilter(text=text)) == len(expected)


def test_a_customer_is_found_only_through_the_conversation(seeded):
    found = set(views.shipment_ids(views.ShipmentFilter(text="ann smith")))
    own = {row["id"]: " ".join(str(row[k] or "") for k in ("tracking_number", "order_number", "supplier",
                                                             "carrier")) for row in seeded}
    assert {i for i in found if i % 7 == 0} == {i for i in own if i % 7 == 0}
    assert not any("smith" in own[i].lower() for i in found)


@pytest.mark.parametrize("column", ["found", "subject", "customer", "registration", "number"])
def test_pruned_joins_keep_rows_and_order(seeded, column):
    sort = views.ShipmentSort(column=column, descending=True)
    where, params = views._where(views.ShipmentFilter())
    order = views._order(sort)
    full = [r[0] for r in database.execute_sql(f"SELECT s.id {views._FROM}{where}{order}", params).fetchall()]
    assert views.shipment_ids(views.ShipmentFilter(), sort) == full
    assert len(full) == 300
