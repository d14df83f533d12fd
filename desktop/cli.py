"""Command-line entry point: `shipscan [--demo] [--db PATH]` opens the window; sub-commands do the rest.

Each sub-command lives in `desktop.commands.<name>` and exposes `register(subparsers, common)`, which adds
its parser(s) and sets `func(args) -> int` as the default. Nothing here imports Qt, so the command-line
tools start fast and run on machines without a display; the command modules import what a command needs
(the store, the HTTP clients, the keyring) inside the function that runs it, so building the parser is cheap.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from desktop import __version__

#: Modules under desktop.commands that register sub-commands, in the order `--help` lists them.
COMMAND_MODULES = ("simulate", "extract", "scan", "registration", "about")


def common_options(suppress: bool) -> argparse.ArgumentParser:
    """Options shared by the window and every sub-command.

    On sub-parsers the defaults are suppressed, so `shipscan --demo scan` and `shipscan scan --demo` both work.
    """
    default = argparse.SUPPRESS if suppress else None
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--demo", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="run against the built-in simulators of Front, OpenAI and Ship24 (no accounts needed)")
    parent.add_argument("--db", metavar="PATH", default=default,
                        help="the database to use: a SQLite file's path, or a PostgreSQL URL "
                             "postgresql://user@host:port/dbname shared by a team (default: $SHIPSCAN_DB "
                             "or the user data directory)")
    parent.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS if suppress else 0,
                        help="log more (repeat for debug)")
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shipscan", parents=[common_options(suppress=False)],
        description="Find shipments in Front conversations, review them, and track them with Ship24. "
                    "Without a sub-command, opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"shipscan {__version__}")
    parser.set_defaults(func=_run_gui)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    shared = common_options(suppress=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"desktop.commands.{name}")
        module.register(subparsers, shared)
    return parser


def _run_gui(args: argparse.Namespace) -> int:
    """Open the window, after checking the database: an unusable --db is one line (and a dialog), not a
    traceback from deep inside the app's start-up."""
    from desktop import paths
    from desktop.store.db import DatabaseUnusable, close_database, open_database

    try:
        close_database(open_database(paths.resolve_db_path(args.db, bool(args.demo))))
    except DatabaseUnusable as exc:
        from desktop.gui.startup import show_startup_error

        show_startup_error(str(exc))
        raise
    from desktop import app  # imported late: Qt is heavy and the other commands don't need it

    return app.main(args)


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]) and run the chosen command; returns the exit code.

    Everything a command prints passes the log's redactor (no key ever reaches the terminal), and
    whatever it raises ends in `desktop.commands.boundary` (one line, or a crash report for a bug).
    """
    from desktop import log
    from desktop.commands.boundary import run_guarded

    if getattr(sys, "frozen", False):   # a no-op elsewhere, and multiprocessing costs start-up time
        import multiprocessing

        multiprocessing.freeze_support()  # the engine's worker process in a PyInstaller bundle
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.func is not _run_gui:  # the window sets up its own log file; tools log to stderr only
        log.setup(getattr(args, "verbose", 0) or 0, file=False)
    name = getattr(args, "command", None) or _command_name(args)
    _act_as_settings_name()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = log.RedactingStream(sys.stdout), log.RedactingStream(sys.stderr)
    try:
        return run_guarded(name, lambda: args.func(args))
    finally:
        sys.stdout, sys.stderr = saved


def _act_as_settings_name() -> None:
    """Scans and reviews are recorded under the name set in Settings (else the OS user name; issue 16)."""
    from desktop import settings
    from desktop.store import actor

    actor.set_name(settings.load().user_name)


def _command_name(args: argparse.Namespace) -> str:
    module = getattr(args.func, "__module__", "") or ""
    return module.rsplit(".", 1)[-1] if module.startswith("desktop.commands.") else "app"
