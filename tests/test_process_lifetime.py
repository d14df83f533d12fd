"""Issue 17: every process the app starts ends with it, however it ends.

`shipscan --demo` (the window, offscreen) is started as a real subprocess, allowed to start all its
children (the simulators' process, the engine worker, multiprocessing's resource tracker) and then
ended: SIGTERM and SIGINT must run the orderly shutdown (exit code 0, "window closed" logged), SIGKILL
runs nothing of it. Either way no process of its tree may be alive 5 s later. The command-line tools
`scan`, `retry` and `status --refresh` must pass the same SIGKILL test, killed in the middle of their work.

Every process of a tree carries a marker in its environment (tests/helpers/procs.py), so it is found even
after its parent died and it was re-parented to init.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.procs import holds_open, kill_tree, leftovers, tree, tree_env, wait_until

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 120.0  # a cold start on a busy two-core machine; a correctness bound, not a speed test
APP_CHILDREN = ("desktop.sim.process", "multiprocessing.spawn", "resource_tracker")


def _home(base: Path) -> dict[str, str]:
    return {"QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(base / "data"),
            "XDG_CONFIG_HOME": str(base / "config"), "XDG_STATE_HOME": str(base / "state"), "HOME": str(base)}


def _start(args: list[str], home: Path) -> tuple[str, subprocess.Popen]:
    marker, env = tree_env()
    env.update(_home(home))
    env.pop("SHIPSCAN_QUIT_AFTER", None)
    # A session of its own: SIGINT can go to the whole group, as Ctrl-C in a terminal sends it. Stderr goes
    # to a file, not a pipe: children that outlive the app would hold a pipe open and hang the test.
    with open(home / "stderr.txt", "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "desktop", *args], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    return marker, process


def _log_text(home: Path) -> str:
    return "".join(path.read_text(errors="replace") for path in (home / "state").rglob("shipscan.log"))


def _app_is_up(marker: str, process: subprocess.Popen, home: Path) -> bool:
    assert process.poll() is None, (home / "stderr.txt").read_text()
    commands = " | ".join(p.cmdline for p in tree(marker))
    return "window opening" in _log_text(home) and all(child in commands for child in APP_CHILDREN)


def _end(process: subprocess.Popen, how: str) -> None:
    if how == "SIGINT to the group":  # Ctrl-C in a terminal: the app and all its children get it
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(getattr(signal, how))


@pytest.fixture
def started():
    """`started(args, home)` starts `python -m desktop *args`; whatever it left behind is killed afterwards."""
    markers = []

    def start(args: list[str], home: Path) -> tuple[str, subprocess.Popen]:
        marker, process = _start(args, home)
        markers.append(marker)
        return marker, process

    yield start
    for marker in markers:
        kill_tree(marker)


# -- the window --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT to the group", "SIGKILL"])
def test_demo_app_leaves_no_process_behind(how, tmp_path, started):
    marker, app = started(["--demo"], tmp_path)
    wait_until(lambda: _app_is_up(marker, app, tmp_path), START_TIMEOUT, "the app and its three children")
    _end(app, how)
    code = app.wait(timeout=60)
    assert leftovers(marker) == []
    stderr = (tmp_path / "stderr.txt").read_text()
    if how == "SIGKILL":
        assert code == -signal.SIGKILL
        return
    # The orderly shutdown ran, as after closing the window, and no child complained on the way.
    assert code == 0, stderr
    log = _log_text(tmp_path)
    assert "received: closing" in log and "window closed" in log
    assert "Traceback" not in stderr, stderr


# -- the command-line tools --------------------------------------------------------------------------------


def _run(args: list[str], home: Path) -> None:
    env = {**os.environ, **_home(home)}
    done = subprocess.run([sys.executable, "-m", "desktop", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr


def _copy_demo_db(source: Path, target: Path) -> Path:
    """Copy a demo database and its Ship24 simulator's state file (which holds the trackers)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    state = source.with_name(source.name + ".ship24.json")
    if state.exists():
        shutil.copy(state, target.with_name(target.name + ".ship24.json"))
    return target


def _registered(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM registration WHERE state = 'registered'").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def demo_dbs(tmp_path_factory):
    """Demo databases to run the commands on: `scanned` (shipments wait for Ship24), `registered` (some
    registered, to refresh)."""
    base = tmp_path_factory.mktemp("demo")
    scanned = base / "scanned.sqlite3"
    _run(["scan", "--demo", "--db", str(scanned), "--extractor", "rules"], base)
    registered = _copy_demo_db(scanned, base / "registered.sqlite3")
    # The demo's Ship24 paces registrations: a dozen are enough, then Ctrl-C ends the retry in order.
    marker, retry = _start(["retry", "--all", "--demo", "--db", str(registered)], base)
    try:
        wait_until(lambda: _registered(registered) >= 12, START_TIMEOUT, "a dozen registrations")
        retry.send_signal(signal.SIGINT)
        retry.wait(timeout=60)
    finally:
        kill_tree(marker)
    return {"empty": None, "scanned": scanned, "registered": registered}


@pytest.mark.parametrize(("command", "db"), [
    (["scan", "--extractor", "rules"], "empty"),
    (["retry", "--all"], "scanned"),
    (["status", "--refresh"], "registered"),
], ids=["scan", "retry", "status --refresh"])
def test_sigkilled_command_leaves_no_process_behind(command, db, demo_dbs, tmp_path, started):
    path = tmp_path / "shipscan.sqlite3"
    if demo_dbs[db] is not None:
        _copy_demo_db(demo_dbs[db], path)
    marker, process = started([*command, "--demo", "--db", str(path)], tmp_path)
    # Services are open (and any child started) once the database is: kill it there, mid-work.
    wait_until(lambda: holds_open(process.pid, path) or process.poll() is not None, START_TIMEOUT,
               "the command to open its database")
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL, "the command ended before it could be killed"
    assert leftovers(marker) == []
