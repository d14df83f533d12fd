"""The store's suites run on SQLite and on PostgreSQL: `db` here is the root conftest's `db_both`."""

from __future__ import annotations

import pytest


@pytest.fixture
def db(db_both):
    return db_both
