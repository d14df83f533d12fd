"""The error boundary of every command-line entry point: one line for an expected error, a crash report
for a bug, never a raw traceback.

    code = run_guarded("scan", lambda: args.func(args))

Exit codes (extending the commands' own): 1 an expected failure (network, database, input), 2 a
configuration error (a key, a setting, the --db file), 70 an unexpected error (a crash report was
written; its path is printed), 130 interrupted, 141 the reader of our output went away (`| head`).
Everything printed goes through `desktop.log.redact`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from desktop import __version__
from desktop import log as applog
from desktop.errors import ConfigurationError, ExpectedError

EXIT_FAILED, EXIT_CONFIG, EXIT_BUG, EXIT_INTERRUPTED, EXIT_PIPE = 1, 2, 70, 130, 141

#: SQLite's answer when a rollback follows a failure that already ended the transaction (a full disk):
#: the real cause is the exception it hides.
_SECONDARY = ("cannot rollback - no transaction is active", "cannot commit - no transaction is active")


def _loaded(module: str, name: str) -> tuple[type[BaseException], ...]:
    """`module.name` when the command imported that module, else nothing: a module never imported raised
    none of its errors. (So a command that needs no database starts without peewee, sqlite3 or the store.)"""
    error = getattr(sys.modules.get(module), name, None)   # None too for a module whose import failed half-way
    return (error,) if isinstance(error, type) else ()


def _database_errors() -> tuple[type[BaseException], ...]:
    return (*_loaded("peewee", "DatabaseError"), *_loaded("sqlite3", "Error"))


def run_guarded(command: str, action: Callable[[], int | None]) -> int:
    """Run `action` and turn what it raises into an exit code and at most one line on stderr."""
    try:
        return int(action() or 0)
    except KeyboardInterrupt:
        _say(command, "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except (ConfigurationError, *_loaded("desktop.store.db", "DatabaseUnusable")) as exc:
        _say(command, str(exc))
        return EXIT_CONFIG
    except ExpectedError as exc:
        _say(command, str(exc))
        return EXIT_FAILED
    except _database_errors() as exc:
        _say(command, f"database error: {database_cause(exc)}")
        return EXIT_FAILED
    except OSError as exc:
        _say(command, f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        return EXIT_FAILED
    except Exception as exc:  # a bug: keep the details, show one line
        path = write_crash_report(exc)
        _say(command, f"unexpected error ({type(exc).__name__}); details written to {path}")
        return EXIT_BUG


def database_cause(exc: BaseException) -> str:
    """The first real SQLite error in the chain (a full disk, not the failed rollback after it)."""
    seen: BaseException | None = exc
    while seen is not None:
        if str(seen) not in _SECONDARY and isinstance(seen, _database_errors()):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return str(exc)


def _say(command: str, text: str) -> None:
    try:
        print(f"shipscan {command}: {applog.redact(text)}", file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr gone too: nothing left to tell
        pass


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush cannot raise."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def write_crash_report(exc: BaseException) -> Path | None:
    """Write the redacted traceback to `crash-<time>.txt` in the log folder; returns its path."""
    from desktop import paths

    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    text = (f"Shipscan {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n"
            f"Command line: {' '.join(sys.argv)}\n\n{trace}")
    try:
        folder = paths.log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{dt.datetime.now():%Y%m%d-%H%M%S-%f}.txt"
        path.write_text(applog.redact(text) or "", encoding="utf-8")
    except OSError:
        return None
    return path
