"""Opening the SQLite database: WAL, foreign keys, and schema migrations (PRAGMA user_version).

`open_database(path)` binds the shared `tables.database` proxy and brings the schema up to date.
Migrations are plain functions in `MIGRATIONS`, applied in order inside one IMMEDIATE transaction each
(so two processes opening one file never both migrate it); the database's `user_version` records how
many ran. Add a migration by appending a function: never edit one that has shipped.

Contracts:
- A file this code cannot use raises `DatabaseUnusable` naming the file and the cause (a directory, not a
  database, malformed, read-only, no permission), before anything is written to it.
- A database from a newer shipscan (`user_version` above `len(MIGRATIONS)`) is refused with
  `DatabaseTooNew` naming both versions, and is never written.
- Before migrating a database that holds data (version >= 1), a copy is written beside it
  (`<name>.v<old>.bak`, the SQLite backup API, so it is consistent even in WAL mode).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from peewee import DatabaseError, SqliteDatabase

from desktop.errors import ExpectedError
from desktop.store import tables

PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -16000,
    "busy_timeout": 10000,
}


class DatabaseUnusable(ExpectedError):
    """The database file cannot be used; the message names the file and the cause."""

    def __init__(self, path: str | Path, cause: str) -> None:
        super().__init__(f"cannot use the database {path}: {cause}")
        self.path, self.cause = Path(path), cause


class DatabaseTooNew(DatabaseUnusable):
    """The file was written by a newer shipscan whose schema this one does not know."""


def _create_initial_schema(db: SqliteDatabase) -> None:
    db.create_tables(tables.ALL_TABLES)


def _add_run_pid_started(db: SqliteDatabase) -> None:
    # A database created by this code already has the column (migration 1 builds today's tables).
    columns = {row[1] for row in db.execute_sql("PRAGMA table_info(scan_run)").fetchall()}
    if "pid_started" not in columns:
        db.execute_sql("ALTER TABLE scan_run ADD COLUMN pid_started TEXT")


def _add_app_meta(db: SqliteDatabase) -> None:
    # Which shipscan created the file and which last opened it (`record_app_version`): support reads it,
    # and a too-new database is refused naming the version that wrote it.
    db.execute_sql("CREATE TABLE IF NOT EXISTS app_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


#: Migration n brings user_version from n to n+1.
MIGRATIONS: list[Callable[[SqliteDatabase], None]] = [_create_initial_schema, _add_run_pid_started, _add_app_meta]


def record_app_version(db: SqliteDatabase) -> None:
    """Record `created_by` (once) and `last_opened_by` (when it changes) as this shipscan's version.

    Best effort: a database that cannot be written to now still opens as before.
    """
    from desktop import __version__

    recorded = app_versions(db)
    if recorded.get("created_by") and recorded.get("last_opened_by") == __version__:
        return  # read first: a write would wait for another process's transaction (busy_timeout)
    try:
        db.execute_sql("INSERT OR IGNORE INTO app_meta (key, value) VALUES ('created_by', ?)", (__version__,))
        db.execute_sql("INSERT INTO app_meta (key, value) VALUES ('last_opened_by', ?) ON CONFLICT (key) "
                       "DO UPDATE SET value = excluded.value WHERE value != excluded.value", (__version__,))
    except (DatabaseError, sqlite3.Error):
        pass


def app_versions(db: SqliteDatabase) -> dict[str, str]:
    """{"created_by": ..., "last_opened_by": ...} as recorded (empty before migration 3)."""
    try:
        return dict(db.execute_sql("SELECT key, value FROM app_meta").fetchall())
    except (DatabaseError, sqlite3.Error):
        return {}


def _version(db: SqliteDatabase) -> int:
    return db.execute_sql("PRAGMA user_version").fetchone()[0]


def backup_path(path: str | Path, version: int) -> Path:
    path = Path(path)
    return path.with_name(f"{path.name}.v{version}.bak")


def _backup(db: SqliteDatabase, version: int) -> Path | None:
    """Copy the database beside itself before a migration; None for an in-memory one."""
    if db.database == ":memory:":
        return None
    target = backup_path(db.database, version)
    copy = sqlite3.connect(str(target))
    try:
        db.connection().backup(copy)
    finally:
        copy.close()
    return target


def migrate(db: SqliteDatabase) -> list[int]:
    """Apply pending migrations; returns the versions applied (empty when up to date).

    Raises:
        DatabaseTooNew: the file's version is above what this code knows (nothing is written).
    """
    current = _version(db)
    _refuse_newer(db.database, current)
    if current >= len(MIGRATIONS):
        return []
    if current >= 1:
        _backup(db, current)
    applied = []
    for version in range(current, len(MIGRATIONS)):
        with db.atomic("IMMEDIATE"):
            if _version(db) != version:  # another process migrated it meanwhile
                continue
            MIGRATIONS[version](db)
            db.execute_sql(f"PRAGMA user_version = {version + 1}")
        applied.append(version + 1)
    return applied


def _refuse_newer(path: str | Path, version: int, written_by: str | None = None) -> None:
    if version > len(MIGRATIONS):
        by = f"shipscan {written_by}" if written_by else "the newer shipscan that wrote it"
        raise DatabaseTooNew(path, f"its schema version is {version}, and this shipscan knows versions up to "
                                   f"{len(MIGRATIONS)}; use {by}")


def _precheck(path: Path) -> None:
    """Refuse, read-only, what cannot be opened: a directory, a non-database, a too-new schema."""
    if path.is_dir():
        raise DatabaseUnusable(path, "it is a directory")
    if not path.exists():
        return
    try:
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DatabaseUnusable(path, _cause(exc, path)) from exc
    try:
        version = probe.execute("PRAGMA user_version").fetchone()[0]
        probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        written_by = _last_opened_by(probe) if version > len(MIGRATIONS) else None
    except sqlite3.Error as exc:
        raise DatabaseUnusable(path, _cause(exc, path)) from exc
    finally:
        probe.close()
    _refuse_newer(path, version, written_by)


def _last_opened_by(probe: sqlite3.Connection) -> str | None:
    try:
        row = probe.execute("SELECT value FROM app_meta WHERE key = 'last_opened_by'").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _cause(exc: BaseException, path: Path) -> str:
    """The cause in words, with a hint where SQLite's own message is vague."""
    text = str(exc)
    if "unable to open" in text:
        folder = path.parent
        if path.exists() and not _readable(path):
            return f"{text} (no permission to read it)"
        if not folder.exists():
            return f"{text} (the folder {folder} does not exist)"
        return f"{text} (check the permissions of the file and of {folder})"
    if "readonly" in text or "read-only" in text:
        return f"{text} (the file or its folder is read-only)"
    return text


def _readable(path: Path) -> bool:
    try:
        with path.open("rb"):
            return True
    except OSError:
        return False


def open_database(path: str | Path) -> SqliteDatabase:
    """Open (creating if needed) the database at `path`, bind the tables to it and migrate it.

    Use ":memory:" only in tests that need no second connection.

    Raises:
        DatabaseUnusable: the file cannot be used (DatabaseTooNew: it is from a newer shipscan).
    """
    if str(path) != ":memory:":
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnusable(path, f"cannot create its folder ({exc.strerror or exc})") from exc
        _precheck(path)
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, timeout=10)
    try:
        tables.database.initialize(db)
        db.connect(reuse_if_open=True)
        migrate(db)
        record_app_version(db)
    except DatabaseUnusable:
        db.close()
        raise
    except (DatabaseError, sqlite3.Error, OSError) as exc:
        db.close()
        raise DatabaseUnusable(path, _cause(exc, Path(str(path)))) from exc
    return db


def close_database(db: SqliteDatabase) -> None:
    if not db.is_closed():
        db.close()
