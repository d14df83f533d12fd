"""Settings round-trip through JSON; endpoint environment variables override them."""

from __future__ import annotations

from dataclasses import replace

from desktop import settings


def test_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    custom = replace(settings.Settings(), model="gpt-x", front_budget_share=0.5, approve_all_by_hand=True)
    settings.save(custom, path)
    assert settings.load(path) == custom


def test_corrupt_or_unknown_fields_fall_back_to_defaults(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"model": "m", "nonsense": 1}')
    assert settings.load(path).model == "m"
    path.write_text("{not json")
    assert settings.load(path) == settings.Settings()


def test_env_overrides_endpoints(monkeypatch):
    monkeypatch.setenv("FRONT_API_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("SHIP24_API_URL", "http://127.0.0.1:8")
    applied = settings.Settings().with_env()
    assert applied.front_url == "http://127.0.0.1:9/"
    assert applied.ship24_url == "http://127.0.0.1:8"
    assert applied.openai_url == settings.OPENAI_DEFAULT_URL


def test_endpoints_from_the_environment_or_the_demo_are_never_saved(tmp_path, monkeypatch):
    """Issue 11 item 2: the file keeps the user's endpoints; a run-only one is marked with its source."""
    path = tmp_path / "settings.json"
    settings.save(replace(settings.Settings(), front_url="https://front.example.com"), path)
    monkeypatch.setenv("FRONT_API_URL", "http://127.0.0.1:9")
    running = settings.load(path).with_env()
    assert running.front_url == "http://127.0.0.1:9" and running.overridden("front_url") == "FRONT_API_URL"
    demo = running.with_runtime_endpoints("the demo", ship24_url="http://127.0.0.1:7")
    settings.save(replace(demo, model="gpt-x"), path)
    stored = settings.load(path)
    assert (stored.front_url, stored.ship24_url, stored.model) == (
        "https://front.example.com", settings.SHIP24_DEFAULT_URL, "gpt-x")
    assert "endpoint_overrides" not in path.read_text()
