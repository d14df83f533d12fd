"""Opening the database: WAL, foreign keys, and migrations that run once."""

from __future__ import annotations

import pytest
from peewee import IntegrityError

from desktop.store import db as store_db
from desktop.store.tables import ConversationRow, ShipmentRow


def test_pragmas_and_schema(tmp_path):
    database = store_db.open_database(tmp_path / "s.sqlite3")
    assert database.journal_mode == "wal"
    assert database.foreign_keys == 1
    assert database.execute_sql("PRAGMA user_version").fetchone()[0] == len(store_db.MIGRATIONS)
    assert store_db.migrate(database) == []
    store_db.close_database(database)


def test_reopening_keeps_data(tmp_path):
    path = tmp_path / "s.sqlite3"
    database = store_db.open_database(path)
    ConversationRow.create(id="cnv_1", subject="Where is my order?")
    store_db.close_database(database)
    database = store_db.open_database(path)
    assert ConversationRow.get_by_id("cnv_1").subject == "Where is my order?"
    store_db.close_database(database)


def test_foreign_keys_are_enforced(tmp_path):
    database = store_db.open_database(tmp_path / "s.sqlite3")
    with pytest.raises(IntegrityError):
        ShipmentRow.create(conversation="cnv_missing", tracking_number="1Z999AA10123456784", courier="ups")
    store_db.close_database(database)


def test_number_is_unique_per_courier(tmp_path):
    database = store_db.open_database(tmp_path / "s.sqlite3")
    ConversationRow.create(id="cnv_1")
    ShipmentRow.create(conversation="cnv_1", tracking_number="123456789012", courier="fedex")
    ShipmentRow.create(conversation="cnv_1", tracking_number="123456789012", courier="purolator")
    with pytest.raises(IntegrityError):
        ShipmentRow.create(conversation="cnv_1", tracking_number="123456789012", courier="fedex")
    store_db.close_database(database)
