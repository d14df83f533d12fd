"""Build-time helpers for build.spec: which Qt pieces a bundle keeps, the build record, the licence folder.

Used only while building (build.spec excludes this module from the bundle) and by tests/test_packaging.py.
No Qt, no PyInstaller import: everything here works on plain paths and TOC-like tuples, so it can be tested
without building.

What a bundle keeps of Qt (see `keep`): QtCore/QtGui/QtWidgets/QtDBus and what they link; the platform
plugins offscreen, minimal and xcb (X11, and Wayland sessions through XWayland); image formats except
those needing a dropped library (pdf, svg); styles; the gtk3 and xdg-desktop-portal platform themes
(native file dialogs; they load only where the desktop has those libraries). Not: Qt Quick/QML, WebEngine,
3D, PDF, SVG, Network, the Wayland/EGLFS/VNC/linuxfb platforms, input-method and network plugins, and no
Qt translations: the app is English only and installs no QTranslator, so Qt would never load them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath

from desktop import __version__, buildinfo

#: Qt libraries (file-name stems contain one of these) that nothing in the app uses.
DROP_LIBS = ("Qt6Qml", "Qt6Quick", "Qt6Pdf", "Qt6VirtualKeyboard", "Qt6Svg", "Qt6Network", "Qt6Wayland",
             "Qt6WlShell", "Qt6EglFs", "Qt6OpenGL", "Qt6WebEngine", "Qt63D", "Qt6Multimedia", "Qt6Designer")
#: Plugin folders dropped whole.
DROP_PLUGIN_DIRS = ("platforminputcontexts", "wayland-", "egldeviceintegrations", "networkinformation", "tls",
                    "iconengines", "generic", "xcbglintegrations", "qmltooling", "sqldrivers", "designer",
                    "printsupport", "vectorimageformats", "qmllint", "multimedia", "position", "sceneparsers",
                    "renderers", "geometryloaders", "canbus", "sensors", "texttospeech", "webview")
#: Single plugins dropped (file-name stems start with one of these).
DROP_PLUGIN_FILES = ("libqpdf", "libqsvg", "libqwayland", "libqeglfs", "libqminimalegl", "libqvnc", "libqlinuxfb",
                     "libqvkkhrdisplay", "qpdf", "qsvg",
                     # GTK's theme: it would drag the build machine's GTK stack (cairo, pango, atk...) into
                     # the bundle to run against the user's own libgtk-3. Qt's Fusion style is used instead.
                     "libqgtk3")
#: Plugins the smoke test requires (platforms: file-name stems on Linux).
REQUIRED_PLATFORMS = ("libqoffscreen", "libqxcb")


def keep(dest: str) -> bool:
    """True when a bundle entry (its destination path inside the bundle) belongs in the bundle."""
    parts = PurePath(dest.replace("\\", "/")).parts
    name = parts[-1] if parts else ""
    if "translations" in parts and any(p in ("Qt", "PySide6") for p in parts):
        return False
    if any(drop.lower() in name.lower() for drop in DROP_LIBS):
        return False
    if "plugins" in parts:
        below = parts[parts.index("plugins") + 1:]
        if below and any(below[0].startswith(folder) for folder in DROP_PLUGIN_DIRS):
            return False
        if any(name.startswith(prefix) for prefix in DROP_PLUGIN_FILES):
            return False
    return True


def prune(binaries: list[tuple], needs: Callable[[str], set[str]]) -> tuple[list[tuple], list[tuple]]:
    """(kept, dropped) entries of PyInstaller's `a.binaries` ((dest, source, kind) tuples).

    Drops what `keep` refuses, and then the libraries only those pulled in: a library some dropped entry
    needs stays only if an entry that is kept for its own sake needs it too. `needs(source)` is the set of
    library file names a binary loads, transitively (ldd); libraries nobody dropped are never touched, so
    those PyInstaller found another way (ctypes) stay.
    """
    kept = [entry for entry in binaries if keep(entry[0])]
    dropped = [entry for entry in binaries if not keep(entry[0])]
    pulled = set().union(*(needs(entry[1]) for entry in dropped)) if dropped else set()
    roots = [entry for entry in kept if PurePath(entry[0]).name not in pulled]
    wanted = set().union(*(needs(entry[1]) for entry in roots)) if roots else set()
    orphans = [entry for entry in kept if PurePath(entry[0]).name in pulled and PurePath(entry[0]).name not in wanted]
    return [entry for entry in kept if entry not in orphans], dropped + orphans


def ldd_needs(source: str) -> set[str]:
    """File names of the libraries `source` loads (ldd: transitive); empty where there is no ldd."""
    out = _run(["ldd", source]) if shutil.which("ldd") else ""
    names = set()
    for line in out.splitlines():
        name = line.strip().split(" ", 1)[0]
        if name and not name.startswith(("linux-vdso", "/")):
            names.add(PurePath(name).name)
    return names


def build_record(target: Path) -> Path:
    """Write the bundle's build-info.json (version, UTC build date, Python, platform); returns its path.

    SOURCE_DATE_EPOCH, when set, fixes the date (reproducible builds).
    """
    stamp = float(os.environ.get("SOURCE_DATE_EPOCH") or time.time())
    info = {**buildinfo.build_info(), "build_date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp))}
    info.pop("frozen", None)
    target.mkdir(parents=True, exist_ok=True)
    path = target / buildinfo.BUILD_INFO_FILE
    path.write_text(json.dumps({**info, "version": __version__}, indent=2), encoding="utf-8")
    return path


def collect_licences(target: Path, repo: Path, system_libraries: Iterable[str] = ()) -> list[buildinfo.Licence]:
    """Fill `target` (the bundle's `licenses/`): one folder per component with its licence texts, a
    README.txt (what is LGPL and how to replace Qt) and THIRD-PARTY.json (what the About box lists).

    Components: Python, every runtime requirement of shipscan (from its installed metadata), Qt (the LGPL
    and GPL texts from resources/licenses) and, where dpkg knows them, the system libraries the bundle
    copied from the build machine (`system_libraries`: their source paths), with Debian's copyright file.

    Raises:
        FileNotFoundError: a licence text that must ship is missing (the Qt texts, Python's licence).
    """
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    python_text = buildinfo.python_licence_text()
    if python_text is None:
        raise FileNotFoundError("Python's LICENSE.txt was not found next to the standard library")
    _copy(python_text, target / "Python" / "LICENSE.txt")
    for text in buildinfo.QT_LICENCE_FILES:
        _copy(repo / "resources" / "licenses" / text, target / "Qt" / text)
    entries = [buildinfo.python_licence()]
    distributions = buildinfo.runtime_distributions()
    if not distributions:
        raise FileNotFoundError("shipscan's requirements were not found: install it first "
                                "(pip install -e '.[build]'), so its libraries' licences can be collected")
    for dist in distributions:
        entry = buildinfo.distribution_licence(dist)
        for source in buildinfo.licence_files(dist):
            _copy(Path(str(dist.locate_file(source))), target / entry.name / Path(str(source)).name)
        entries.append(entry)
    entries += _system_licences(target, system_libraries)
    (target / "README.txt").write_text(_readme(entries), encoding="utf-8")
    index = [{"name": e.name, "version": e.version, "licence": e.licence, "files": list(e.files)} for e in entries]
    (target / buildinfo.LICENCES_INDEX).write_text(json.dumps(index, indent=2), encoding="utf-8")
    return entries


def _copy(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)


def _system_licences(target: Path, libraries: Iterable[str]) -> list[buildinfo.Licence]:
    """Debian packages owning the bundled system libraries, with their copyright files (where dpkg exists)."""
    if shutil.which("dpkg-query") is None:
        return []
    packages: dict[str, str] = {}
    for library in sorted(set(libraries)):
        owner = _dpkg_owner(library)
        if owner:
            packages.setdefault(owner, library)
    entries = []
    for package in sorted(packages):
        copyright_file = Path("/usr/share/doc") / package.split(":")[0] / "copyright"
        if not copyright_file.is_file():
            continue
        name = package.split(":")[0]
        _copy(copyright_file, target / "system" / name / "copyright")
        version = _run(["dpkg-query", "-W", "-f=${Version}", package]) or "?"
        entries.append(buildinfo.Licence(f"{name} (system library)", version, _debian_licence(copyright_file),
                                         (f"system/{name}/copyright",)))
    return entries


def _dpkg_owner(library: str) -> str | None:
    real = os.path.realpath(library)
    for candidate in dict.fromkeys((library, real, re.sub(r"^/usr", "", real))):
        out = _run(["dpkg-query", "-S", candidate])
        if out:
            return out.split(":", 1)[0] if out.count(":") == 1 else ":".join(out.split(":")[:2])
    return None


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _debian_licence(path: Path) -> str:
    """The licences a machine-readable Debian copyright file names (its `License:` lines), joined."""
    names = re.findall(r"^License:\s*(\S[^\n]*)", path.read_text(encoding="utf-8", errors="replace"), re.M)
    # Keep identifiers ("GPL-2+", "BSD-3-clause or GPL-2"), not the prose some files put on that line.
    unique = list(dict.fromkeys(n.strip().rstrip(",") for n in names if len(n.split()) <= 8
                                and not re.search(r"\b(the|this|is|are|apply|under)\b", n, re.I)))
    return " AND ".join(unique[:4]) + (" AND ..." if len(unique) > 4 else "") if unique else "see copyright"


def _readme(entries: list[buildinfo.Licence]) -> str:
    lines = [f"Shipscan {__version__}: licences of the components in this bundle.", "", buildinfo.QT_NOTE, "",
             "Each folder holds a component's licence texts; THIRD-PARTY.json lists them all.", ""]
    lines += [f"{e.name} {e.version}: {e.licence}" for e in entries]
    return "\n".join(lines) + "\n"


def folder_size(path: Path) -> int:
    """Bytes on disk of every regular file below `path` (symlinks not followed, not counted twice)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
