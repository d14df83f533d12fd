"""TEMPORARY stub (being replaced by the full generator): builds plain conversations without shipments."""

from __future__ import annotations

import random
import time

from desktop.sim.workspace import SimConversation, SimInbox, SimMessage, Workspace


def build_workspace(seed: int, conversations: int, end: float | None, days: int) -> Workspace:
    rng = random.Random(seed)
    if end is None:
        end = (int(time.time()) // 86400 + 1) * 86400.0
    start = end - days * 86400
    inboxes = [SimInbox("inb_1", "Support"), SimInbox("inb_2", "Orders")]
    convs = []
    for i in range(conversations):
        t = rng.uniform(start, end - 3600)
        msgs = [
            SimMessage(f"msg_{i}_{k}", t + k * 600, k % 2 == 0, None, "Ann", "ann@example.com",
                       [("Support", "support@shop.example")], f"Question {i}", f"<p>Hello {i}</p>",
                       f"Hello {i}", f"Hello {i}")
            for k in range(rng.randint(1, 8))
        ]
        convs.append(SimConversation(f"cnv_{i}", f"Question {i}", "open", [inboxes[i % 2].id], [], t, msgs,
                                     None, "Ann", "ann@example.com"))
    return Workspace(seed, inboxes, convs, {c.id: [] for c in convs}, start, end)
