"""Edit -> Undo (Ctrl+Z): revert the last reject (Shipments) or dismiss (Retry queue).

The store does the work (`store.undo` through `ReviewApi.undo`): shipments changed since are left as they
are, and a registered tracker is never un-registered. This module reports the result in one line, refreshes
the tables and wakes the registration worker (an undone dismiss is queued again at once). Text fields keep
their own Ctrl+Z: Qt gives a focused line edit the key first.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

from desktop.gui.formats import plural


def add_undo_action(menu, bridge) -> QAction:
    """Add "Undo" to `menu`; its text names the action it would revert, updated as the menu opens."""
    action = menu.addAction("&Undo")
    action.setObjectName("undo")
    action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
    action.triggered.connect(lambda _=False: undo_last(bridge))

    def retitle() -> None:
        verb = bridge.review.can_undo
        action.setText(f"&Undo {verb.lower()}" if verb else "&Undo")

    menu.aboutToShow.connect(retitle)
    return action


def undo_last(bridge) -> bool:
    """Undo the last reject or dismiss; True when something was restored."""
    verb = bridge.review.can_undo
    results = bridge.review.undo()
    if not results:
        bridge.messages.info("Nothing to undo.")
        return False
    done = [r for r in results if r.ok and r.changed]
    left = [r for r in results if not r.ok]
    text = f"Undid {verb.lower()} of {plural(len(done), 'shipment')}."
    if left:
        text += f" {len(left):,} not restored: {left[0].message}"
    (bridge.messages.warning if left else bridge.messages.info)(text)
    if done:
        bridge.shipments_changed.emit()
        if bridge.worker is not None:
            bridge.worker.wake()
    return bool(done)
