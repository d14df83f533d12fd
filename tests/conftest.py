"""Test-wide settings: offscreen Qt, an isolated home, no real keyring, and the `gui` marker.

Qt must be told to render offscreen before anything imports it, so this runs first.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never read or write the developer's real keys, settings or databases from a test.
for _var in ("FRONT_API_TOKEN", "OPENAI_API_KEY", "SHIP24_API_KEY", "FRONT_API_URL", "OPENAI_BASE_URL",
             "SHIP24_API_URL", "SHIPSCAN_DB"):
    os.environ.pop(_var, None)
# A null keyring backend: get returns None, so tests see "no key" unless they set one explicitly.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

import pytest  # noqa: E402

GUI_FIXTURES = {"qapp", "qtbot", "qtmodeltester", "qloop"}


def pytest_collection_modifyitems(config, items):
    """Mark every test that needs a QApplication as `gui`, so `pytest -m "not gui"` runs the core alone."""
    for item in items:
        if GUI_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Point the user data/config/log directories at a temporary folder for every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("HOME", str(home))
    yield home


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request, tmp_path):
    """A fresh database target of each kind: a SQLite path in the test's folder, or the URL of a new,
    empty PostgreSQL database (`tests/helpers/pg.py`: skipped without a server, failed when
    SHIPSCAN_TEST_PG_REQUIRED=1). The PostgreSQL database is dropped after the test."""
    if request.param == "sqlite":
        yield tmp_path / "shipscan.sqlite3"
        return
    from tests.helpers import pg

    url = pg.fresh_database_url()
    yield url
    pg.drop_database(url)


@pytest.fixture
def db_both(db_target):
    """A fresh, migrated database on SQLite and on PostgreSQL (one test each), bound to the store's tables.
    A suite runs on both by overriding its `db` fixture with this one."""
    from desktop.store.db import close_database, open_database
    from tests.helpers.pg import assert_kind

    database = open_database(db_target)
    assert_kind(database, db_target)
    yield database
    close_database(database)


@pytest.fixture
def db(tmp_path):
    """A fresh, migrated SQLite database in the test's folder, bound to the store's tables."""
    from desktop.store.db import close_database, open_database

    database = open_database(tmp_path / "shipscan.sqlite3")
    yield database
    close_database(database)


@pytest.fixture
def memory_keyring():
    """A keyring in memory for this test (tests/helpers/keyrings.py), the previous one put back after."""
    import keyring

    from tests.helpers.keyrings import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
