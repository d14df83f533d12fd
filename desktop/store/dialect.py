"""The few SQL differences between SQLite and PostgreSQL, as small helpers the store's raw SQL calls.

Each helper returns SQL text for the database the store is bound to now (`tables.database`), or for the
dialect `kind` given (builders cached per dialect pass it), so one query builder serves both. What they
cover, and why:
- dates: SQLite has `julianday`/`date(x, 'unixepoch')`/`strftime`, PostgreSQL `to_timestamp`/`to_char`
  and date arithmetic. Both compute in UTC (PostgreSQL sessions are set to UTC by `store.postgres`).
- case-insensitive substring search: SQLite's LIKE ignores ASCII case, PostgreSQL's LIKE does not: ILIKE.
- `instr` is `strpos` on PostgreSQL.
- "insert unless it exists": `INSERT ... ON CONFLICT (key) DO NOTHING`, which both understand (SQLite
  3.24+), in place of SQLite's `INSERT OR IGNORE`.
- the columns of a table: peewee's `get_columns` (not `PRAGMA table_info`).
The SQLite text each helper returns is exactly what the store used before, so SQLite's plans (and the
100,000-shipment timings) do not change. No Qt here.
"""

from __future__ import annotations

from desktop.store.tables import database

SQLITE, POSTGRESQL = "sqlite", "postgresql"


def name(db=None) -> str:
    """"postgresql" or "sqlite": the kind of `db` (default: the database the tables are bound to)."""
    target = db if db is not None else database.obj
    return POSTGRESQL if getattr(target, "dialect", None) == POSTGRESQL else SQLITE


def is_postgres(db=None) -> bool:
    return name(db) == POSTGRESQL


def _pg(kind: str | None) -> bool:
    """Whether to speak PostgreSQL: `kind` when given (a cached builder's key), else the bound database."""
    return (kind or name()) == POSTGRESQL


def epoch_to_iso(expr: str, kind: str | None = None) -> str:
    """The epoch seconds `expr` as ISO text, UTC, no offset: 'YYYY-MM-DDTHH:MM:SS'."""
    if _pg(kind):
        return f"to_char(to_timestamp({expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    return f"strftime('%Y-%m-%dT%H:%M:%S', {expr}, 'unixepoch')"


def epoch_to_date(expr: str, kind: str | None = None) -> str:
    """The epoch seconds `expr` as an ISO date, UTC: 'YYYY-MM-DD'."""
    if _pg(kind):
        return f"to_char(to_timestamp({expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"date({expr}, 'unixepoch')"


def today(kind: str | None = None) -> str:
    """Today's date (UTC) as ISO text."""
    if _pg(kind):
        return "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return "date('now')"


def days_between(later: str, earlier: str, kind: str | None = None) -> str:
    """Whole days from the ISO date text `earlier` to `later` (NULL when either is NULL or not a date)."""
    if _pg(kind):
        return f"({_pg_day(later)} - {_pg_day(earlier)})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def pg_iso_day(expr: str) -> str:
    """PostgreSQL: the day number (days since 1970-01-01) of ISO date text; NULL when it is not a date."""
    return _pg_day(expr)


def pg_epoch_day(expr: str) -> str:
    """PostgreSQL: the UTC day number of epoch seconds (no text in between: cheap on 100,000 rows)."""
    return f"CAST(floor({expr} / 86400) AS integer)"


PG_TODAY_DAY = "(CAST(now() AT TIME ZONE 'UTC' AS date) - DATE '1970-01-01')"


def _pg_day(expr: str) -> str:
    # Why the guard: a cast of text that is not a date raises on PostgreSQL (SQLite's julianday gives NULL).
    return (f"(CASE WHEN ({expr}) ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' "
            f"THEN CAST(substr({expr}, 1, 10) AS date) - DATE '1970-01-01' END)")


def instr(haystack: str, needle: str, kind: str | None = None) -> str:
    """1-based position of `needle` in `haystack`, 0 when absent."""
    return f"strpos({haystack}, {needle})" if _pg(kind) else f"instr({haystack}, {needle})"


def like(kind: str | None = None) -> str:
    """The operator of a case-insensitive LIKE (ASCII case on SQLite, all of Unicode on PostgreSQL)."""
    return "ILIKE" if _pg(kind) else "LIKE"


def insert_ignore(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """`INSERT` of one row with `?` placeholders that does nothing when a row with that `key` exists."""
    marks = ", ".join("?" * len(columns))
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(key)}) DO NOTHING")


def table_columns(db, table: str) -> set[str]:
    """Names of `table`'s columns (empty when it does not exist)."""
    return {column.name for column in db.get_columns(table)}
