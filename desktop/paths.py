"""Where Shipscan keeps its files: the database, logs, settings, and the bundled resources.

Works the same from a source checkout, an installed wheel and a PyInstaller bundle (`sys._MEIPASS`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "shipscan"


def resources_dir() -> Path:
    """The `resources/` folder: next to the package in a checkout, inside the bundle when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    checkout = Path(__file__).resolve().parent.parent / "resources"
    if checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parent / "_resources"  # an installed wheel (see pyproject.toml)


def resource(*parts: str) -> Path:
    """Path of one bundled resource file, e.g. `resource("prompts", "extract_shipments.md")`."""
    return resources_dir().joinpath(*parts)


def data_dir() -> Path:
    """Per-user data directory (created on first use)."""
    path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Per-user settings directory (created on first use). Never holds secrets."""
    path = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    path = Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


#: A database target starting with one of these is a PostgreSQL URL; anything else is a SQLite file's path.
DATABASE_URL_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(target: object) -> bool:
    """True when `target` is a PostgreSQL URL (`postgresql://user@host:port/db`), not a file path."""
    return isinstance(target, str) and target.lower().startswith(DATABASE_URL_SCHEMES)


def database_target(value: str | Path) -> str | Path:
    """`value` as a database target: a URL stays a string (a Path would fold its `//`), else a Path."""
    return value if is_database_url(value) else Path(value)


def default_db_path() -> str | Path:
    """`$SHIPSCAN_DB` if set (a path, or a PostgreSQL URL), else the database named in Settings, else
    `shipscan.sqlite3` in the user data directory."""
    env = os.environ.get("SHIPSCAN_DB")
    if env:
        return database_target(env)
    from desktop import settings  # imported here: settings imports this module

    chosen = str(settings.load().database or "").strip()
    return database_target(chosen) if chosen else data_dir() / "shipscan.sqlite3"


def demo_db_path() -> Path:
    """The demo has a database of its own so it never mixes with real shipments."""
    return data_dir() / "demo.sqlite3"


def resolve_db_path(db: str | None, demo: bool) -> str | Path:
    """The database a command uses: `--db` wins, then the demo database with `--demo`, then the default.

    A PostgreSQL URL is returned as the string it is (see `database_target`), a file as a Path.
    """
    if db:
        return database_target(db)
    return demo_db_path() if demo else default_db_path()
