"""Locating the project's shared research folder (`../shared` beside the repository).

Tests that read it must skip cleanly where it is absent (a clean clone elsewhere has no such folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path | None:
    """`$SHIPSCAN_SHARED` or `<repo>/../shared`, if it exists; else None."""
    env = os.environ.get("SHIPSCAN_SHARED")
    candidate = Path(env) if env else REPO_ROOT.parent / "shared"
    return candidate if candidate.is_dir() else None


def tracking_data_dir() -> Path:
    """The tracking_number_data folder, or skip the calling test when it is absent."""
    base = shared_dir()
    path = base / "tracking_number_data" if base else None
    if path is None or not path.is_dir():
        pytest.skip("../shared/tracking_number_data is not present on this machine")
    return path
