"""FrontClient and token scopes, the count the estimate uses, and the latest conversation, against the
Front simulator on loopback (real HTTP)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from desktop.clients.errors import AuthError
from desktop.clients.front import FrontClient, MissingScope
from tests.helpers.synthetic import front_server, synthetic_workspace

TOKEN = "demo-front-token"
SCAN_TOKEN = "scan-only-token"


@pytest.fixture
def front_sim():
    """300 synthetic conversations, 150 in each of two inboxes; a scan-only token besides the demo one."""
    with front_server(per_minute=600) as running:
        running[0].config.extra_tokens = {SCAN_TOKEN: ["conversations:read", "messages:read"],
                                          "no-messages": ["conversations:read", "inboxes:read"]}
        yield running


def _run(server, token, action):
    async def main():
        async with FrontClient(server.url, token) as client:
            return await action(client), client
    return asyncio.run(main())


def test_a_scan_only_token_lists_and_reads_but_not_inboxes(front_sim):
    server, workspace = front_sim

    async def scan(client):
        refs = [ref async for page in client.search(workspace.start - 10, workspace.end) for ref in page]
        _resolved, messages = await client.conversation_messages(refs[0].id)
        return len(refs), len(messages)
    (listed, messages), client = _run(server, SCAN_TOKEN, scan)
    assert listed == 300 and messages >= 1 and client.refused_scope is None

    with pytest.raises(MissingScope) as refused:
        _run(server, SCAN_TOKEN, lambda c: c.inboxes())
    assert refused.value.scope == "inboxes:read" and refused.value.status == 403
    assert "Front token lacks the inboxes:read scope" in str(refused.value)
    assert isinstance(refused.value, AuthError) and refused.value.permanent


def test_without_messages_read_the_error_names_that_scope_and_is_remembered(front_sim):
    server, workspace = front_sim
    seen = {}

    async def read(client):
        seen["client"] = client
        page = await anext(client.search(workspace.start - 10, workspace.end))
        return await client.conversation_messages(page[0].id)
    with pytest.raises(MissingScope) as refused:
        _run(server, "no-messages", read)
    assert refused.value.scope == "messages:read"
    assert str(refused.value).startswith("front: HTTP 403: Front token lacks the messages:read scope")
    assert seen["client"].refused_scope == "messages:read"
    assert server.log.requests_by_route["GET /conversations/{id}/messages"] == 1   # a 403 is not retried


def test_count_covers_every_inbox_given(front_sim):
    """The estimate's count: 300 in all, 150 per inbox, so two inboxes ticked must give 300 (not 150)."""
    server, workspace = front_sim
    since, until = workspace.start - 10, workspace.end
    counts = {}
    for name, inboxes in (("all", ()), ("one", ("inb_a",)), ("both", ("inb_a", "inb_b"))):
        counts[name], _ = _run(server, TOKEN, lambda c, i=inboxes: c.count(since, until, i))
    assert counts == {"all": 300, "one": 150, "both": 300}


def test_count_does_not_count_a_conversation_in_two_inboxes_twice():
    from desktop.sim import SimConfig, SimServer
    from desktop.sim.front import FrontService

    workspace = synthetic_workspace(40)
    for conversation in workspace.conversations[:10]:   # ten conversations in both inboxes
        conversation.inbox_ids = ["inb_a", "inb_b"]
    config = dataclasses.replace(SimConfig.for_tests().front, rate_limits=False)
    server = SimServer(FrontService(workspace, config)).start()
    try:
        both, _ = _run(server, TOKEN, lambda c: c.count(workspace.start - 10, workspace.end, ("inb_a", "inb_b")))
        everything, _ = _run(server, TOKEN, lambda c: c.count(workspace.start - 10, workspace.end))
    finally:
        server.stop()
    assert both == everything == 40


def test_latest_conversation_is_the_most_recently_active(front_sim):
    server, workspace = front_sim
    latest, _ = _run(server, TOKEN, lambda c: c.latest_conversation())
    newest = max((c for c in workspace.conversations if c.messages and not c.merged_into),
                 key=lambda c: c.last_activity_at)
    assert latest is not None and latest.id == newest.id
