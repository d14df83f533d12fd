"""Fixtures for the simulator tests: a small hand-built workspace with known timestamps, and running servers.

The hand-built workspace keeps these tests independent of the generator's details (tested by its own
suite): every time, id and tracking number here is known, so windows, bounds and pagination can be checked
exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from desktop.sim import DEMO_KEYS, SimConfig, Simulators, numbers, start_simulators
from desktop.sim.workspace import SimConversation, SimInbox, SimMessage, TruthShipment, Workspace

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
PLAIN = 120  # conversations cnv_t000 .. cnv_t119, conversation i active at T0 + i * 600


def _message(mid: str, at: float, inbound: bool, text: str, subject: str = "Order question") -> SimMessage:
    sender = ("Casey Customer", "casey@example.com") if inbound else ("Alex Agent", "support@shop.example")
    other = ("Alex Agent", "support@shop.example") if inbound else ("Casey Customer", "casey@example.com")
    return SimMessage(id=mid, created_at=at, is_inbound=inbound, author_name=None if inbound else sender[0],
                      from_name=sender[0], from_handle=sender[1], to=[other], subject=subject,
                      body_html=f"<div><p>{text}</p></div>", text=text, blurb=text[:40],
                      attachments=[{"id": "fil_1", "filename": "label.pdf", "content_type": "application/pdf",
                                    "size": 1200}] if "label" in text else [])


def build_tiny_workspace() -> Workspace:
    """120 plain conversations, a 150-message thread, a multi-day one, a merged one; shipments in every 7th."""
    rng = random.Random(5)
    conversations, truth = [], {}
    for i in range(PLAIN):
        cid, at = f"cnv_t{i:03d}", T0 + i * 600
        shipments = []
        text = f"Hello, where is my order {1000 + i}?"
        if i % 7 == 0:
            courier = ("ups", "fedex", "usps")[i % 3]
            number, shown = numbers.generate(courier, rng)
            text += f" The {numbers.CARRIER_NAMES[courier]} tracking number is {shown}."
            shipments.append(TruthShipment(cid, f"msg_t{i:03d}a", number, courier, numbers.CARRIER_NAMES[courier],
                                           order_number=str(1000 + i), shipped_date="2023-11-10"))
        if i == 5:
            text += " This looks like a lost shipment, see the label."
        messages = [_message(f"msg_t{i:03d}a", at, True, text)]
        if i % 3 == 0:
            messages.append(_message(f"msg_t{i:03d}b", at + 60, False, "We are looking into it."))
        status = ("archived", "assigned", "unassigned", "assigned")[i % 4]
        conversations.append(SimConversation(
            id=cid, subject=f"Order {1000 + i}", status=status,
            inbox_ids=["inb_support" if i % 2 == 0 else "inb_orders"], tags=["vip"] if i % 10 == 0 else [],
            created_at=at, messages=messages, customer_name="Casey Customer", customer_handle="casey@example.com"))
        truth[cid] = shipments
    long_msgs = [_message(f"msg_long{k:03d}", T0 + 100_000 + k * 30, k % 2 == 0, f"Update {k}") for k in range(150)]
    conversations.append(SimConversation("cnv_long", "Huge thread", "assigned", ["inb_support"], [],
                                         long_msgs[0].created_at, long_msgs))
    multi = [_message("msg_md1", T0 - 5 * 86400, True, "First contact"),
             _message("msg_md2", T0 + 2 * 86400 + 10, True, "Still waiting")]
    conversations.append(SimConversation("cnv_multiday", "Still waiting", "unassigned", ["inb_orders"], [],
                                         multi[0].created_at, multi))
    conversations.append(SimConversation("cnv_merged", "Dup", "archived", ["inb_orders"], [], T0, [],
                                         merged_into="cnv_t001"))
    for extra in ("cnv_long", "cnv_multiday", "cnv_merged"):
        truth[extra] = []
    inboxes = [SimInbox("inb_support", "Support"), SimInbox("inb_orders", "Orders")]
    return Workspace(seed=0, inboxes=inboxes, conversations=conversations, truth=truth,
                     start=T0 - 6 * 86400, end=T0 + 3 * 86400)


def test_config() -> SimConfig:
    """No latency; Front window scaled to 2 s so budget tests stay fast; generous budget for the rest."""
    cfg = SimConfig.for_tests()
    cfg.front.rate_limit_per_minute = 10_000
    cfg.front.window_seconds = 2.0
    cfg.front.per_conversation_per_second = 1000
    return cfg


@pytest.fixture(scope="module")
def tiny_ws() -> Workspace:
    return build_tiny_workspace()


@pytest.fixture(scope="module")
def sims(tiny_ws: Workspace) -> Iterator[Simulators]:
    """Module-scoped simulators with generous limits (tests needing limits use `make_sims`)."""
    with start_simulators(tiny_ws, test_config()) as running:
        yield running


@pytest.fixture
def make_sims(tiny_ws: Workspace) -> Iterator[Callable[[Callable[[SimConfig], Any]], Simulators]]:
    """Factory: `make_sims(lambda cfg: ...)` starts simulators with a tweaked test config (stopped after)."""
    started: list[Simulators] = []

    def make(tweak: Callable[[SimConfig], Any] = lambda cfg: None) -> Simulators:
        cfg = test_config()
        tweak(cfg)
        started.append(start_simulators(tiny_ws, cfg))
        return started[-1]
    yield make
    for running in started:
        running.stop()


class Http:
    """Builds httpx clients aimed at a simulator (the `http` fixture); closes them at teardown."""

    def __init__(self) -> None:
        self.opened: list[httpx.Client] = []

    def _client(self, base: str, token: str | None, **kw: Any) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        headers.update(kw.pop("headers", {}))
        self.opened.append(httpx.Client(base_url=base, headers=headers, timeout=kw.pop("timeout", 10.0), **kw))
        return self.opened[-1]

    def front(self, sims: Simulators, token: str | None = DEMO_KEYS["front"], **kw: Any) -> httpx.Client:
        return self._client(sims.front_url, token, **kw)

    def ship24(self, sims: Simulators, token: str | None = DEMO_KEYS["ship24"], **kw: Any) -> httpx.Client:
        return self._client(sims.ship24_url + "/public/v1", token, **kw)


@pytest.fixture
def http() -> Iterator[Http]:
    helper = Http()
    yield helper
    for client in helper.opened:
        client.close()
