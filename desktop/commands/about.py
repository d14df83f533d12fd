"""`shipscan about [--json]`: version, build date, Python and Qt, file locations, keyring backend, licences.

What support asks first, and what the bundle's smoke test reads (tests/tools/smoke_bundle.py): with --json,
ONE object on stdout, the keys of `desktop.buildinfo.report()` (version, build_date, frozen, python,
platform, qt, pyside6, files{database, demo_database, settings, logs}, keyring{backend, name, usable},
licences[{name, version, licence, files}]). Exit 0.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "about", parents=[common], help="version, build, file locations, keyring and licences",
        description="Print what this Shipscan is: its version and build date, Python and Qt versions, where "
                    "its database, settings and logs live, the keyring backend it found, and the licences "
                    "of the libraries it bundles.")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from desktop import buildinfo

    data = buildinfo.report()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for line in text_lines(data):
        print(line)
    return 0


def text_lines(data: dict[str, Any]) -> list[str]:
    """The report as the lines a person reads."""
    keyring = data["keyring"]
    lines = [f"shipscan {data['version']}" + (f", built {data['build_date']}" if data.get("build_date") else
                                              " (not a bundle: run from Python)"),
             f"Python {data['python']}, Qt {data.get('qt')}, PySide6 {data.get('pyside6')} on {data['platform']}",
             f"keyring: {keyring['backend']} ({'usable' if keyring['usable'] else 'cannot store keys'})"]
    lines += [f"{name.replace('_', ' ')}: {path}" for name, path in data["files"].items()]
    lines.append(f"licences ({len(data['licences'])} components):")
    lines += [f"  {lic['name']} {lic['version']}: {lic['licence']}" for lic in data["licences"]]
    return lines
