"""open_services: keys, endpoints, the database and the in-process demo simulators."""

from __future__ import annotations

import argparse
import asyncio
import json

import pytest

from desktop import paths
from desktop.errors import ConfigurationError
from desktop.services import open_services
from desktop.sim import DEMO_KEYS


def _args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"demo": False, "db": None, **kw})


def test_missing_front_key_names_the_variable(tmp_path):
    async def main():
        async with open_services(_args(db=str(tmp_path / "x.sqlite3"))):
            pass

    with pytest.raises(ConfigurationError, match="FRONT_API_TOKEN"):
        asyncio.run(main())
    assert not (tmp_path / "x.sqlite3").exists()            # nothing opened for a bad configuration


def test_no_openai_key_means_rules_said_aloud(tmp_path, monkeypatch):
    monkeypatch.setenv("FRONT_API_TOKEN", "tok")
    monkeypatch.setenv("FRONT_API_URL", "http://127.0.0.1:9")

    async def main():
        async with open_services(_args(db=str(tmp_path / "x.sqlite3"))) as svc:
            extractor = svc.extractor("llm")
            return svc, extractor

    svc, extractor = asyncio.run(main())
    assert svc.llm is None and svc.ship24 is None and not svc.demo
    assert extractor.name == "rules"
    assert any("OPENAI_API_KEY" in notice and "rules" in notice for notice in svc.notices)
    assert svc.settings.front_url == "http://127.0.0.1:9" and svc.db_path == tmp_path / "x.sqlite3"


def test_demo_starts_the_simulators_with_the_demo_database():
    async def main():
        async with open_services(_args(demo=True)) as svc:
            inboxes = await svc.front.inboxes()
            return svc, inboxes, svc.extractor(None).name, svc.demo_range()

    svc, inboxes, extractor, (since, until) = asyncio.run(main())
    assert svc.demo and svc.keys.front == DEMO_KEYS["front"] and svc.llm is not None
    assert svc.settings.front_url.startswith("http://127.0.0.1:")
    assert svc.db_path == paths.demo_db_path() and svc.db_path.exists()
    assert inboxes and extractor == "llm"
    times = [m.created_at for c in svc.workspace.conversations for m in c.messages]
    assert since < min(times) and until > max(times)


def test_demo_ship24_state_file_sits_beside_the_database(tmp_path, monkeypatch):
    from desktop.services import demo_ship24_state_file, demo_sim_config

    assert demo_ship24_state_file() == paths.demo_db_path().with_name("demo-ship24.json")
    assert demo_sim_config().ship24.state_file == str(paths.demo_db_path().with_name("demo-ship24.json"))
    db = tmp_path / "mine.sqlite3"
    assert demo_sim_config(db).ship24.state_file == str(tmp_path / "mine.sqlite3.ship24.json")
    given = tmp_path / "sim.json"
    given.write_text('{"seed": 3}')
    monkeypatch.setenv("SHIPSCAN_SIM_CONFIG", str(given))
    assert demo_sim_config(db).ship24.state_file is None  # a given config is used as it is


def test_demo_trackers_outlive_the_run_that_registered_them(tmp_path, capsys):
    """Run 1 registers with `--demo --db X`; run 2 (new simulators, same X) still finds every tracker."""
    from tests.helpers.registration import add_shipment, numbers, open_tmp_db, shipscan

    db = tmp_path / "demo-test.sqlite3"
    database = open_tmp_db(tmp_path, db.name)
    ids = [add_shipment(n) for n in numbers(3, seed=31)]
    ids.append(add_shipment("SHIP24_SAMPLE_DELIVERED_004", courier_code=None))
    database.close()
    assert shipscan(["retry", "--all", "--demo", "--db", str(db), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert {i["state"] for i in first["items"]} == {"registered"} and len(first["items"]) == len(ids)
    assert (tmp_path / "demo-test.sqlite3.ship24.json").exists()

    assert shipscan(["status", "--refresh", "--demo", "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["refresh"]["errors"] == [] and report["refresh"]["failed"] == 0
    assert report["refresh"]["checked"] == len(ids)
    rows = {r["shipment_id"]: r for r in report["shipments"]}
    assert rows[ids[-1]]["milestone"] == "delivered"
    assert not paths.demo_db_path().with_name("demo-ship24.json").exists()  # the demo's own file untouched


def test_keys_never_reach_a_log_line_or_traceback(tmp_path, monkeypatch, caplog):
    """Keys loaded by the services are masked in messages and in formatted tracebacks."""
    import asyncio
    import logging

    from desktop import log as applog
    from desktop.services import open_services

    token = "front-token-" + "x" * 24   # no known key shape: only registration can mask it
    monkeypatch.setenv("FRONT_API_TOKEN", token)

    async def go():
        async with open_services(db=tmp_path / "k.sqlite3", require=("front",)):
            pass

    asyncio.run(go())
    setup = applog.setup(0, tmp_path / "logs")
    try:
        logger = logging.getLogger("shipscan.front")
        try:
            raise RuntimeError(f"request failed with Authorization: {token}")
        except RuntimeError:
            logger.error("calling Front with %s failed", token, exc_info=True)
        written = (tmp_path / "logs" / applog.LOG_FILE_NAME).read_text(encoding="utf-8")
        assert "calling Front with *** failed" in written
        assert "RuntimeError" in written and token not in written
        assert token not in setup.ring.text()
    finally:
        setup.close()


def test_the_window_keeps_fewer_front_requests_on_the_wire(tmp_path, monkeypatch):
    """The command line may have a whole scan window's Front requests on the wire; the window asks for
    `WINDOW_FRONT_IN_FLIGHT` (its loop also paints: a burst of 150 answers froze it, bench_gui.py)."""
    from desktop.app import WINDOW_FRONT_IN_FLIGHT
    from desktop.clients.front import MAX_IN_FLIGHT

    monkeypatch.setenv("FRONT_API_TOKEN", "tok")
    monkeypatch.setenv("FRONT_API_URL", "http://127.0.0.1:9")

    async def wire(**kw) -> int:
        async with open_services(_args(db=str(tmp_path / "x.sqlite3")), **kw) as svc:
            return svc.front._wire._value

    assert asyncio.run(wire()) == MAX_IN_FLIGHT > WINDOW_FRONT_IN_FLIGHT
    assert asyncio.run(wire(front_in_flight=WINDOW_FRONT_IN_FLIGHT)) == WINDOW_FRONT_IN_FLIGHT
