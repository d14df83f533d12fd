"""Help -> About and Help -> Documentation: what they show, from a checkout and from a (faked) bundle."""

from __future__ import annotations

import json
import sys

from PySide6.QtWidgets import QMainWindow, QMenu

from desktop import __version__, buildinfo
from desktop.gui import about


def _rows(table) -> list[tuple[str, str, str]]:
    return [tuple(table.item(r, c).text() for c in range(3)) for r in range(table.rowCount())]


def test_about_shows_version_runtimes_paths_keyring_and_licences(qtbot):
    facts = buildinfo.report()
    dialog = about.AboutDialog(facts, db_in_use="/tmp/in-use.sqlite3")
    qtbot.addWidget(dialog)
    text = dialog.summary.text()
    for expected in (f"Shipscan {__version__}", facts["python"], facts["qt"], "/tmp/in-use.sqlite3",
                     facts["files"]["database"], facts["files"]["logs"], facts["keyring"]["backend"],
                     "not a built bundle"):
        assert expected in text
    rows = {name: licence for name, _version, licence in _rows(dialog.licences)}
    assert rows["Python"] == "PSF-2.0"
    assert "LGPL-3.0" in rows["PySide6_Essentials"] and "LGPL-3.0" in rows["shiboken6"]
    assert {"openai", "qasync", "peewee", "keyring"} <= set(rows)
    assert "replace" in dialog.qt_note.text() and "LGPL" in dialog.qt_note.text()
    assert (dialog.licence_folder() / "LGPL-3.0.txt").is_file()


def test_about_in_a_bundle_reads_the_build_record_and_the_licence_index(qtbot, tmp_path, monkeypatch):
    (tmp_path / "build-info.json").write_text(json.dumps({"version": __version__, "build_date": "2026-12-06 10:00 UTC"}))
    (tmp_path / "licenses").mkdir()
    (tmp_path / "licenses" / "THIRD-PARTY.json").write_text(json.dumps(
        [{"name": "Qt-thing", "version": "6.0", "licence": "LGPL-3.0-only", "files": ["Qt/LGPL-3.0.txt"]}]))
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    dialog = about.AboutDialog(buildinfo.report())
    qtbot.addWidget(dialog)
    assert "built 2026-12-06 10:00 UTC" in dialog.summary.text()
    assert _rows(dialog.licences) == [("Qt-thing", "6.0", "LGPL-3.0-only")]
    assert dialog.licence_folder() == tmp_path / "licenses"


def test_documentation_renders_the_readme_with_its_screenshots(qtbot):
    text, base = about.documentation_source()
    assert text is not None and "# Shipscan" in text
    dialog = about.DocumentationDialog(text, base)
    qtbot.addWidget(dialog)
    shown = dialog.browser.toPlainText()
    assert "On a fresh machine" in shown and "# " not in shown.splitlines()[0]  # rendered, not raw
    image = about._as_image(dialog.browser.loadResource(2, "docs/screenshots/scan.png"))  # 2: ImageResource
    assert not image.isNull() and image.width() > about.IMAGE_WIDTH
    dialog.show()
    assert dialog.browser.horizontalScrollBar().maximum() == 0  # the screenshots are shown narrower


def test_documentation_in_a_bundle_is_the_bundled_copy(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("# Bundled copy\n")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert about.documentation_source() == ("# Bundled copy\n", tmp_path / "docs")


def test_the_help_menu_offers_documentation_and_about(qtbot, monkeypatch):
    window = QMainWindow()
    qtbot.addWidget(window)
    menu = QMenu("&Help", window)
    about.add_help_actions(window, menu)
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert set(actions) == {"&Documentation", "&About Shipscan"}
    opened = []
    monkeypatch.setattr(about.AboutDialog, "open", lambda self: opened.append(self))
    monkeypatch.setattr(about.DocumentationDialog, "open", lambda self: opened.append(self))
    actions["&About Shipscan"].trigger()
    actions["&Documentation"].trigger()
    assert [type(d) for d in opened] == [about.AboutDialog, about.DocumentationDialog]


def test_the_icon_ships_in_every_size(qapp):
    icon = about.app_icon()
    assert sorted(s.width() for s in icon.availableSizes()) == list(about.ICON_SIZES)


def test_the_main_window_has_them_in_its_help_menu(window):
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    texts = [a.text() for a in menus["&Help"].actions()]
    assert "&Documentation" in texts and "&About Shipscan" in texts
    assert "Where is the &log file?" in texts  # what was there stays
