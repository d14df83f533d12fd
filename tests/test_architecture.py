"""The layering rules: below the GUI nothing imports Qt, and the simulators stand apart from the product."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "desktop"
NO_QT = ("core", "clients", "store", "sim")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("sub", NO_QT)
def test_no_qt_import_below_the_gui(sub):
    offenders = [str(p.relative_to(PACKAGE)) for p in (PACKAGE / sub).rglob("*.py")
                 if any(n.split(".")[0] in ("PySide6", "qasync") for n in _imports(p))]
    assert offenders == []


def test_importing_the_core_loads_no_qt():
    modules = sorted(f"desktop.{sub}.{p.stem}" if p.stem != "__init__" else f"desktop.{sub}"
                     for sub in NO_QT for p in (PACKAGE / sub).glob("*.py"))
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'qasync')]\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_simulators_import_nothing_of_the_product():
    offenders = []
    for path in (PACKAGE / "sim").rglob("*.py"):
        for name in _imports(path):
            if name.startswith("desktop") and not name.startswith("desktop.sim"):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_command_line_tools_do_not_import_qt():
    code = ("import sys\nfrom desktop import cli\ncli.build_parser()\n"
            "print(','.join(m for m in sys.modules if m.startswith('PySide6')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_store_imports_nothing_of_the_core():
    """Issue 16: the core decides (review states, holds, caps, run states), the store stores what it is told."""
    offenders = [f"{path.name}: {name}" for path in (PACKAGE / "store").rglob("*.py")
                 for name in _imports(path) if name == "desktop.core" or name.startswith("desktop.core.")]
    assert offenders == []
