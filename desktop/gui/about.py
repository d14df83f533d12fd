"""Help → About Shipscan and Help → Documentation.

About shows what `desktop.buildinfo.report()` knows: version and build date, Python, Qt and PySide6, where
the database (the one in use, the default, the demo's), the settings and the logs live, the keyring backend,
and the bundled libraries with their licences (Qt's LGPL note says how to replace Qt's libraries).

Documentation shows the README rendered from Markdown, offline: the copy inside the bundle
(`docs/README.md`), the checkout's README.md, or the installed package's description (a wheel carries the
README there). `DOCS_URL`, when set, is offered as "Open online" as well.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop import buildinfo, paths

#: The README's online home; None while the project has no public page (the bundled copy is shown).
DOCS_URL: str | None = None
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
#: The README's screenshots are 1280 px wide: shown at this width so the text needs no sideways scrolling.
IMAGE_WIDTH = 820


def app_icon() -> QIcon:
    """Shipscan's icon in every size that ships in resources/icons (empty if none is found)."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = paths.resource("icons", f"shipscan-{size}.png")
        if path.is_file():
            icon.addFile(str(path))
    return icon


def add_help_actions(window, menu: QMenu) -> None:
    """Add "Documentation" and "About Shipscan" to `menu`; `window` is the main window (its parent)."""
    docs = menu.addAction("&Documentation")
    docs.setShortcut("F1")
    docs.triggered.connect(lambda: show_documentation(window))
    menu.addSeparator()
    about = menu.addAction("&About Shipscan")
    about.setMenuRole(about.MenuRole.AboutRole)  # macOS moves it to the application menu
    about.triggered.connect(lambda: show_about(window))


def _db_in_use(window) -> str | None:
    services = getattr(getattr(window, "bridge", None), "services", None)
    path = getattr(services, "db_path", None)
    from desktop.store.postgres import redact_url  # a --db URL may carry a password: never shown

    return redact_url(str(path)) if path else None


def show_about(window) -> AboutDialog:
    dialog = AboutDialog(buildinfo.report(), db_in_use=_db_in_use(window), parent=window)
    dialog.open()
    return dialog


def show_documentation(window) -> QDialog | None:
    """The README in a window; with neither a copy nor DOCS_URL, the browser is not opened at all."""
    text, base = documentation_source()
    if text is None and DOCS_URL:
        QDesktopServices.openUrl(QUrl(DOCS_URL))
        return None
    dialog = DocumentationDialog(text, base, parent=window)
    dialog.open()
    return dialog


def documentation_source() -> tuple[str | None, Path | None]:
    """(README markdown, the folder its relative links start from); (None, None) when none is found."""
    root = buildinfo.frozen_root()
    candidates = [root / "docs" / "README.md"] if root else []
    candidates.append(Path(__file__).resolve().parents[2] / "README.md")  # a checkout
    for path in candidates:
        if path.is_file():
            return path.read_text(encoding="utf-8"), path.parent
    try:  # an installed wheel: the README is the package's long description
        description = metadata.metadata(buildinfo.DISTRIBUTION).get_payload()
    except metadata.PackageNotFoundError:
        description = None
    return (description or None), None


class AboutDialog(QDialog):
    """The About box. `facts` is `buildinfo.report()`; `db_in_use` the database this window works on."""

    def __init__(self, facts: dict, db_in_use: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Shipscan")
        self.setAccessibleName("About Shipscan")
        self.facts = facts
        layout = QVBoxLayout(self)
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        layout.addWidget(icon, alignment=Qt.AlignmentFlag.AlignHCenter)
        self.summary = QLabel(summary_html(facts, db_in_use))
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel(f"Bundled components ({len(facts['licences'])}):"))
        self.licences = licence_table(facts["licences"])
        layout.addWidget(self.licences, 1)
        self.qt_note = QLabel(buildinfo.QT_NOTE)
        self.qt_note.setWordWrap(True)
        layout.addWidget(self.qt_note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.texts_button = QPushButton("Licence &texts…")
        self.texts_button.clicked.connect(self.open_licence_texts)
        buttons.addButton(self.texts_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 620)

    def licence_folder(self) -> Path:
        """The bundle's licenses/ folder; from a checkout, resources/licenses (Qt's texts; the others are
        in each package's .dist-info folder)."""
        root = buildinfo.frozen_root()
        return root / buildinfo.LICENCES_DIR if root else paths.resource("licenses")

    def open_licence_texts(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.licence_folder())))


def summary_html(facts: dict, db_in_use: str | None) -> str:
    """Version, build, runtimes, keyring and file locations as the About box's rich text (escaped)."""
    from html import escape

    build = f"built {facts['build_date']}" if facts.get("build_date") else "run from Python (not a built bundle)"
    keyring = facts["keyring"]
    kept = "stores keys" if keyring["usable"] else "cannot store keys: use the environment variables"
    files = facts["files"]
    rows = [("Version", f"{facts['version']}, {build}"),
            ("Python", facts["python"]), ("Qt", f"{facts.get('qt')} (PySide6 {facts.get('pyside6')})"),
            ("Platform", facts["platform"]), ("Keyring", f"{keyring['backend']} ({kept})")]
    if db_in_use:
        rows.append(("Database in use", db_in_use))
    rows += [("Database", files["database"]), ("Demo database", files["demo_database"]),
             ("Settings", files["settings"]), ("Logs", files["logs"])]
    cells = "".join(f"<tr><td><b>{escape(k)}</b>&nbsp;</td><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return (f"<h2>Shipscan {escape(facts['version'])}</h2><p>Find the shipments in your Front conversations, "
            f"review them, and track them with Ship24.</p><table>{cells}</table>")


def licence_table(licences: list[dict]) -> QTableWidget:
    table = QTableWidget(len(licences), 3)
    table.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
    table.setAccessibleName("Bundled components and their licences")
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    for row, lic in enumerate(licences):
        for column, value in enumerate((lic["name"], lic["version"], lic["licence"])):
            table.setItem(row, column, QTableWidgetItem(value))
    table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
    table.resizeColumnsToContents()
    return table


class DocumentationDialog(QDialog):
    """The README rendered from Markdown; links open in the browser, images resolve against `base`."""

    def __init__(self, markdown: str | None, base: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shipscan documentation")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setAccessibleName("Documentation")
        if base is not None:
            self.browser.setSearchPaths([str(base)])
        self.browser.setMarkdown(markdown or "The documentation is not included in this installation.")
        _fit_images(self.browser, IMAGE_WIDTH)
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        if DOCS_URL:
            online = QPushButton("Open &online")
            online.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(DOCS_URL)))
            buttons.addButton(online, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(900, 760)


def _fit_images(browser: QTextBrowser, width: int) -> None:
    """Give every image wider than `width` that width (Qt keeps the aspect ratio when only width is set)."""
    from PySide6.QtGui import QTextCursor, QTextDocument

    document = browser.document()
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            if fmt.isImageFormat():
                image = fmt.toImageFormat()
                kind = QTextDocument.ResourceType.ImageResource.value
                natural = _as_image(document.resource(kind, QUrl(image.name())) or
                                    browser.loadResource(kind, QUrl(image.name())))
                if natural.width() > width:
                    image.setWidth(width)
                    image.setHeight(natural.height() * width / natural.width())
                    cursor = QTextCursor(document)
                    cursor.setPosition(fragment.position())
                    cursor.setPosition(fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor)
                    cursor.setCharFormat(image)
            it += 1
        block = block.next()


def _as_image(resource) -> QImage:
    """A text document's image resource (a QImage, a QPixmap or the file's bytes) as a QImage."""
    if isinstance(resource, QImage):
        return resource
    if isinstance(resource, QPixmap):
        return resource.toImage()
    if isinstance(resource, (QByteArray, bytes)):
        return QImage.fromData(resource)
    return QImage()
