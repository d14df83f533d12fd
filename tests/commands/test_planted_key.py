"""A key planted with a newline through the environment appears nowhere (issue 13, item 4): not in the
output of the commands that read keys, not in any file under the data, config, state (logs) and cache
folders nor beside the database. Real subprocesses against the simulators; the isolated XDG home comes
from tests/conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from tests.helpers.synthetic import synthetic_workspace

# Two distinctive halves, so a key cut at the newline is found too.
HEAD, TAIL = "plantedKEYhead7Q2", "plantedKEYtail9Z4"
PLANTED = f"{HEAD}\n{TAIL}"


def _shipscan(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def _files_holding(folder: Path, needles: tuple[str, ...]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n!r}" for n in needles if n.encode() in data]
    return found


def test_a_key_with_a_newline_is_refused_and_left_nowhere(tmp_path, _isolated_home):
    db = str(tmp_path / "db" / "s.sqlite3")
    with start_simulators(synthetic_workspace(10), SimConfig.for_tests()) as sims:
        base = {"FRONT_API_URL": sims.front_url, "OPENAI_BASE_URL": sims.openai_url,
                "SHIP24_API_URL": sims.ship24_url, "FRONT_API_TOKEN": DEMO_KEYS["front"],
                "OPENAI_API_KEY": DEMO_KEYS["openai"], "SHIP24_API_KEY": DEMO_KEYS["ship24"]}
        runs = []
        for variable in ("FRONT_API_TOKEN", "OPENAI_API_KEY", "SHIP24_API_KEY"):
            env = {**base, variable: PLANTED}
            runs.append(_shipscan("scan", "--since", "2020-01-01", "--json", "--db", db, env=env))
            runs.append(_shipscan("scan", "--since", "2020-01-01", "--db", db, "-v", env=env))
            runs.append(_shipscan("queue", "--db", db, env=env))
            runs.append(_shipscan("retry", "--all", "--db", db, env=env))
            runs.append(_shipscan("status", "--refresh", "--db", db, env=env))
    for done in runs:
        assert "Traceback" not in done.stderr, done.stderr
        for needle in (HEAD, TAIL):
            assert needle not in done.stdout + done.stderr, (done.args, done.stdout, done.stderr)
    # A key refused on entry is named by its variable, never shown.
    assert any("FRONT_API_TOKEN" in done.stderr for done in runs)
    leaks = _files_holding(_isolated_home, (HEAD, TAIL)) + _files_holding(tmp_path, (HEAD, TAIL))
    assert leaks == []
