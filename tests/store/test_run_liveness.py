"""Run liveness (issue 13, item 9): a run row belongs to a live process only if its pid still names the
same process, so a killed run is resumed by the next scan even when its pid lives on as a zombie or has
been reused by another process. Real processes, a real SQLite file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from desktop.core.events import RunState
from desktop.store import db as store_db
from desktop.store import scans
from desktop.store.tables import ScanRunRow

pytestmark = pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/stat"), reason="needs /proc")

PARAMS = dict(since=100.0, until=200.0, inboxes=("inb_a",), batch_size=50, concurrent_batches=3,
              extractor="rules", rescan=False)


@pytest.fixture
def sleeper():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def _run_owned_by(pid: int, started: str | None) -> int:
    run = scans.start_run(**PARAMS)
    ScanRunRow.update(pid=pid, pid_started=started).where(ScanRunRow.id == run.id).execute()
    return run.id


def test_a_run_of_a_live_process_stays_running(db, sleeper):
    _run_owned_by(sleeper.pid, scans.process_started(sleeper.pid))
    assert scans.mark_interrupted() == []
    assert scans.find_resumable(100.0, 200.0, ["inb_a"]) is None


def test_a_reused_pid_with_another_start_time_counts_as_interrupted(db, sleeper):
    started = scans.process_started(sleeper.pid)
    run_id = _run_owned_by(sleeper.pid, str(int(started) - 1000))      # the pid's earlier owner
    assert scans.mark_interrupted() == [run_id]
    assert scans.find_resumable(100.0, 200.0, ["inb_a"]).id == run_id


def test_this_process_pid_from_an_earlier_boot_or_process_counts_as_interrupted(db):
    run_id = _run_owned_by(os.getpid(), "1")
    assert scans.mark_interrupted() == [run_id]


def test_a_zombie_counts_as_interrupted(db):
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run = scans.start_run(**PARAMS)
        ScanRunRow.update(pid=process.pid).where(ScanRunRow.id == run.id).execute()
        run_id = run.id
        os.kill(process.pid, signal.SIGKILL)        # killed, and nobody has waited for it: a zombie
        deadline = time.monotonic() + 10
        while not _is_zombie(process.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert scans.mark_interrupted() == [run_id]
        assert scans.find_resumable(100.0, 200.0, ["inb_a"]).id == run_id
    finally:
        process.wait()


def _is_zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def test_a_new_run_records_its_start_time(db):
    run = scans.start_run(**PARAMS)
    assert run.pid == os.getpid() and run.pid_started == scans.process_started(os.getpid())
    assert scans.mark_interrupted() == []


def test_an_older_database_gains_the_column(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as con:       # a version-1 file: the scan_run table without pid_started
        con.execute("CREATE TABLE scan_run (id INTEGER PRIMARY KEY, started_at REAL, finished_at REAL,"
                    " since REAL, until REAL, inboxes TEXT, batch_size INTEGER, concurrent_batches INTEGER,"
                    " extractor TEXT, rescan INTEGER, state TEXT, counts TEXT, batches TEXT, error TEXT,"
                    " pid INTEGER)")
        con.execute("INSERT INTO scan_run (since, until, inboxes, batch_size, concurrent_batches, extractor,"
                    " rescan, state, counts, batches, pid) VALUES (1, 2, '[]', 5, 1, 'rules', 0, 'running',"
                    " '{}', '[]', 999999999)")
        con.execute("PRAGMA user_version = 1")
    database = store_db.open_database(path)
    try:
        columns = {row[1] for row in database.execute_sql("PRAGMA table_info(scan_run)").fetchall()}
        assert "pid_started" in columns
        assert scans.mark_interrupted() == [1]
        assert ScanRunRow.get_by_id(1).state == RunState.INTERRUPTED.value
    finally:
        store_db.close_database(database)
