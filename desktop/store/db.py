"""Opening the database (a SQLite file, or PostgreSQL by URL) and its schema migrations.

`open_database(target)` binds the shared `tables.database` proxy and brings the schema up to date. The
target is a path (SQLite: WAL, foreign keys) or a URL `postgresql://user@host:port/dbname` (see
`desktop.store.postgres` for where the password comes from). Migrations are plain functions in
`MIGRATIONS`, the same on both, applied in order inside one IMMEDIATE transaction each (so two processes
or desktops never both migrate one database); the schema version records how many ran (SQLite:
`PRAGMA user_version`; PostgreSQL: the table `shipscan_schema`). Add a migration by appending a function
that uses only portable DDL (peewee `create_tables`, `dialect.table_columns`, `ALTER TABLE ... ADD
COLUMN`): never edit one that has shipped.

Contracts:
- A database this code cannot use raises `DatabaseUnusable` naming it and the cause, before anything is
  written to it: for a file, a directory, not a database, malformed, read-only, no permission; for a
  server, not reachable, password refused, no such database or user (one line naming host and database,
  never the password).
- A database from a newer shipscan (schema version above `len(MIGRATIONS)`) is refused with
  `DatabaseTooNew` naming both versions, and is never written.
- Before migrating a SQLite database that holds data (version >= 1), a copy is written beside it
  (`<name>.v<old>.bak`, the SQLite backup API, so it is consistent even in WAL mode). PostgreSQL
  databases get no backup from us: the team backs up its server.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from peewee import Database, DatabaseError, SqliteDatabase

from desktop.errors import ExpectedError
from desktop.store import dialect, migrations_claims, migrations_team, postgres, tables

PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -16000,
    "busy_timeout": 10000,
}
#: PostgreSQL's home of the schema version (SQLite keeps it in PRAGMA user_version).
PG_VERSION_TABLE = "shipscan_schema"


class DatabaseUnusable(ExpectedError):
    """The database cannot be used; the message names it (a URL without its password) and the cause.

    `path` is the file (None for a server); `target` the database as shown.
    """

    def __init__(self, target: str | Path, cause: str) -> None:
        url = postgres.is_url(str(target))
        shown = postgres.redact_url(str(target)) if url else str(target)
        super().__init__(f"cannot use the database {shown}: {cause}")
        self.path: Path | None = None if url else Path(target)
        self.target, self.cause = shown, cause


class DatabaseTooNew(DatabaseUnusable):
    """The database was written by a newer shipscan whose schema this one does not know."""


def _create_initial_schema(db: Database) -> None:
    db.create_tables(tables.ALL_TABLES)


def _add_run_pid_started(db: Database) -> None:
    # A database created by this code already has the column (migration 1 builds today's tables).
    if "pid_started" not in dialect.table_columns(db, "scan_run"):
        db.execute_sql("ALTER TABLE scan_run ADD COLUMN pid_started TEXT")


def _add_app_meta(db: Database) -> None:
    # Which shipscan created the file and which last opened it (`record_app_version`): support reads it,
    # and a too-new database is refused naming the version that wrote it.
    db.execute_sql("CREATE TABLE IF NOT EXISTS app_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


#: Migration n brings user_version from n to n+1.
MIGRATIONS: list[Callable[[Database], None]] = [_create_initial_schema, _add_run_pid_started, _add_app_meta]
MIGRATIONS.append(migrations_team.add_team_tables)  # issue 16 item 3: change counter, review log, who
MIGRATIONS.append(migrations_claims.add_scan_claims)  # issue 16 item 2: scan claims with leases


def record_app_version(db: Database) -> None:
    """Record `created_by` (once) and `last_opened_by` (when it changes) as this shipscan's version.

    Best effort: a database that cannot be written to now still opens as before.
    """
    from desktop import __version__

    recorded = app_versions(db)
    if recorded.get("created_by") and recorded.get("last_opened_by") == __version__:
        return  # read first: a write would wait for another process's transaction (busy_timeout)
    try:
        db.execute_sql(dialect.insert_ignore("app_meta", ("key", "value"), ("key",)), ("created_by", __version__))
        db.execute_sql("INSERT INTO app_meta (key, value) VALUES ('last_opened_by', ?) ON CONFLICT (key) "
                       "DO UPDATE SET value = excluded.value WHERE app_meta.value != excluded.value", (__version__,))
    except (DatabaseError, sqlite3.Error):
        pass


def app_versions(db: Database) -> dict[str, str]:
    """{"created_by": ..., "last_opened_by": ...} as recorded (empty before migration 3)."""
    try:
        return dict(db.execute_sql("SELECT key, value FROM app_meta").fetchall())
    except (DatabaseError, sqlite3.Error):
        return {}


def _version(db: Database) -> int:
    if dialect.is_postgres(db):
        if db.execute_sql(f"SELECT to_regclass('{PG_VERSION_TABLE}')").fetchone()[0] is None:
            return 0
        row = db.execute_sql(f"SELECT MAX(version) FROM {PG_VERSION_TABLE}").fetchone()
        return int(row[0] or 0)
    return db.execute_sql("PRAGMA user_version").fetchone()[0]


def _set_version(db: Database, version: int) -> None:
    """Record `version` (inside the migration's transaction: PostgreSQL's DDL is transactional too)."""
    if dialect.is_postgres(db):
        db.execute_sql(f"CREATE TABLE IF NOT EXISTS {PG_VERSION_TABLE} (version INTEGER NOT NULL)")
        db.execute_sql(f"DELETE FROM {PG_VERSION_TABLE}")
        db.execute_sql(f"INSERT INTO {PG_VERSION_TABLE} (version) VALUES (?)", (version,))
    else:
        db.execute_sql(f"PRAGMA user_version = {int(version)}")


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


def migrate(db: Database, shown: str | Path | None = None) -> list[int]:
    """Apply pending migrations; returns the versions applied (empty when up to date).

    A SQLite database with data is backed up first (`backup_path`); a PostgreSQL one is not.

    Raises:
        DatabaseTooNew: the database's version is above what this code knows (nothing is written).
    """
    current = _version(db)
    _refuse_newer(shown if shown is not None else db.database, current)
    if current >= len(MIGRATIONS):
        return []
    if current >= 1 and not dialect.is_postgres(db):
        _backup(db, current)
    applied = []
    for version in range(current, len(MIGRATIONS)):
        with db.atomic("IMMEDIATE"):
            if _version(db) != version:  # another process migrated it meanwhile
                continue
            MIGRATIONS[version](db)
            _set_version(db, version + 1)
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


def open_database(target: str | Path) -> Database:
    """Open the database `target`, bind the tables to it and migrate it.

    `target`: a path (a SQLite file, created if needed; ":memory:" only in tests that need no second
    connection) or a URL `postgresql://user@host:port/dbname` (the database must exist; its tables are
    created). The result is a peewee Database either way.

    Raises:
        DatabaseUnusable: the database cannot be used (DatabaseTooNew: it is from a newer shipscan).
    """
    if postgres.is_url(str(target)):
        return _open_postgres(str(target))
    return _open_sqlite(target)


def _open_sqlite(path: str | Path) -> SqliteDatabase:
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


def _open_postgres(url: str) -> Database:
    db = postgres.connect_database(url)
    try:
        tables.database.initialize(db)
        db.connect(reuse_if_open=True)
        _refuse_newer(url, _version(db), _pg_written_by(db))   # read-only, before anything is written
        migrate(db, url)
        record_app_version(db)
    except DatabaseUnusable:
        db.close()
        raise
    except (DatabaseError, OSError) as exc:
        if not db.is_closed():
            db.close()
        raise DatabaseUnusable(url, postgres.describe_failure(exc, url)) from exc
    return db


def _pg_written_by(db: Database) -> str | None:
    if _version(db) <= len(MIGRATIONS):
        return None
    return app_versions(db).get("last_opened_by")


def close_database(db: Database) -> None:
    if not db.is_closed():
        db.close()
