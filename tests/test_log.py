"""desktop.log's redactor: keys masked in every form they leak in, and nothing more than the keys."""

from __future__ import annotations

import pytest

from desktop import log, secrets


def test_a_word_pasted_next_to_a_refused_key_stays_readable():
    """Probe: a key pasted as "Bearer <key> Warehouse" was refused, and from then on every "Warehouse"
    (and every "Bearer ...") in any message was masked."""
    pasted = "Bearer kq7Tz91mPw04xR Warehouse"
    with pytest.raises(secrets.InvalidKey):
        secrets.validate_key("front", pasted, "FRONT_API_TOKEN")
    text = log.redact("Warehouse inbox: the key kq7Tz91mPw04xR was refused")
    assert text == "Warehouse inbox: the key *** was refused"


def test_every_piece_of_a_multi_line_key_is_still_masked():
    log.register_secrets("hL3vQ8nA2x\nWq5tY9cZ1m")
    out = log.redact("header b'hL3vQ8nA2x\\nWq5tY9cZ1m' then hL3vQ8nA2x alone and Wq5tY9cZ1m alone")
    assert "hL3vQ8nA2x" not in out and "Wq5tY9cZ1m" not in out


@pytest.mark.parametrize(("piece", "masked"), [
    ("Bearer", False), ("Warehouse", False), ("production", False), ("abc12", False),
    ("abcdefXYZ987", True), ("plantedKEYtail", True), ("a" * 20, True), ("token9", True)])
def test_key_like_tells_key_material_from_words(piece, masked):
    assert log.key_like(piece) is masked
