"""Schema migrations of claims (issue 16, item 2), appended to `desktop.store.db.MIGRATIONS`.

Portable DDL only (peewee `create_tables`, `get_columns`, `ALTER TABLE ... ADD COLUMN`), so the same
migration runs on SQLite and PostgreSQL. Never edit a migration that has shipped: add another.
"""

from __future__ import annotations

from typing import Any


def add_scan_claims(db: Any) -> None:
    """The `scan_claim` table (`desktop.store.claims`: claimed conversations and running scans' leases),
    and `registration.lease_owner` (who holds an outbox row's lease: `desktop.store.outbox.claim_due`)."""
    from desktop.store.claims import ScanClaimRow

    db.create_tables([ScanClaimRow], safe=True)
    # A database created by this code already has the column (the first migration builds today's tables).
    if db.table_exists("registration") and "lease_owner" not in {c.name for c in db.get_columns("registration")}:
        db.execute_sql("ALTER TABLE registration ADD COLUMN lease_owner TEXT")
