"""Front token scopes in the app (issue 10): "Test connection" checks what a scan uses, names a missing
scope, and a token without `inboxes:read` still scans everything while the inbox list says why it is empty.

Real HTTP to the Front simulator; the window tests use the real main window on demo services whose Front
token carries only the scan's scopes.
"""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt

from desktop.core import events as ev
from desktop.gui.connection import test_connection as probe
from desktop.gui.messages import Messages
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from desktop.sim.workspace import generate_workspace
from tests.gui.conftest import fast_sim_config, run

SCAN_SCOPES = ["conversations:read", "messages:read"]
TOKENS = {"scan-only": SCAN_SCOPES, "no-messages": ["conversations:read", "inboxes:read"],
          "no-conversations": ["messages:read", "inboxes:read"]}


@pytest.fixture(scope="module")
def front():
    config = SimConfig.for_tests()
    config.front.extra_tokens = dict(TOKENS)
    with start_simulators(generate_workspace(seed=3, conversations=12), config) as sims:
        yield sims


def _probe(sims, key):
    return asyncio.run(probe("front", sims.front_url, key))


def test_a_token_with_the_scan_scopes_passes_and_the_inbox_list_is_said_optional(front):
    before = dict(front.front.log.requests_by_route)
    ok, message = _probe(front, "scan-only")
    assert ok, message
    assert "lacks inboxes:read" in message and "scans cover every inbox" in message
    used = {route: n - before.get(route, 0) for route, n in front.front.log.requests_by_route.items()}
    assert used["GET /conversations"] == 1 and used["GET /conversations/{id}/messages"] >= 1


def test_the_demo_token_passes_without_a_note(front):
    ok, message = _probe(front, DEMO_KEYS["front"])
    assert ok and message == "Connected: the key can list and read conversations."


@pytest.mark.parametrize(("key", "scope"), [("no-messages", "messages:read"),
                                            ("no-conversations", "conversations:read")])
def test_a_missing_scan_scope_fails_naming_it(front, key, scope):
    ok, message = _probe(front, key)
    assert not ok and message.startswith(f"Front token lacks the {scope} scope")


def test_a_wrong_token_is_refused(front):
    ok, message = _probe(front, "wrong-token")
    assert not ok and message == "The server refused the key (HTTP 401)."


# -- the window, with a token made for scanning only ------------------------------------------------------
@pytest.fixture
def scan_only_window(qloop, qtbot, tmp_path, small_workspace):
    from desktop.app import compose
    from desktop.services import open_services

    config = fast_sim_config()
    config.front.token_scopes = list(SCAN_SCOPES)     # the demo token, restricted to the scan's scopes
    manager = open_services(demo=True, db=tmp_path / "demo.sqlite3", sim_config=config, workspace=small_workspace)
    services = run(qtbot, manager.__aenter__())
    bridge, window = compose(services, Messages())
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(bridge.inboxes_unavailable, timeout=10_000):
        window.start()
    bridge.start_worker()
    yield window, services
    run(qtbot, bridge.aclose())
    run(qtbot, manager.__aexit__(None, None, None))


def test_without_inboxes_read_the_list_says_so_and_a_scan_covers_everything(scan_only_window, qtbot):
    window, services = scan_only_window
    bridge, panel = window.bridge, window.scan_panel
    assert panel.inbox_list.count() == 1
    note = panel.inbox_list.item(0)
    assert note.text() == ("Inboxes cannot be listed: the Front token lacks the inboxes:read scope. "
                           "A scan covers every inbox.")
    assert not note.flags() & Qt.ItemFlag.ItemIsUserCheckable and panel.selected_inboxes() == []

    with qtbot.waitSignal(bridge.connection_tested, timeout=10_000) as tested:
        bridge.test_connection("front", services.sims.front_url, DEMO_KEYS["front"])
    assert tested.args[1] is True, tested.args

    panel.extractor.setCurrentIndex(panel.extractor.findData("rules"))
    panel.apply_preset("7d")
    with qtbot.waitSignal(bridge.estimate_ready, timeout=10_000) as estimated:
        panel.request_estimate()
    assert estimated.args[0] is not None and estimated.args[0].conversations > 0
    with qtbot.waitSignal(bridge.run_finished, timeout=60_000) as finished:
        panel.start_button.click()
    summary = finished.args[0]
    assert finished.args[0].state == ev.RunState.COMPLETED, summary
    assert summary.summary["conversations_listed"] == estimated.args[0].conversations
    assert summary.summary["conversations_failed"] == 0
