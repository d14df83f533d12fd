"""Keys come from the environment or the OS keyring, never a file, and never show in a repr."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from desktop import secrets


def test_environment_wins_over_keyring(memory_keyring, monkeypatch):
    secrets.set_key("front", "from-keyring")
    assert secrets.get_key("front") == "from-keyring"
    monkeypatch.setenv("FRONT_API_TOKEN", "from-env")
    assert secrets.get_key("front") == "from-env"


def test_set_and_delete_round_trip(memory_keyring):
    secrets.set_key("ship24", "apik_x")
    assert memory_keyring.store[("shipscan", "ship24")] == "apik_x"
    secrets.set_key("ship24", None)
    assert secrets.get_key("ship24") is None


def test_no_keyring_backend_says_what_to_install():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        assert secrets.get_key("openai") is None
        with pytest.raises(secrets.KeyringUnavailable, match="Secret Service"):
            secrets.set_key("openai", "sk-test")
    finally:
        keyring.set_keyring(previous)


def test_repr_never_shows_a_key():
    keys = secrets.Keys(front="tok-123", openai=None, ship24="apik_secret")
    assert "tok-123" not in repr(keys) and "apik_secret" not in repr(keys)
    assert "front=set" in repr(keys) and "openai=not set" in repr(keys)


def test_unknown_service_is_refused():
    with pytest.raises(ValueError):
        secrets.get_key("gmail")
