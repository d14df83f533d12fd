"""Two scans and a retry worker writing one database at once all finish (issue 13, item 3; SQLite file and
PostgreSQL, issue 16).

Real processes on a real file: each commits conversations (read then write) or claims and records
outbox attempts as fast as it can. Before `BEGIN IMMEDIATE`, the deferred read-then-write transaction of
`commit_conversation` failed at once with "database is locked" when another writer got in between.
"""

from __future__ import annotations

import subprocess
import sys

from desktop.store.db import close_database, open_database
from desktop.store.tables import RegistrationRow, ShipmentRow
from tests.helpers.pg import assert_kind

SCANNER = """
import sys
from desktop.domain import ConversationRef, ExtractedShipment, ExtractionResult
from desktop.store import scans
from desktop.store.db import open_database

open_database(sys.argv[1])
tag = sys.argv[2]
for i in range(150):
    ref = ConversationRef(id=f"cnv_{i}", subject="s", status="archived", inbox_ids=("inb",),
                          last_message_id=f"msg_{tag}_{i}", last_activity_at=1.0)
    number = f"SS{tag}{i:08d}"
    ship = ExtractedShipment(number, "ups", "UPS", "ups", 0.9, "UPS " + number, True)
    scans.commit_conversation(ref, run_id=None, result=ExtractionResult((ship,), "rules"))
"""

RETRIER = """
import sys, time
from desktop.store import outbox
from desktop.store.db import open_database

open_database(sys.argv[1])
end = time.monotonic() + 4
while time.monotonic() < end:
    outbox.retry_now(None, break_leases=True)
    for row in outbox.claim_due(outbox.utcnow(), limit=20):
        outbox.record_attempt(row.id, outcome="temporary", state="queued", kind="temporary", message="x")
"""


def test_two_scans_and_a_retry_worker_on_one_file_all_finish(db_target):
    path = db_target
    close_database(open_database(path))
    procs = [subprocess.Popen([sys.executable, "-c", SCANNER, str(path), tag], stderr=subprocess.PIPE)
             for tag in ("A", "B")]
    procs.append(subprocess.Popen([sys.executable, "-c", RETRIER, str(path)], stderr=subprocess.PIPE))
    results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]
    assert [code for code, _ in results] == [0, 0, 0], [err[-800:] for _, err in results]
    database = open_database(path)
    assert_kind(database, path)
    assert ShipmentRow.select().count() == RegistrationRow.select().count() == 300
    close_database(database)


def test_two_scans_and_a_retry_command_on_one_file_all_finish(db_target):
    """The done-when of issue 13 as a user runs it: `shipscan scan` twice and `shipscan retry --all`
    started together on one database (each with its own demo simulators), all exit 0."""
    import os

    db = str(db_target)
    env = {**os.environ, "SHIPSCAN_DB": db}
    commands = [["scan", "--demo", "--extractor", "rules", "--json", "--db", db],
                ["scan", "--demo", "--extractor", "rules", "--json", "--db", db],
                ["retry", "--all", "--demo", "--json", "--db", db]]
    started = [subprocess.Popen([sys.executable, "-m", "desktop", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env) for args in commands]
    results = [(process.wait(timeout=240), process.stderr.read()) for process in started]
    for process in started:
        process.stdout.close()
        process.stderr.close()
    assert [code for code, _ in results] == [0, 0, 0], results
    database = open_database(db)
    assert_kind(database, db)
    try:
        numbers = [row.tracking_number for row in ShipmentRow.select()]
        assert numbers and len(numbers) == len(set(numbers))            # nothing stored twice
        assert RegistrationRow.select().count() == len(numbers)         # one outbox row per shipment
    finally:
        close_database(database)
