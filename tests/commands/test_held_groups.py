"""Issue 13's done-when: the 3,000-line hostile conversation makes 0 automatic registrations and ONE review
item explaining why, in `shipscan queue` (text and --json), released or rejected only by a person."""

from __future__ import annotations

import json

import pytest

from desktop.core.policy import MAX_AUTO_PER_CONVERSATION
from desktop.store import outbox
from desktop.store.tables import RegistrationRow, ShipmentRow
from tests.helpers.hostile import commit_hostile_conversation
from tests.helpers.registration import add_shipment, numbers, open_tmp_db, ship24_sim, shipscan


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "shipscan.sqlite3"
    database = open_tmp_db(tmp_path)
    yield path
    database.close()


def test_the_hostile_conversation_is_one_review_item(db_path, capsys):
    """Probe: the held numbers were hundreds of review rows, one per number."""
    yielded = commit_hostile_conversation()
    ordinary = add_shipment(numbers(1)[0], review_state="pending", conversation_id="cnv_order")
    assert yielded > 100 and ShipmentRow.select().where(ShipmentRow.review_state == "auto").count() == 0

    assert shipscan(["queue", "--db", str(db_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    mentions = [line for line in lines if "cnv_hostile" in line and "candidate numbers held" in line]
    assert len(mentions) == 1, lines
    assert f"{yielded:,} candidate numbers held" in mentions[0]
    assert f"more than a plausible order (limit {MAX_AUTO_PER_CONVERSATION})" in mentions[0]
    item_lines = [line for line in lines if line.lstrip().startswith("#")]
    assert [line.split()[0] for line in item_lines] == [f"#{ordinary}"]   # the group's rows are not listed

    assert shipscan(["queue", "--json", "--db", str(db_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    (group,) = report["held_groups"]
    assert (group["conversation_id"], group["count"], group["limit"]) == ("cnv_hostile", yielded,
                                                                          MAX_AUTO_PER_CONVERSATION)
    assert len(group["shipment_ids"]) == yielded and group["reason"] == mentions[0].split(maxsplit=3)[3]
    # --json only extends: every outbox row is still an item, each naming its group.
    assert len(report["items"]) == yielded + 1
    assert {i["held_group"] for i in report["items"]} == {"cnv_hostile", None}


def test_retry_all_never_registers_a_held_group(db_path, capsys, monkeypatch):
    commit_hostile_conversation()
    with ship24_sim() as sim:
        monkeypatch.setenv("SHIP24_API_KEY", "apik_demo_key")
        monkeypatch.setenv("SHIP24_API_URL", sim.url)
        monkeypatch.setenv("FRONT_API_TOKEN", "unused-by-these-commands")
        shipscan(["retry", "--all", "--json", "--db", str(db_path)])
        capsys.readouterr()
        assert sim.log.create_requests == 0
    assert set(r.state for r in RegistrationRow.select()) == {outbox.WAITING_APPROVAL}


def test_a_person_releases_or_rejects_the_group_whole(db_path, capsys):
    yielded = commit_hostile_conversation("cnv_list")
    commit_hostile_conversation("cnv_spam")   # the same numbers: already known, so nothing new
    assert shipscan(["queue", "--reject", "cnv_nothing", "--db", str(db_path)]) == 1
    assert "no held group for conversation cnv_nothing" in capsys.readouterr().err
    assert shipscan(["queue", "--release", "cnv_list", "--json", "--db", str(db_path)]) == 0
    released = json.loads(capsys.readouterr().out)["shipment_ids"]
    assert len(released) == yielded
    assert {ShipmentRow.get_by_id(sid).review_state for sid in released} == {"approved"}
    assert {outbox.registration_for(sid).state for sid in released} == {outbox.QUEUED}
    assert shipscan(["queue", "--json", "--db", str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["held_groups"] == []


def test_reject_dismisses_every_member(db_path, capsys):
    yielded = commit_hostile_conversation()
    assert shipscan(["queue", "--reject", "cnv_hostile", "--db", str(db_path)]) == 0
    assert f"{yielded:,} shipments rejected" in capsys.readouterr().out
    assert {r.state for r in RegistrationRow.select()} == {outbox.DISMISSED}
    assert {s.review_state for s in ShipmentRow.select()} == {"rejected"}
