"""What a plain (non-editable) install and the PyInstaller bundle ship, and a version that means something.

The bundle itself is built and run by `.ci/run` (tests/tools/smoke_bundle.py); these tests cover what can
be checked without building it: what build.spec keeps and drops, the build record, the licence folder,
the bundle's `--run-module` entry (the demo's simulators run through it), install.sh, and every place
that reads the version.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from desktop import __version__, buildinfo, bundling, frozen, paths

REPO = Path(__file__).resolve().parents[1]


def test_the_package_list_matches_the_source_tree():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "desktop").rglob("__init__.py")}
    listed = set(config["packages"]) - {"desktop._resources"}
    assert listed == on_disk
    assert config["package-dir"]["desktop._resources"] == "resources"


def test_the_prompt_is_found():
    assert paths.resource("prompts", "extract_shipments.md").is_file()


@pytest.mark.slow
def test_a_wheel_ships_the_resources(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    names = set(zipfile.ZipFile(next(tmp_path.glob("shipscan-*.whl"))).namelist())
    for resource in ("prompts/extract_shipments.md", "icons/shipscan-48.png", "icons/shipscan.ico",
                     "linux/shipscan.desktop", "linux/install.sh", "licenses/LGPL-3.0.txt"):
        assert f"desktop/_resources/{resource}" in names


# -- what build.spec keeps -----------------------------------------------------------------------------------

QT = "PySide6/Qt"


@pytest.mark.parametrize("dest", [
    f"{QT}/plugins/platforms/libqxcb.so", f"{QT}/plugins/platforms/libqoffscreen.so",
    f"{QT}/plugins/imageformats/libqjpeg.so", f"{QT}/plugins/imageformats/libqico.so",
    f"{QT}/plugins/styles/qmodernwindowsstyle.dll", f"{QT}/plugins/platformthemes/libqxdgdesktopportal.so",
    f"{QT}/lib/libQt6Widgets.so.6", f"{QT}/lib/libQt6DBus.so.6", f"{QT}/lib/libQt6XcbQpa.so.6",
    "libpython3.11.so.1.0", "resources/prompts/extract_shipments.md",
])
def test_the_bundle_keeps(dest):
    assert bundling.keep(dest)


@pytest.mark.parametrize("dest", [
    f"{QT}/translations/qtbase_de.qm", f"{QT}/translations/qtbase_en.qm", f"{QT}/lib/libQt6WebEngineCore.so.6",
    f"{QT}/lib/libQt63DCore.so.6", f"{QT}/lib/libQt6Quick.so.6", f"{QT}/lib/libQt6Network.so.6",
    f"{QT}/lib/libQt6EglFSDeviceIntegration.so.6", f"{QT}/plugins/platforms/libqwayland.so",
    f"{QT}/plugins/platforms/libqeglfs.so", f"{QT}/plugins/imageformats/libqsvg.so",
    f"{QT}/plugins/platformthemes/libqgtk3.so", f"{QT}/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so",
    f"{QT}/plugins/wayland-shell-integration/libxdg-shell.so", f"{QT}/plugins/tls/libqopensslbackend.so",
])
def test_the_bundle_drops(dest):
    assert not bundling.keep(dest)


def test_libraries_only_a_dropped_plugin_pulled_in_go_with_it():
    gtk = (f"{QT}/plugins/platformthemes/libqgtk3.so", "/site/libqgtk3.so", "BINARY")
    xcb = (f"{QT}/plugins/platforms/libqxcb.so", "/site/libqxcb.so", "BINARY")
    cairo, pango = ("libcairo.so.2", "/usr/lib/libcairo.so.2", "BINARY"), ("libpango.so", "/usr/lib/libpango.so", "BINARY")
    glib = ("libglib-2.0.so.0", "/usr/lib/libglib-2.0.so.0", "BINARY")    # gtk and xcb both need it
    ctypes_lib = ("libfoo.so", "/usr/lib/libfoo.so", "BINARY")            # found by PyInstaller, needed by nobody
    needs = {"/site/libqgtk3.so": {"libcairo.so.2", "libpango.so", "libglib-2.0.so.0"},
             "/site/libqxcb.so": {"libglib-2.0.so.0"}, "/usr/lib/libpango.so": {"libcairo.so.2"}}
    kept, dropped = bundling.prune([gtk, xcb, cairo, pango, glib, ctypes_lib], lambda src: needs.get(src, set()))
    assert kept == [xcb, glib, ctypes_lib]
    assert sorted(dropped) == sorted([gtk, cairo, pango])


def test_the_build_record_holds_the_version_and_a_reproducible_date(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796212800")
    record = json.loads(bundling.build_record(tmp_path).read_text())
    assert record["version"] == __version__ and record["build_date"] == "2026-12-02 12:00 UTC"
    assert record["python"] == buildinfo.build_info()["python"]


def test_the_licence_folder_has_every_component_and_qts_lgpl(tmp_path):
    entries = bundling.collect_licences(tmp_path / "licenses", REPO)
    index = json.loads((tmp_path / "licenses" / "THIRD-PARTY.json").read_text())
    names = {e["name"] for e in index}
    assert {"Python", "PySide6_Essentials", "shiboken6", "openai", "qasync", "keyring", "peewee"} <= names
    assert len(index) == len(entries)
    for entry in index:  # every text the index names is there, and every component has one
        assert entry["files"], f"{entry['name']} ships no licence text"
        for name in entry["files"]:
            assert (tmp_path / "licenses" / name).is_file(), name
    lgpl = (tmp_path / "licenses" / "Qt" / "LGPL-3.0.txt").read_text()
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in lgpl and "Version 3" in lgpl
    assert "replace" in (tmp_path / "licenses" / "README.txt").read_text()


def test_the_spec_names_files_that_exist():
    spec = (REPO / "build.spec").read_text(encoding="utf-8")
    named = re.findall(r'REPO((?: / "[^"]+")+)', spec)
    assert len(named) >= 6
    for chain in named:
        path = REPO.joinpath(*re.findall(r'"([^"]+)"', chain))
        assert (any(path.parent.glob(path.name)) if "*" in path.name else path.exists()), path
    assert '"desktop" / "frozen.py"' in spec


# -- the bundle's entry: `--run-module` --------------------------------------------------------------------

def _entry(*args: str) -> subprocess.CompletedProcess:
    """desktop.frozen.main as the bundle runs it (its own executable, argv after it)."""
    code = "import sys; from desktop.frozen import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=60)


def test_the_entry_runs_the_simulators_module_and_nothing_else():
    sims = _entry(frozen.RUN_MODULE_FLAG, "desktop.sim.process", "--help")
    assert sims.returncode == 0 and "python -m desktop.sim.process" in sims.stdout
    other = _entry(frozen.RUN_MODULE_FLAG, "os")
    assert other.returncode == 2 and "desktop.sim.process" in other.stderr
    plain = _entry("--version")
    assert plain.returncode == 0 and plain.stdout.strip() == f"shipscan {__version__}"


def test_a_frozen_app_starts_the_demo_simulators_through_its_own_executable(tmp_path, monkeypatch):
    """A bundle has no `python -m`: with `sys.frozen` set, the child is the executable itself."""
    from desktop.sim import process

    executable = tmp_path / "shipscan"  # stands in for the bundle's executable: runs desktop.frozen.main
    executable.write_text(f'#!/bin/sh\ncd "{REPO}" && exec "{sys.executable}" -c '
                          f'"import sys; from desktop.frozen import main; sys.exit(main())" "$@"\n')
    executable.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(executable))
    sims = process.start_simulators_process(seed=3, conversations=5, days=2, end=time.time())
    try:
        assert set(sims.urls) == {"front", "openai", "ship24"}
        assert sims.process.args[:3] == [str(executable), frozen.RUN_MODULE_FLAG, "desktop.sim.process"]
    finally:
        sims.stop()


# -- install.sh and the .desktop file ----------------------------------------------------------------------

def test_install_sh_installs_and_uninstalls_a_bundle(tmp_path):
    bundle = tmp_path / "unpacked" / "shipscan"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "_internal" / "resources").symlink_to(REPO / "resources")
    (bundle / "shipscan").write_text(f"#!/bin/sh\necho shipscan {__version__}\n")
    (bundle / "shipscan").chmod(0o755)
    (bundle / "install.sh").write_bytes((REPO / "resources" / "linux" / "install.sh").read_bytes())
    prefix = tmp_path / "prefix with space"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(["sh", str(bundle / "install.sh"), "--prefix", str(prefix)], capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert subprocess.run([str(prefix / "bin" / "shipscan"), "--version"], capture_output=True,
                          text=True).stdout.strip() == f"shipscan {__version__}"
    entry = (prefix / "share" / "applications" / "shipscan.desktop").read_text()
    assert f'Exec="{prefix}/lib/shipscan/shipscan"\n' in entry and f'Exec="{prefix}/lib/shipscan/shipscan" --demo' in entry
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        assert (prefix / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "shipscan.png").is_file()
    done = subprocess.run(["sh", str(bundle / "install.sh"), "--uninstall", "--prefix", str(prefix)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not (prefix / "lib" / "shipscan").exists() and not (prefix / "bin" / "shipscan").exists()
    assert not (prefix / "share" / "applications" / "shipscan.desktop").exists()


def test_install_sh_refuses_to_run_outside_a_bundle(tmp_path):
    script = tmp_path / "install.sh"
    script.write_bytes((REPO / "resources" / "linux" / "install.sh").read_bytes())
    done = subprocess.run(["sh", str(script), "--prefix", str(tmp_path / "p")], capture_output=True, text=True)
    assert done.returncode == 1 and "no executable 'shipscan'" in done.stderr


def test_the_desktop_entry_has_what_menus_need():
    entry = dict(line.split("=", 1) for line in (REPO / "resources" / "linux" / "shipscan.desktop").read_text()
                 .split("\n[Desktop Action")[0].splitlines()[1:] if "=" in line)
    assert entry["Type"] == "Application" and entry["Exec"] == "shipscan" and entry["Icon"] == "shipscan"
    assert entry["Name"] == "Shipscan" and entry["Categories"].endswith(";")


# -- a version that means something -------------------------------------------------------------------------

def test_the_version_is_written_once():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "desktop.__version__"}
    literal = re.compile(re.escape(f'"{__version__}"'))
    elsewhere = [str(p.relative_to(REPO)) for p in (REPO / "desktop").rglob("*.py")
                 if p.name != "__init__.py" and literal.search(p.read_text(encoding="utf-8"))]
    assert elsewhere == []


def test_the_release_notes_start_with_this_version():
    first = next(line for line in (REPO / "RELEASE-NOTES.md").read_text().splitlines() if line.startswith("## "))
    assert first.startswith(f"## {__version__} ")


def test_the_database_records_which_shipscan_created_and_last_opened_it(tmp_path):
    from desktop.store import db as store_db

    path = tmp_path / "s.sqlite3"
    store_db.close_database(store_db.open_database(path))
    with sqlite3.connect(path) as con:
        assert dict(con.execute("SELECT key, value FROM app_meta")) == {"created_by": __version__,
                                                                        "last_opened_by": __version__}
        con.execute("UPDATE app_meta SET value = '0.0.1'")          # as if an older shipscan made and used it
    database = store_db.open_database(path)
    assert store_db.app_versions(database) == {"created_by": "0.0.1", "last_opened_by": __version__}
    store_db.close_database(database)


def test_a_too_new_database_is_refused_naming_the_shipscan_that_wrote_it(tmp_path):
    from desktop.store import db as store_db

    path = tmp_path / "s.sqlite3"
    store_db.close_database(store_db.open_database(path))
    with sqlite3.connect(path) as con:
        con.execute("UPDATE app_meta SET value = '9.9.9' WHERE key = 'last_opened_by'")
        con.execute(f"PRAGMA user_version = {len(store_db.MIGRATIONS) + 1}")
    with pytest.raises(store_db.DatabaseTooNew, match="use shipscan 9.9.9"):
        store_db.open_database(path)


def test_the_settings_file_records_the_shipscan_that_saved_it(tmp_path):
    from desktop import settings

    path = tmp_path / "settings.json"
    settings.save(settings.Settings(), path)
    assert json.loads(path.read_text())["saved_by"] == __version__
    assert settings.load(path) == settings.Settings()


def test_about_json_reports_the_version_keyring_and_licences(tmp_path):
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    done = subprocess.run([sys.executable, "-m", "desktop", "about", "--json"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["version"] == __version__ and facts["frozen"] is False and facts["build_date"] is None
    assert facts["keyring"] == {"backend": "keyring.backends.null.Keyring", "name": facts["keyring"]["name"],
                                "usable": False}
    assert facts["qt"] and set(facts["files"]) == {"database", "demo_database", "settings", "logs"}
    assert any(lic["name"] == "PySide6_Essentials" and "LGPL" in lic["licence"] for lic in facts["licences"])
    text = subprocess.run([sys.executable, "-m", "desktop", "about"], capture_output=True, text=True, env=env,
                          timeout=60).stdout
    assert text.startswith(f"shipscan {__version__}") and "keyring.backends.null.Keyring" in text


def test_about_reports_a_keyring_backend_that_cannot_start_instead_of_crashing():
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.SecretService.Keyring"  # no D-Bus session: it cannot run
    done = subprocess.run([sys.executable, "-m", "desktop", "about", "--json"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    keyring = json.loads(done.stdout)["keyring"]
    assert keyring["backend"] == "keyring.backends.SecretService.Keyring" and keyring["usable"] is False
    assert "DBUS_SESSION_BUS_ADDRESS" in keyring["error"]
