"""open_services: keys, endpoints, the database and the in-process demo simulators."""

from __future__ import annotations

import argparse
import asyncio

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
