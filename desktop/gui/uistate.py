"""What the window remembers between sessions, and its first-start size.

Remembered: the window's geometry and state, the scan range (its preset, or the exact
dates), and the shipments view's filters, sort, column widths and pane split. It lives in a QSettings INI
file, `window.ini` in the user's config directory, next to the app's settings: layout only, never a key.
The demo has its own file (`window-demo.ini`), so the demo's filters never hide real shipments.

The first start (nothing remembered) sizes the window to fit the screen's free area: at most 1280 × 720,
so it fits a 1366 × 768 laptop screen with its task bar and the window's title bar.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtGui import QGuiApplication

#: The first-start size; smaller when the screen's free area is (`default_size`).
DEFAULT_SIZE = QSize(1280, 720)
#: Room left for the title bar and frame, which the free area still includes.
FRAME_ALLOWANCE = QSize(16, 40)


def open_state(demo: bool = False, path: Path | None = None) -> QSettings:
    """The QSettings file the window state lives in (the config directory unless `path` is given)."""
    if path is None:
        from desktop import paths

        path = paths.config_dir() / ("window-demo.ini" if demo else "window.ini")
    return QSettings(str(path), QSettings.Format.IniFormat)


def default_size(window) -> QSize:
    """DEFAULT_SIZE, shrunk to the free area of the screen the window is on (never below its minimum)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    size = QSize(DEFAULT_SIZE)
    if screen is not None:
        free = screen.availableGeometry().size() - FRAME_ALLOWANCE
        size = size.boundedTo(free)
    return size.expandedTo(window.minimumSizeHint())


def save(window, state: QSettings) -> None:
    """Write the window's geometry, scan range and shipments view to `state` (and flush it)."""
    state.setValue("window/geometry", window.saveGeometry())
    state.setValue("window/state", window.saveState())
    for key, value in window.scan_panel.range_state().items():
        state.setValue(f"scan/{key}", value)
    window.shipments.save_state(state)
    state.sync()


def restore_geometry(window, state: QSettings) -> bool:
    """Apply the remembered geometry; False (and the default size) when there is none."""
    geometry = state.value("window/geometry")
    if isinstance(geometry, QByteArray) and window.restoreGeometry(geometry):
        if isinstance(saved := state.value("window/state"), QByteArray):
            window.restoreState(saved)
        return True
    window.resize(default_size(window))
    return False


def restore_views(window, state: QSettings) -> None:
    """Apply the remembered scan range and shipments view (needs the database: call from start())."""
    window.scan_panel.restore_range({key: state.value(f"scan/{key}") for key in ("preset", "since", "until")})
    window.shipments.restore_state(state)
