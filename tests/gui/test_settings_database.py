"""Settings → Database (issue 16): a path or a team's PostgreSQL URL; its password goes to the keyring,
never into the settings file; the app and the commands open what it names."""

from __future__ import annotations

import json

from desktop import paths
from desktop import settings as settings_mod
from desktop.gui.settingsdialog import SettingsDialog
from desktop.settings import Settings


def test_a_url_typed_with_a_password_is_saved_without_it(qtbot, tmp_path, memory_keyring, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    path = tmp_path / "settings.json"
    dialog = SettingsDialog(Settings(), settings_path=path)
    qtbot.addWidget(dialog)
    dialog.database_edit.setText("postgresql://alice:p%40ss-w0rd@db.example:5433/team")
    dialog.save()
    text = path.read_text(encoding="utf-8")
    assert "p%40ss" not in text and "p@ss-w0rd" not in text
    assert json.loads(text)["database"] == "postgresql://alice@db.example:5433/team"
    assert memory_keyring.store[("shipscan", "postgresql:alice@db.example:5433")] == "p@ss-w0rd"
    from desktop.store import postgres
    assert postgres.password_for("postgresql://alice@db.example:5433/team") == "p@ss-w0rd"


def test_settings_never_write_a_password_and_name_the_default_database(tmp_path, monkeypatch):
    monkeypatch.delenv("SHIPSCAN_DB", raising=False)
    assert str(paths.default_db_path()).endswith("shipscan.sqlite3")
    settings_mod.save(Settings(database="postgresql://bob:hunter22@db.example/team"))
    assert "hunter22" not in settings_mod.settings_path().read_text(encoding="utf-8")
    assert paths.default_db_path() == "postgresql://bob@db.example/team"
    monkeypatch.setenv("SHIPSCAN_DB", str(tmp_path / "mine.sqlite3"))   # the environment wins
    assert paths.default_db_path() == tmp_path / "mine.sqlite3"
