"""One error boundary per entry point (issue 13, items 4 and 8): real `python -m desktop` processes.

Each probe used to end in a raw traceback (or printed a key); now it is one line naming the cause, with
exit 1 or 2, or a crash report with its path for a bug.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.commands import boundary
from tests.helpers.hostile import NEWLINE_KEY


def shipscan(*argv: str, env: dict | None = None, stdin=None) -> subprocess.CompletedProcess:
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "desktop", *argv], capture_output=True, text=True,
                          env=full, timeout=120, stdin=stdin)


def one_line(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize("kind", ["directory", "not_a_database", "newer_schema"])
def test_an_unusable_db_is_one_line_naming_the_file(tmp_path, kind):
    path = tmp_path / "bad.sqlite3"
    if kind == "directory":
        path.mkdir()
    elif kind == "not_a_database":
        path.write_bytes(b"garbage" * 500)
    else:
        with sqlite3.connect(path) as con:
            con.execute("PRAGMA user_version = 999")
    proc = shipscan("queue", "--db", str(path))
    assert proc.returncode == 2
    assert str(path) in one_line(proc)


def test_the_window_with_an_unusable_db_says_so_without_a_traceback(tmp_path):
    """Probe: the GUI exited with a traceback and no dialog for a bad --db."""
    path = tmp_path / "dir.sqlite3"
    path.mkdir()
    proc = shipscan("--db", str(path), env={"QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 2 and "it is a directory" in one_line(proc)


@pytest.mark.parametrize("argv", [["retry", "99999999999999999999999"], ["status", "-5"],
                                  ["status", "99999999999999999999999"],
                                  ["scan", "--batch-size", "99999999999999999999999"]])
def test_huge_numbers_are_usage_errors(tmp_path, argv):
    """Probe: OverflowError tracebacks for huge ids and --batch-size (keys set, so nothing else stops
    the command first; the Ship24 URL is a closed port, never reached)."""
    proc = shipscan(*argv, "--db", str(tmp_path / "s.sqlite3"),
                    env={"SHIP24_API_KEY": "apik_fine_key_123", "SHIP24_API_URL": "http://127.0.0.1:9"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "argument" in proc.stderr  # argparse's usage error names the bad argument


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999"])
def test_a_bad_endpoint_url_is_one_line(tmp_path, url):
    """Probe: ValueError for a bad IPv6 URL, ExceptionGroup for port 99999."""
    proc = shipscan("status", "--refresh", "--db", str(tmp_path / "s.sqlite3"),
                    env={"SHIP24_API_URL": url, "SHIP24_API_KEY": "apik_fine_key_123"})
    assert proc.returncode == 2
    line = one_line(proc)
    assert "SHIP24_API_URL" in line and url in line


def test_a_closed_pipe_is_quiet(tmp_path):
    """Probe: BrokenPipeError on `shipscan queue | head`."""
    from desktop.store.db import close_database, open_database
    from tests.helpers.registration import add_shipment, numbers

    path = tmp_path / "s.sqlite3"
    database = open_database(path)
    for number in numbers(400, seed=2):
        add_shipment(number)
    close_database(database)
    proc = subprocess.Popen([sys.executable, "-m", "desktop", "queue", "--db", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()                     # `| head -1`
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_a_key_with_a_newline_is_refused_and_never_printed(tmp_path):
    """Probe: a pasted key with a newline went into the Authorization header; httpx's error quoting it
    reached the terminal and scan_run.error."""
    proc = shipscan("status", "--refresh", "--db", str(tmp_path / "s.sqlite3"),
                    env={"SHIP24_API_KEY": NEWLINE_KEY})
    assert proc.returncode == 2
    line = one_line(proc)
    assert "SHIP24_API_KEY" in line and "invalid character" in line
    for piece in NEWLINE_KEY.split("\n"):
        assert piece not in proc.stderr + proc.stdout


def test_everything_printed_is_redacted(capsys):
    from desktop import log

    log.register_secrets(NEWLINE_KEY)
    stream = log.RedactingStream(sys.stdout)
    print(f"error: Invalid header value b'Bearer {NEWLINE_KEY!r}'", file=stream)
    print(f"json: {NEWLINE_KEY}", file=stream)
    out = capsys.readouterr().out
    assert "planted0123456789" not in out and "abcdefXYZ987" not in out


def test_a_bug_becomes_a_crash_report_with_its_path(capsys):
    def bug():
        raise ZeroDivisionError("a bug")

    assert boundary.run_guarded("queue", bug) == boundary.EXIT_BUG
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ZeroDivisionError" in err
    report = Path(err.rsplit("details written to ", 1)[1].strip())
    assert "a bug" in report.read_text()


def test_a_full_disk_is_named_not_the_failed_rollback(capsys):
    """Probe: disk full reported as "cannot rollback - no transaction is active"."""
    from peewee import OperationalError

    def full():
        try:
            raise OperationalError("database or disk is full")
        except OperationalError:
            raise OperationalError("cannot rollback - no transaction is active")  # noqa: B904

    assert boundary.run_guarded("scan", full) == 1
    assert "database or disk is full" in capsys.readouterr().err
