"""Who acts (issue 16): the name from Settings, else the OS user; recorded on scan runs and review actions."""

from __future__ import annotations

import getpass
import json

import pytest

from desktop import settings as settings_mod
from desktop.store import actor, history_views, review, scans
from tests.helpers.registration import add_shipment, numbers


@pytest.fixture(autouse=True)
def _no_name():
    actor.set_name(None)
    yield
    actor.set_name(None)


def test_the_os_user_name_unless_a_name_is_set():
    assert actor.current() == getpass.getuser()
    actor.set_name("  Ann\n Lee ")
    assert actor.current() == "Ann Lee"           # one line, trimmed: it is shown in tables and --json
    actor.set_name("   ")
    assert actor.current() == getpass.getuser()   # blank: back to the OS user
    actor.set_name("x" * 500)
    assert len(actor.current()) == actor.MAX_LENGTH


def test_without_any_user_name_it_is_unknown(monkeypatch):
    def no_user():
        raise OSError("no username set in the environment")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert actor.current() == actor.UNKNOWN


def test_settings_keep_the_name_and_ignore_a_wrong_type(tmp_path):
    path = tmp_path / "settings.json"
    settings_mod.save(settings_mod.Settings(user_name="Ann"), path)
    assert settings_mod.load(path).user_name == "Ann"
    path.write_text('{"user_name": 7}', encoding="utf-8")
    actor.set_name(settings_mod.load(path).user_name)   # what `shipscan` does at start
    assert actor.current() == getpass.getuser()


def test_a_scan_run_records_who_started_it_and_each_resumed_part_keeps_its_own(db_both):
    actor.set_name("Ann")
    run = scans.start_run(since=0, until=10, inboxes=[], batch_size=5, concurrent_batches=1, extractor="rules",
                          rescan=False)
    assert run.started_by == "Ann"
    actor.set_name("Bob")
    scans.resume_run(run.id, batch_size=5, concurrent_batches=1, extractor="rules")
    parts = [v for v in history_views.runs() if v.id == run.id]
    assert sorted(v.started_by for v in parts) == ["Ann", "Bob"]
    assert next(v for v in parts if v.resumed_later).started_by == "Ann"


def test_review_actions_record_who_what_and_when(db_both):
    a, b = (add_shipment(n, review_state="pending") for n in numbers(2))
    actor.set_name("Ann")
    review.approve([a])
    actor.set_name("Bob")
    review.reject([b])
    review.edit(b, order_number="PO-9")
    review.approve([a])                       # unchanged (already approved): not logged
    last = history_views.last_reviews([a, b, 999])
    assert set(last) == {a, b}
    assert (last[a].actor, last[a].action) == ("Ann", "approve")
    assert (last[b].actor, last[b].action, last[b].note) == ("Bob", "edit", "order_number")
    assert last[b].at >= last[a].at > 0
    log = history_views.review_actions()
    assert [(r.actor, r.action, r.shipment_id) for r in log] == [("Bob", "edit", b), ("Bob", "reject", b),
                                                                  ("Ann", "approve", a)]
    assert log[0].tracking_number == numbers(2)[1]
    assert set(log[0].to_json()) >= {"at", "by", "action", "shipment_id", "tracking_number"}


def test_the_command_line_acts_as_the_settings_name_and_says_who_in_json(tmp_path, capsys):
    from desktop import cli
    from desktop.core import policy
    from desktop.store.db import close_database, open_database
    from desktop.store.tables import ShipmentRow

    settings_mod.save(settings_mod.Settings(user_name="Cleo"))   # the isolated home's settings file
    path = tmp_path / "cli.sqlite3"
    database = open_database(path)
    held = [add_shipment(n, review_state="pending", conversation_id="cnv_flood") for n in numbers(2)]
    ShipmentRow.update(flags=json.dumps([policy.GROUP_HOLD])).where(ShipmentRow.id.in_(held)).execute()
    close_database(database)
    assert cli.main(["queue", "--release", "cnv_flood", "--json", "--db", str(path)]) == 0
    released = json.loads(capsys.readouterr().out)
    assert released["by"] == "Cleo" and sorted(released["shipment_ids"]) == held
    assert cli.main(["queue", "--all", "--json", "--db", str(path)]) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    assert {(i["shipment_id"], i["last_review"]["by"], i["last_review"]["action"]) for i in items} == {
        (sid, "Cleo", "release") for sid in held}
