"""The estimate over several inboxes (issue 10): the real FrontClient against the Front simulator and a real
database; 300 conversations, 150 in each of two inboxes."""

from __future__ import annotations

import asyncio

from desktop.clients.front import FrontClient
from desktop.gui.estimate import estimate_scan
from desktop.settings import Settings
from tests.helpers.synthetic import front_server


def test_the_estimate_counts_every_selected_inbox(db):
    with front_server(per_minute=600) as (server, workspace):
        async def estimate(inboxes):
            async with FrontClient(server.url, "demo-front-token") as front:
                return await estimate_scan(front, Settings(), workspace.start - 10, workspace.end, inboxes,
                                           "rules")
        both = asyncio.run(estimate(("inb_a", "inb_b")))
        one = asyncio.run(estimate(("inb_b",)))
        everything = asyncio.run(estimate(()))
    assert (both.conversations, one.conversations, everything.conversations) == (300, 150, 300)
    assert both.to_scan == 300 and "300 conversations in range" in both.lines()[0]
    assert both.front_requests >= 300 + 2          # a listing per inbox, and every conversation read
