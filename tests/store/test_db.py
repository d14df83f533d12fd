"""Opening the database: WAL, foreign keys, and migrations that run once."""

from __future__ import annotations

import pytest
from peewee import IntegrityError

from desktop.store import db as store_db
from desktop.store.tables import ConversationRow, ShipmentRow
from tests.helpers.pg import assert_kind


def test_pragmas_and_schema(tmp_path):
    database = store_db.open_database(tmp_path / "s.sqlite3")
    assert database.journal_mode == "wal"
    assert database.foreign_keys == 1
    assert database.execute_sql("PRAGMA user_version").fetchone()[0] == len(store_db.MIGRATIONS)
    assert store_db.migrate(database) == []
    store_db.close_database(database)


def test_reopening_keeps_data(db_target):
    path = db_target
    database = store_db.open_database(path)
    assert_kind(database, db_target)
    ConversationRow.create(id="cnv_1", subject="Where is my order?")
    store_db.close_database(database)
    database = store_db.open_database(path)
    assert ConversationRow.get_by_id("cnv_1").subject == "Where is my order?"
    store_db.close_database(database)


def test_foreign_keys_are_enforced(db_target):
    database = store_db.open_database(db_target)
    assert_kind(database, db_target)
    with pytest.raises(IntegrityError):
        ShipmentRow.create(conversation="cnv_missing", tracking_number="1Z999AA10123456784", courier="ups")
    store_db.close_database(database)


def test_number_is_unique_per_courier(db_target):
    database = store_db.open_database(db_target)
    assert_kind(database, db_target)
    ConversationRow.create(id="cnv_1")
    ShipmentRow.create(conversation="cnv_1", tracking_number="123456789012", courier="fedex")
    ShipmentRow.create(conversation="cnv_1", tracking_number="123456789012", courier="purolator")
    with pytest.raises(IntegrityError):
        ShipmentRow.create(conversation="cnv_1", tracking_number="123456789012", courier="fedex")
    store_db.close_database(database)


# -- issue 13, item 7: schema versions --------------------------------------------------------------------


def test_a_newer_database_is_refused_and_left_alone(tmp_path):
    """Probe: a database with user_version above what the code knows was opened and written."""
    import sqlite3

    path = tmp_path / "s.sqlite3"
    store_db.close_database(store_db.open_database(path))
    newer = len(store_db.MIGRATIONS) + 5
    with sqlite3.connect(path) as con:
        con.execute(f"PRAGMA user_version = {newer}")
    before = path.read_bytes()
    with pytest.raises(store_db.DatabaseTooNew) as caught:
        store_db.open_database(path)
    assert str(newer) in str(caught.value) and str(len(store_db.MIGRATIONS)) in str(caught.value)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before


def test_a_migration_backs_up_first_and_runs_in_one_transaction(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    database = store_db.open_database(path)
    ConversationRow.create(id="cnv_1", subject="kept")
    store_db.close_database(database)

    def broken(db):
        db.execute_sql("CREATE TABLE half_done (x)")
        raise RuntimeError("migration bug")

    known = len(store_db.MIGRATIONS)
    monkeypatch.setattr(store_db, "MIGRATIONS", [*store_db.MIGRATIONS, broken])
    with pytest.raises(RuntimeError):
        store_db.open_database(path)
    backup = store_db.backup_path(path, known)
    assert backup.exists()
    import sqlite3

    with sqlite3.connect(path) as con:   # rolled back: no half-done table, version unchanged
        assert con.execute("PRAGMA user_version").fetchone()[0] == known
        assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0
    with sqlite3.connect(backup) as con:
        assert con.execute("SELECT subject FROM conversation").fetchone()[0] == "kept"


@pytest.mark.parametrize("kind", ["directory", "not_a_database", "missing_folder_parent_is_file"])
def test_an_unusable_file_is_named_with_its_cause(tmp_path, kind):
    path = tmp_path / "s.sqlite3"
    if kind == "directory":
        path.mkdir()
        cause = "directory"
    elif kind == "not_a_database":
        path.write_bytes(b"this is not sqlite" * 100)
        cause = "not a database"
    else:
        (tmp_path / "file").write_text("x")
        path = tmp_path / "file" / "s.sqlite3"
        cause = "folder"
    with pytest.raises(store_db.DatabaseUnusable) as caught:
        store_db.open_database(path)
    assert str(path) in str(caught.value) and cause in str(caught.value)
