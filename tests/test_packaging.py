"""What a plain (non-editable) install ships: every package, and the resources inside the package."""

from __future__ import annotations

import tomllib
from pathlib import Path

from desktop import paths

REPO = Path(__file__).resolve().parents[1]


def test_the_package_list_matches_the_source_tree():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "desktop").rglob("__init__.py")}
    listed = set(config["packages"]) - {"desktop._resources"}
    assert listed == on_disk
    assert config["package-dir"]["desktop._resources"] == "resources"


def test_the_prompt_is_found():
    assert paths.resource("prompts", "extract_shipments.md").is_file()
