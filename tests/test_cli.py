"""The `shipscan` command and `python -m desktop` are the same program."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from desktop import __version__, cli


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"shipscan {__version__}"


def test_help_lists_every_command():
    help_text = cli.build_parser().format_help()
    for command in ("simulate", "extract", "scan", "queue", "retry", "status"):
        assert command in help_text


def test_common_options_work_before_and_after_the_command():
    parser = cli.build_parser()
    before = parser.parse_args(["--demo", "--db", "x.sqlite3", "queue"])
    after = parser.parse_args(["queue", "--demo", "--db", "x.sqlite3"])
    assert (before.demo, before.db) == (after.demo, after.db) == (True, "x.sqlite3")


def test_python_dash_m_matches_the_console_script():
    module = subprocess.run([sys.executable, "-m", "desktop", "--version"], capture_output=True, text=True)
    assert module.returncode == 0 and module.stdout.strip() == f"shipscan {__version__}"
    script = shutil.which("shipscan", path=str(__import__("pathlib").Path(sys.executable).parent))
    if script is None:
        pytest.skip("the console script is not installed in this environment")
    console = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert console.stdout == module.stdout
