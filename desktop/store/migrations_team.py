"""Schema for team mode's "who did what" and the change counter (issue 16 item 3), as one migration.

`add_team_tables` is appended to `desktop.store.db.MIGRATIONS`. Portable on SQLite and PostgreSQL: tables
through peewee's `create_tables`, a column through `ALTER TABLE ... ADD COLUMN`, each only when missing
(a database created by this code already has `scan_run.started_by`: migration 1 builds today's tables).
"""

from __future__ import annotations

from desktop.store.changes import ChangeCounterRow
from desktop.store.reviewlog import ReviewLogRow


def add_team_tables(db) -> None:
    """The change counter (with its one row), the review log, and who started each scan run."""
    db.create_tables([ChangeCounterRow, ReviewLogRow], safe=True)
    if not ChangeCounterRow.select().where(ChangeCounterRow.id == 1).exists():
        ChangeCounterRow.insert(id=1, value=0).execute()
    if "started_by" not in {column.name for column in db.get_columns("scan_run")}:
        db.execute_sql("ALTER TABLE scan_run ADD COLUMN started_by TEXT")
