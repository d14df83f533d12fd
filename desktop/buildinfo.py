"""What this Shipscan is: version, build, Python and Qt, where its files live, its keyring, its licences.

One source for the About box (`desktop.gui.about`), `shipscan about [--json]` and the bundle's smoke test.
No Qt at import time (the Qt version is read only when asked for), so the command-line tools stay light.

Contracts:
- `__version__` (desktop/__init__.py) is the only place the version is written; everything here reads it.
- In a PyInstaller bundle, `build.spec` writes `BUILD_INFO_FILE` (version, build date, Python, platform)
  and `licenses/` (one folder per bundled distribution with its licence texts, plus `THIRD-PARTY.json`)
  into the bundle; `build_info()` and `licences()` read them there. From a checkout or a wheel they are
  computed from the installed distributions' metadata instead, so both views list the same libraries.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from desktop import __version__

#: Written by build.spec into the bundle's root (`sys._MEIPASS`).
BUILD_INFO_FILE = "build-info.json"
#: The bundle's folder of licence texts (`sys._MEIPASS/licenses`), with this index inside.
LICENCES_DIR = "licenses"
LICENCES_INDEX = "THIRD-PARTY.json"
#: The distribution whose runtime requirements are the bundled libraries.
DISTRIBUTION = "shipscan"
#: Shipped in resources/licenses: PySide6's wheels carry no licence text, and LGPL-3.0 requires both.
QT_LICENCE_FILES = ("LGPL-3.0.txt", "GPL-3.0.txt")
QT_DISTRIBUTIONS = ("pyside6-essentials", "pyside6", "shiboken6")
QT_NOTE = ("Qt and Qt for Python (PySide6, shiboken6) are used under the GNU LGPL v3. In this folder-style "
           "bundle Qt's libraries are ordinary files (_internal/PySide6/Qt/lib and the PySide6 modules): you "
           "may replace them with your own compatible build of the same Qt version.")
_LICENCE_NAME = re.compile(r"(licen[cs]e|copying|notice)", re.IGNORECASE)


@dataclass(frozen=True)
class Licence:
    """One bundled library: its licence (an SPDX expression or a short name) and the texts shipped with it."""

    name: str
    version: str
    licence: str
    files: tuple[str, ...] = field(default=())


def frozen_root() -> Path | None:
    """The bundle's data folder (`sys._MEIPASS`) when running from a PyInstaller bundle, else None."""
    root = getattr(sys, "_MEIPASS", None)
    return Path(root) if root else None


def build_info() -> dict[str, Any]:
    """{"version", "build_date", "frozen", "python", "platform"}; build_date is None outside a bundle."""
    info: dict[str, Any] = {"version": __version__, "build_date": None, "frozen": frozen_root() is not None,
                            "python": platform.python_version(), "platform": f"{sys.platform}-{platform.machine()}"}
    root = frozen_root()
    if root is not None:
        try:
            stored = json.loads((root / BUILD_INFO_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}
        info["build_date"] = stored.get("build_date")
        if stored.get("version") not in (None, __version__):  # a bundle assembled from mixed builds
            info["build_version_mismatch"] = stored.get("version")
    return info


def qt_versions() -> dict[str, str]:
    """{"qt": runtime Qt version, "pyside6": PySide6 version}; imports QtCore."""
    import PySide6
    from PySide6 import QtCore

    return {"qt": QtCore.qVersion(), "pyside6": PySide6.__version__}


def keyring_backend() -> dict[str, Any]:
    """The keyring backend this process found: {"backend": "module.Class", "name", "usable"}.

    usable is False for the 'fail' and 'null' backends and plain-text files (desktop.secrets refuses those).
    """
    import os

    import keyring

    from desktop import secrets

    try:
        backend = keyring.get_keyring()
        usable = secrets.keyring_available()
    except Exception as exc:  # noqa: BLE001 - e.g. PYTHON_KEYRING_BACKEND names a backend that cannot run here
        return {"backend": os.environ.get("PYTHON_KEYRING_BACKEND") or "none", "name": "unavailable",
                "usable": False, "error": f"{type(exc).__name__}: {exc}"}
    kind = type(backend)
    return {"backend": f"{kind.__module__}.{kind.__qualname__}", "name": getattr(backend, "name", kind.__name__),
            "usable": usable}


def file_locations() -> dict[str, str]:
    """Where the database (default and demo), the settings and the logs live on this machine."""
    from desktop import paths

    return {"database": str(paths.default_db_path()), "demo_database": str(paths.demo_db_path()),
            "settings": str(paths.config_dir() / "settings.json"), "logs": str(paths.log_dir())}


def licences() -> list[Licence]:
    """Every bundled library with its licence: Python, then the runtime requirements, sorted by name."""
    root = frozen_root()
    if root is not None:
        try:
            raw = json.loads((root / LICENCES_DIR / LICENCES_INDEX).read_text(encoding="utf-8"))
            return [Licence(d["name"], d["version"], d["licence"], tuple(d.get("files", ()))) for d in raw]
        except (OSError, ValueError, KeyError, TypeError):
            return []
    return [python_licence(), *sorted(_distribution_licences(), key=lambda lic: lic.name.lower())]


def python_licence() -> Licence:
    return Licence("Python", platform.python_version(), "PSF-2.0", ("Python/LICENSE.txt",))


def python_licence_text() -> Path | None:
    """The interpreter's LICENSE.txt (pyenv, python.org and Debian builds keep it in the stdlib folder)."""
    for folder in (Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}",
                   Path(sys.base_prefix)):
        for name in ("LICENSE.txt", "LICENSE"):
            if (folder / name).is_file():
                return folder / name
    return None


def runtime_distributions(root: str = DISTRIBUTION) -> list[metadata.Distribution]:
    """`root`'s runtime requirements and theirs (no extras), as installed here; `root` itself excluded."""
    seen: dict[str, metadata.Distribution] = {}
    pending = _requirement_names(root)
    while pending:
        name = pending.pop()
        key = _normalise(name)
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python (its marker is not ours)
        seen[key] = dist
        pending.extend(_requirement_names(name))
    return list(seen.values())


def _requirement_names(name: str) -> list[str]:
    """Names of `name`'s requirements that apply here: no extras; markers evaluated where `packaging` is."""
    try:
        requires = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for line in requires:
        if "extra ==" in line.replace("extra==", "extra =="):
            continue
        if ";" in line and not _marker_applies(line.split(";", 1)[1]):
            continue
        names.append(re.split(r"[\s<>=!~;\[(]", line.strip(), maxsplit=1)[0])
    return names


def _marker_applies(marker: str) -> bool:
    try:
        from packaging.markers import Marker
    except ImportError:  # without packaging, keep it: a distribution that is not installed is skipped anyway
        return True
    try:
        return Marker(marker.strip()).evaluate()
    except Exception:  # noqa: BLE001 - a marker packaging cannot read: keep the requirement
        return True


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution_licences() -> list[Licence]:
    return [distribution_licence(dist) for dist in runtime_distributions()]


def distribution_licence(dist: metadata.Distribution) -> Licence:
    """`dist` as a Licence; its files are named as build.spec lays them out: `<name>/<file>`, and Qt's
    distributions (whose wheels carry no text) get `Qt/<the LGPL and GPL texts>`."""
    name = dist.metadata["Name"]
    files = [f"{name}/{Path(str(f)).name}" for f in licence_files(dist)]
    if _normalise(name) in QT_DISTRIBUTIONS and not files:
        files = [f"Qt/{text}" for text in QT_LICENCE_FILES]
    return Licence(name, dist.version, licence_of(dist), tuple(files))


def licence_files(dist: metadata.Distribution) -> list[metadata.PackagePath]:
    """The licence/copying/notice files inside a distribution's metadata folder."""
    return [f for f in dist.files or () if ".dist-info" in str(f) and _LICENCE_NAME.search(f.name)]


def licence_of(dist: metadata.Distribution) -> str:
    """SPDX expression, else the short License field, else the licence classifier, else a guess from the text."""
    meta = dist.metadata
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    short = (meta.get("License") or "").strip()
    if short and "\n" not in short and len(short) <= 80:
        return short
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or () if c.startswith("License ::")]
    if classifiers:
        return " OR ".join(classifiers)
    return _guess_from_text(dist)


def _guess_from_text(dist: metadata.Distribution) -> str:
    for path in licence_files(dist):
        try:
            text = Path(str(dist.locate_file(path))).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "Permission is hereby granted, free of charge" in text:
            return "MIT"
        if "Redistribution and use in source and binary forms" in text:
            return "BSD"
        if "Apache License" in text:
            return "Apache-2.0"
    return "see the licence text"


def report() -> dict[str, Any]:
    """Everything above in one JSON-ready dict (what `shipscan about --json` prints)."""
    try:
        qt: dict[str, Any] = qt_versions()
    except ImportError as exc:  # a bundle without Qt is broken: say so rather than crash the report
        qt = {"qt": None, "pyside6": None, "qt_error": str(exc)}
    return {**build_info(), **qt, "files": file_locations(), "keyring": keyring_backend(),
            "licences": [asdict(lic) for lic in licences()]}
