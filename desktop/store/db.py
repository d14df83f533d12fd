"""Opening the SQLite database: WAL, foreign keys, and schema migrations (PRAGMA user_version).

`open_database(path)` binds the shared `tables.database` proxy and brings the schema up to date.
Migrations are plain functions in `MIGRATIONS`, applied in order inside one transaction each; the
database's `user_version` records how many ran. Add a migration by appending a function: never edit one
that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from peewee import SqliteDatabase

from desktop.store import tables

PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -16000,
    "busy_timeout": 10000,
}


def _create_initial_schema(db: SqliteDatabase) -> None:
    db.create_tables(tables.ALL_TABLES)


#: Migration n brings user_version from n to n+1.
MIGRATIONS: list[Callable[[SqliteDatabase], None]] = [_create_initial_schema]


def migrate(db: SqliteDatabase) -> list[int]:
    """Apply pending migrations; returns the versions applied (empty when up to date)."""
    applied = []
    current = db.execute_sql("PRAGMA user_version").fetchone()[0]
    for version in range(current, len(MIGRATIONS)):
        with db.atomic():
            MIGRATIONS[version](db)
            db.execute_sql(f"PRAGMA user_version = {version + 1}")
        applied.append(version + 1)
    return applied


def open_database(path: str | Path) -> SqliteDatabase:
    """Open (creating if needed) the database at `path`, bind the tables to it and migrate it.

    Use ":memory:" only in tests that need no second connection.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, timeout=10)
    tables.database.initialize(db)
    db.connect(reuse_if_open=True)
    migrate(db)
    return db


def close_database(db: SqliteDatabase) -> None:
    if not db.is_closed():
        db.close()
