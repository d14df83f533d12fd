"""Assembles the simulated workspace: conversations per scenario, timestamps, merges, the ground truth.

Scenario mix (weights): ~55 % of conversations hold shipments (carrier notices, customers asking and
agents answering, supplier notices, forwards, the shop's confirmations, wholesale threads); the rest are
returns, billing, product questions, address changes and mistyped numbers. One huge thread (>100
messages) exists when conversations >= 300, a few conversations are merged into others, and about one
in eight is long-lived (messages on several days across week boundaries).
"""

from __future__ import annotations

import random
import time

from desktop.sim import mail_text as mt
from desktop.sim.mail_carriers import Parcel
from desktop.sim.mail_conv import Conv
from desktop.sim.mail_scenarios import SCENARIOS, Scenario, huge_thread
from desktop.sim.mail_thread import assemble
from desktop.sim.workspace import SimConversation, SimInbox, SimMessage, TruthShipment, Workspace

DAY = 86400.0
INBOXES = (
    ("inb_3k9a1", "Support"),
    ("inb_3k9a2", "Orders"),
    ("inb_3k9a3", "Suppliers"),
    ("inb_3k9a4", "Wholesale"),
)
_STATUSES = (("archived", 0.55), ("assigned", 0.2), ("unassigned", 0.2), ("snoozed", 0.05))


def default_end() -> float:
    """Today 00:00 UTC + 1 day."""
    return (int(time.time()) // 86400 + 1) * DAY


def build_workspace(seed: int, conversations: int, end: float | None, days: int) -> Workspace:
    """See `desktop.sim.workspace.generate_workspace`."""
    end = float(end) if end is not None else default_end()
    start = end - days * DAY
    rng = random.Random(seed)
    builder = _Builder(rng, start, end)
    merged = max(2, conversations // 100) if conversations >= 20 else 0
    plain = conversations - merged - (1 if conversations >= 300 else 0)
    for _ in range(plain):
        builder.add(_pick_scenario(rng))
    if conversations >= 300:
        builder.add(huge_thread)
    convs = builder.conversations
    convs.extend(_merged(rng, convs, merged, start))
    convs.sort(key=lambda c: (c.created_at, c.id))
    inboxes = [SimInbox(i, n) for i, n in INBOXES]
    truth = {c.id: builder.truth.get(c.id, []) for c in convs}
    return Workspace(
        seed=seed,
        inboxes=inboxes,
        conversations=convs,
        truth=truth,
        start=start,
        end=end,
        decoys={cid: d for cid, d in builder.decoys.items() if d},
    )


def _pick_scenario(rng: random.Random) -> Scenario:
    names = list(SCENARIOS)
    return SCENARIOS[rng.choices(names, weights=[SCENARIOS[n].weight for n in names])[0]]


class _Builder:
    """Runs scenarios, gives ids and times, and derives the truth from what was written."""

    def __init__(self, rng: random.Random, start: float, end: float) -> None:
        self.rng = rng
        self.start, self.end = start, end
        self.used: set[str] = set()
        self.conversations: list[SimConversation] = []
        self.truth: dict[str, list[TruthShipment]] = {}
        self.decoys: dict[str, list[str]] = {}
        self._next_msg = rng.randint(0x10000000, 0x1FFFFFFF)
        self._next_conv = rng.randint(0x1000000, 0x1FFFFFF)

    def add(self, scenario: Scenario) -> None:
        conv = Conv(self.rng, self.used)
        scenario.build(conv)
        if not conv.drafts:
            return
        self._place_in_time(conv, long_lived=self.rng.random() < 0.13 or scenario is huge_thread)
        self._emit(conv)

    def _place_in_time(self, conv: Conv, long_lived: bool) -> None:
        """Give drafts increasing times inside the window (relative offsets scaled if needed)."""
        rng = self.rng
        window = self.end - self.start - 120
        count = len(conv.drafts)
        if count > 50:
            gaps = [rng.uniform(0.2, 1.8) * window / count for _ in range(count - 1)]
        elif long_lived:
            gaps = [rng.uniform(0.8, 5.0) * DAY for _ in range(count - 1)]
        else:
            gaps = [min(rng.expovariate(1 / 7200), 2 * DAY) + 90 for _ in range(count - 1)]
        span = sum(gaps)
        if span > window * 0.95:
            gaps = [g * window * 0.95 / span for g in gaps]
            span = sum(gaps)
        t = self.start + 60 + rng.uniform(0, window - span)
        for index, draft in enumerate(conv.drafts):
            draft.ts = t
            if index < len(gaps):
                t += gaps[index]

    def _emit(self, conv: Conv) -> None:
        conv_id = f"cnv_{self._next_conv:x}"
        self._next_conv += self.rng.randint(1, 9)
        messages: list[SimMessage] = []
        own: dict[str, tuple[str, str]] = {}
        protect = tuple(x for p in conv.parcels for x in (p.number, p.display))
        for draft in conv.drafts:
            conv.render(draft)  # texts may print dates, so they are written once times are final
            msg_id = f"msg_{self._next_msg:x}"
            self._next_msg += self.rng.randint(1, 5)
            quote = messages[-1] if draft.quote_previous and messages else None
            messages.append(assemble(draft, msg_id, quote, own, protect))
        status = self.rng.choices([s for s, _ in _STATUSES], weights=[w for _, w in _STATUSES])[0]
        sim = SimConversation(
            id=conv_id,
            subject=conv.subject,
            status=status,
            inbox_ids=[dict((n, i) for i, n in INBOXES)[conv.inbox]],
            tags=list(conv.tags),
            created_at=messages[0].created_at,
            messages=messages,
            customer_name=conv.customer[0],
            customer_handle=conv.customer[1],
        )
        self.conversations.append(sim)
        self.truth[conv_id] = [_truth(conv_id, parcel, messages) for parcel in conv.parcels]
        self.decoys[conv_id] = list(conv.decoys)


def _compact(text: str) -> str:
    return text.replace(" ", "").replace("-", "").upper()


def _truth(conv_id: str, parcel: Parcel, messages: list[SimMessage]) -> TruthShipment:
    """The shipment, attributed to the first message whose text carries the number."""
    for message in messages:
        if parcel.number in _compact(message.text):
            break
    else:
        raise AssertionError(f"{parcel.number} not written in {conv_id}")  # a generator bug, never data
    shown = parcel.shown
    return TruthShipment(
        conversation_id=conv_id,
        message_id=message.id,
        tracking_number=parcel.number,
        courier=parcel.courier,
        carrier=parcel.carrier,
        order_number=parcel.order_number if "order_number" in shown else None,
        supplier=parcel.supplier if "supplier" in shown else None,
        shipped_date=mt.iso_day(parcel.shipped_at) if "shipped_date" in shown and parcel.shipped_at else None,
        destination_country=parcel.country if "country" in shown else None,
        destination_postcode=parcel.postcode if "postcode" in shown else None,
    )


def _merged(
    rng: random.Random, convs: list[SimConversation], count: int, start: float
) -> list[SimConversation]:
    """Absorbed duplicates: `merged_into` names the survivor, which holds all the messages."""
    candidates = [c for c in convs if c.messages and c.customer_handle and len(c.messages) < 50]
    absorbed = []
    for index, survivor in enumerate(rng.sample(candidates, min(count, len(candidates)))):
        absorbed.append(
            SimConversation(
                id=f"cnv_{0xF000000 + index * 7:x}",
                subject=survivor.subject,
                status="archived",
                inbox_ids=list(survivor.inbox_ids),
                tags=[],
                created_at=max(start, survivor.created_at - 600),
                messages=[],
                merged_into=survivor.id,
                customer_name=survivor.customer_name,
                customer_handle=survivor.customer_handle,
            )
        )
    return absorbed
