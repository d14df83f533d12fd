"""Make the README's screenshots from the demo: the scan (mid-run), the shipments (also with a row's
right-click menu open) and the retry queue views.

Runs the real main window on the demo workspace (simulators in-process, a throw-away database), offscreen
by default (or under Xvfb with QT_QPA_PLATFORM=xcb), and saves PNGs:

    docs/screenshots/scan.png, docs/screenshots/shipments.png, docs/screenshots/context-menu.png,
    docs/screenshots/retry-queue.png

and, with `--extra`, the shots that compare a change before/after (issue 11): the window at its default
size (window-default.png), the shipments filtered down to one row after another row was selected, with
the date filter on (shipments-filtered.png), and the scan tab after a connection error followed by an
info message (errors.png).

Ship24's simulated quota is set low so that part of the registrations pause and the retry queue has
something to show. Run: python tests/tools/make_screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
sys.path.insert(0, str(REPO))

import PySide6  # noqa: E402,F401  -- before qasync
import qasync  # noqa: E402

SIZE = (1360, 860)


def sim_config():
    from desktop.services import demo_sim_config

    config = demo_sim_config()
    config.ship24.state_file = None  # a throw-away run: never touch the user's demo Ship24 state
    config.front.window_seconds = 2.0  # quicker than the demo, still visibly paced
    config.ship24.quota = 10  # run out part-way: the retry queue shows paused registrations
    return config


async def wait_for(predicate, timeout: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("the demo did not get there in time")
        await asyncio.sleep(0.05)


async def save(window, path: Path) -> None:
    # Let the loop paint first. Never call processEvents() here: inside a running task it would run other
    # tasks' callbacks re-entrantly ("Cannot enter into task ...") and lose them.
    await asyncio.sleep(0.3)
    window.grab().save(str(path))
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


async def shoot(out: Path, folder: Path, extra: bool = False) -> None:
    from desktop.app import compose
    from desktop.gui.messages import Messages
    from desktop.services import open_services

    async with open_services(demo=True, db=folder / "demo.sqlite3", sim_config=sim_config()) as svc:
        bridge, window = compose(svc, Messages())
        window.show()
        window.start()
        bridge.start_worker()
        panel = window.scan_panel
        await wait_for(lambda: panel.inbox_list.count() > 0)
        if extra:
            await save(window, out / "window-default.png")
        window.resize(*SIZE)
        panel.apply_preset("7d")
        panel.batch_size.setValue(10)
        panel.concurrent.setValue(3)
        estimated = asyncio.Event()
        bridge.estimate_ready.connect(lambda _e: estimated.set())
        panel.request_estimate()
        await asyncio.wait_for(estimated.wait(), 30)
        finished = asyncio.Event()
        bridge.run_finished.connect(lambda _e: finished.set())
        progress: list = []
        bridge.progress.connect(progress.append)
        panel.start_button.click()
        await wait_for(lambda: progress and progress[-1].listing_complete and progress[-1].done * 2 >= progress[-1].listed)
        await save(window, out / "scan.png")
        await asyncio.wait_for(finished.wait(), 300)
        # Registration runs on after the scan (on the store's thread): shoot the table once it has spent the
        # simulated plan, so the status tabs show registered shipments moving, not only "Not registered".
        await wait_for(lambda: _paused(), 60)
        window.tabs.setCurrentWidget(window.shipments)
        window.shipments.reload()
        window.shipments.wait()  # the table reads on its database worker
        _select_interesting_row(window.shipments)
        await save(window, out / "shipments.png")
        await _shoot_menu(window, out / "context-menu.png")
        if extra:
            await _shoot_filtered(window, out)
        window.tabs.setCurrentWidget(window.retries)
        window.retries.refresh()
        window.retries.wait()  # the queue reads on the database worker
        if window.retries.model.rowCount():
            window.retries.table.selectRow(0)
        await save(window, out / "retry-queue.png")
        if extra:
            await _shoot_errors(window, bridge, out)
        await bridge.aclose()
        window.hide()
        window.deleteLater()


async def _shoot_menu(window, path: Path) -> None:
    """The selected row's right-click menu, open over the shipments view.

    A menu is a window of its own, which `window.grab()` leaves out: it is painted onto the window's image
    where it stands on the screen."""
    from PySide6.QtGui import QPainter

    view = window.shipments
    ids = view.selected_ids()
    row = view.model.row_of(ids[0]) if ids else 0
    if row is None or view.model.rowCount() == 0:
        return
    pos = view.table.visualRect(view.model.index(row, 1)).center()
    menu = view.menu_actions.menu_at(pos)
    menu.popup(view.table.viewport().mapToGlobal(pos))
    menu.setActiveAction(menu.actions()[0])
    await asyncio.sleep(0.3)
    shot = window.grab()
    painter = QPainter(shot)
    painter.drawPixmap(window.mapFromGlobal(menu.pos()), menu.grab())
    painter.end()
    shot.save(str(path))
    menu.close()
    menu.deleteLater()
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


async def _shoot_filtered(window, out: Path) -> None:
    """Select one shipment, then filter down to ANOTHER single one (with the date filter on)."""
    view = window.shipments
    ids = view.model.ids()
    if len(ids) < 2:
        return
    view.select_ids([ids[0]], current=ids[0])
    other = view.model.row(view.model.row_of(ids[1]))
    view.date_check.setChecked(True)
    view.text_filter.setText(other.number)
    view.apply_filter()
    view.wait()
    await save(window, out / "shipments-filtered.png")
    view.text_filter.clear()
    view.date_check.setChecked(False)
    view.apply_filter()


async def _shoot_errors(window, bridge, out: Path) -> None:
    """What the agent sees after Front could not be reached, and one harmless message after it."""
    from desktop.core import events as ev

    window.tabs.setCurrentIndex(0)
    raw = "search: ConnectError: [Errno 111] Connection refused"
    bridge.error_reported.emit(ev.ErrorReported("scan", f"front: {raw}"))
    bridge.messages.error(f"The scan stopped: front: {raw}")
    bridge.messages.info("Tracking status: 12 checked, 0 changed.")
    banner = getattr(window, "banner", None)  # the error banner (issue 11): show its details too
    if banner is not None:
        banner.details_button.setChecked(True)
    await save(window, out / "errors.png")


def _paused() -> bool:
    from desktop.store import views

    return views.registration_counts().get("paused", 0) > 0


def _select_interesting_row(view) -> None:
    """A shipment a person should look at (flagged), else the first row, with its details shown."""
    from desktop.store import views

    ids = views.shipment_ids(views.ShipmentFilter(review="pending")) or view.model.ids()[:1]
    if ids:
        view.select_ids([ids[0]], current=ids[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--extra", action="store_true", help="also the before/after comparison shots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from desktop.app import make_application

    app = make_application()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(shoot(args.out.resolve(), Path(tmp), args.extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
