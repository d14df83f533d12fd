"""A small synthetic Front workspace for client/pipeline tests that need volume, not realistic mail.

Built straight from the simulator's dataclasses (no text generation), so 2,000 conversations cost
milliseconds. Conversation i has 1-3 messages; one has `huge` messages (message pagination); one is
merged into conversation 0. Every 7th conversation mentions a tracking number (`numbers[cid]`).
"""

from __future__ import annotations

import contextlib

from desktop.sim.workspace import SimConversation, SimInbox, SimMessage, Workspace

#: UPS-shaped numbers (only the first is known to carry a valid check digit): "the shipment" of a conversation.
UPS_NUMBERS = ("1Z999AA10123456784", "1Z12345E0205271688", "1Z12345E6605272234", "1Z12345E1505270452",
               "1Z12345E0305271640", "1Z12345E1305277940")


def synthetic_workspace(n: int, *, start: float = 1_750_000_000.0, span: float = 20 * 86400.0,
                        huge: int = 130) -> Workspace:
    inboxes = [SimInbox("inb_a", "Support"), SimInbox("inb_b", "Orders")]
    conversations: list[SimConversation] = []
    for i in range(n):
        cid = f"cnv_{i:05d}"
        count = huge if i == 1 else 1 + i % 3
        base = start + span * i / max(n, 1)
        messages = [_message(cid, j, base + 60.0 * j, i) for j in range(count)]
        conversations.append(SimConversation(
            id=cid, subject=f"Order question {i}", status="archived", inbox_ids=[inboxes[i % 2].id], tags=[],
            created_at=base, messages=messages, customer_name=f"Customer {i}",
            customer_handle=f"c{i}@example.com"))
    if n > 2:
        conversations.append(SimConversation(
            id="cnv_merged", subject="dup", status="archived", inbox_ids=["inb_a"], tags=[], created_at=start,
            messages=[], merged_into=conversations[0].id))
    return Workspace(seed=0, inboxes=inboxes, conversations=conversations,
                     truth={c.id: [] for c in conversations}, start=start, end=start + span + 86400.0)


def number_for(index: int) -> str | None:
    return UPS_NUMBERS[(index // 7) % len(UPS_NUMBERS)] if index % 7 == 0 else None


def _message(cid: str, j: int, at: float, index: int) -> SimMessage:
    number = number_for(index) if j == 0 else None
    text = f"Hello, about order {index}." + (f" Your UPS tracking number is {number}." if number else "")
    return SimMessage(id=f"msg_{cid[4:]}_{j:03d}", created_at=at, is_inbound=j % 2 == 0, author_name=None,
                      from_name="Customer", from_handle="c@example.com", to=[("Support", "s@example.com")],
                      subject="Order question", body_html=f"<p>{text}</p>", text=text, blurb=text[:40])


@contextlib.contextmanager
def front_server(conversations: int = 300, *, per_minute: int, window_seconds: float = 3.0,
                 latency_ms: float = 0.0):
    """A Front simulator over a synthetic workspace with a time-scaled budget and answers that take
    `latency_ms` (none by default); yields (server, workspace)."""
    from desktop.sim import SimConfig, SimServer
    from desktop.sim.front import FrontService

    workspace = synthetic_workspace(conversations)
    config = SimConfig.for_tests().front
    config.rate_limit_per_minute, config.window_seconds = per_minute, window_seconds
    config.latency.median_ms = latency_ms
    server = SimServer(FrontService(workspace, config)).start()
    try:
        yield server, workspace
    finally:
        server.stop()
