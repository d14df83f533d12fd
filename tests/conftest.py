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


@pytest.fixture
def db(tmp_path):
    """A fresh, migrated SQLite database in the test's folder, bound to the store's tables."""
    from desktop.store.db import close_database, open_database

    database = open_database(tmp_path / "shipscan.sqlite3")
    yield database
    close_database(database)
