"""Conversation scenarios: who writes what, in which order, carrying which parcels.

A scenario adds `Draft`s to a `Conv`; each draft has a `render` callback that writes its body once the
builder has fixed the message times (so dates in the text agree with the message dates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktop.sim import mail_people as mp
from desktop.sim import mail_text as mt
from desktop.sim.mail_carriers import carrier_notice, sender_of
from desktop.sim.mail_conv import (
    COURIER_WEIGHTS,
    DAY,
    ORDERS,
    PURCHASING,
    Conv,
    chatter,
    keep_subject,
    notice_draft,
    set_body,
    ship,
)
from desktop.sim.mail_thread import Draft, customer_signature, forward_doc
from desktop.sim.numbers import has_check_digit


# --- shipment scenarios -----------------------------------------------------------------------------
def carrier_notices(conv: Conv) -> None:
    rng = conv.rng
    conv.inbox, conv.tags = "Orders", ["carrier"]
    parcels = [conv.parcel()]
    if rng.random() < 0.15:
        parcels += [conv.parcel(parcels[0].courier) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.5:
        for parcel in parcels:
            parcel.order_number = mt.order_number(rng)
    conv.customer = sender_of(parcels[0])[:2]
    first = notice_draft(conv, parcels, "Northwind Outfitters", ORDERS)
    first.render = keep_subject(conv, first.render)
    for _ in range(rng.choice((0, 0, 1, 2))):  # later status updates repeat the same numbers
        notice_draft(conv, parcels, "Northwind Outfitters", ORDERS)


def wismo(conv: Conv) -> None:
    rng = conv.rng
    conv.inbox, conv.tags = "Support", ["wismo"]
    order = mt.order_number(rng)
    conv.subject = rng.choice(
        (
            f"Where is my order #{order}?",
            "Order status",
            f"Order {order} not received",
            "Has my order shipped?",
        )
    )
    mistyped = rng.random() < 0.12  # the customer first quotes a number with a wrong check digit
    count = 1 if mistyped else rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
    couriers = [None] * count if rng.random() < 0.5 else [rng.choice(list(COURIER_WEIGHTS))] * count
    parcels = [conv.parcel(c, order=order) for c in couriers]
    conv.draft(
        True,
        conv.customer,
        conv.subject,
        lambda d: set_body(
            d, mp.customer_where_is(rng, order, conv.first_name, d.ts - rng.uniform(3, 9) * DAY)
        ),
        signature=customer_signature(rng),
    )
    reply = f"Re: {conv.subject}"
    if mistyped and has_check_digit(parcels[0].number):

        def wrong(draft: Draft) -> None:
            doc, bad = mp.customer_wrong_number(rng, parcels[0].courier, conv.first_name)
            conv.decoys.append(bad)
            set_body(draft, doc)

        conv.draft(True, conv.customer, reply, wrong)
        conv.agent_draft(
            reply,
            lambda d: (
                ship(parcels, d.ts, rng),
                set_body(d, mp.agent_correction(rng, parcels[0], conv.first_name)),
            ),
        )
    else:
        conv.agent_draft(
            reply,
            lambda d: (
                ship(parcels, d.ts, rng),
                set_body(d, mp.agent_tracking_reply(rng, parcels, conv.first_name, order)),
            ),
        )
    chatter(conv, reply, rng.choices((0, 1, 2, 3, 4, 5, 6), weights=(30, 25, 20, 10, 7, 5, 3))[0])


def supplier(conv: Conv) -> None:
    rng = conv.rng
    conv.inbox, conv.tags = "Suppliers", ["supplier"]
    company = rng.choice(mt.SUPPLIERS)
    slug = company.split()[0].lower()
    contact = mt.person(rng)[0]
    conv.customer = (f"{contact} ({company})", f"shipping@{slug}.example")
    po = mt.po_number(rng)
    courier = rng.choice(("ups", "fedex", "fedex", "old_dominion", "dhl", "usps", "purolator", "canpar"))
    parcels = [conv.parcel(courier, order=po, supplier=company) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
    slip = {
        "id": f"fil_{rng.getrandbits(32):08x}",
        "filename": f"packing-slip-{po}.pdf",
        "content_type": "application/pdf",
        "size": rng.randint(20000, 90000),
        "metadata": {"is_inline": False},
    }

    def notice(draft: Draft) -> None:
        ship(parcels, draft.ts, rng)
        subject, doc = mp.supplier_notice(rng, parcels, company, po, contact)
        set_body(draft, doc, subject)
        conv.subject = subject

    conv.draft(True, conv.customer, "", notice, to=PURCHASING, attachments=[slip])
    if rng.random() < 0.5:
        conv.agent_draft(
            "Re: shipping notice",
            lambda d: set_body(
                d, mt.Doc().para(f"Thanks {contact.split()[0]}, noted. We'll confirm receipt.")
            ),
            to=conv.customer,
        )
    if rng.random() < 0.3:
        late = conv.parcel(rng.choice(("ups", "fedex")), order=po, supplier=company)

        def follow(draft: Draft) -> None:
            ship([late], draft.ts, rng)
            _, doc = mp.supplier_notice(rng, [late], company, po, contact)
            doc.para("These are the backordered items from the first shipment.")
            set_body(draft, doc, f"Backorder shipped: PO {po}")

        conv.draft(True, conv.customer, "", follow, to=PURCHASING)


def forwarded(conv: Conv) -> None:
    rng = conv.rng
    conv.inbox, conv.tags = "Support", ["delivery-issue"]
    parcel = conv.parcel(order=mt.order_number(rng) if rng.random() < 0.5 else None)
    name, handle, color = sender_of(parcel)
    inner = Draft(
        ts=0.0, inbound=True, from_name=name, from_handle=handle, to=[conv.customer], subject="", doc=mt.Doc()
    )

    def render(draft: Draft) -> None:
        inner.ts = draft.ts - rng.uniform(0.2, 2) * DAY
        ship([parcel], inner.ts, rng)
        inner.subject, inner.doc = carrier_notice(rng, [parcel], conv.first_name, inner.ts)
        note = rng.choice(
            (
                "This says delivered but nothing is here!",
                "Forwarding the notice - it's been stuck for days.",
                "Can you check this shipment? I was not home.",
            )
        )
        conv.subject = draft.subject = f"Fwd: {inner.subject}"
        set_body(draft, forward_doc(note, inner))

    conv.draft(True, conv.customer, "", render, signature=customer_signature(rng))
    conv.agent_draft("Re: forwarded notice", lambda d: set_body(d, mp.agent_short(rng, conv.first_name)))
    chatter(conv, "Re: forwarded notice", rng.choice((0, 0, 1, 2)))


def store_confirmation(conv: Conv) -> None:
    rng = conv.rng
    conv.inbox, conv.tags = "Orders", ["shipped"]
    order = mt.order_number(rng)
    parcels = [conv.parcel(order=order) for _ in range(rng.choice((1, 1, 1, 2)))]

    def render(draft: Draft) -> None:
        ship(parcels, draft.ts, rng)
        subject, doc = mp.store_confirmation(rng, parcels, conv.first_name, order)
        conv.subject = subject
        set_body(draft, doc, subject)

    conv.draft(False, ORDERS, "", render, full_html=True)
    if rng.random() < 0.6:
        conv.draft(
            True,
            conv.customer,
            "Re: your order has shipped",
            lambda d: set_body(d, mp.customer_followup(rng, parcels[0], conv.first_name)),
        )
        conv.drafts[-1].quote_previous = True
        chatter(conv, "Re: your order has shipped", rng.choice((1, 1, 2, 3)))


def wholesale(conv: Conv) -> None:
    rng = conv.rng
    conv.inbox, conv.tags = "Wholesale", ["b2b"]
    po = mt.po_number(rng)
    conv.subject = f"PO {po} status"
    courier = rng.choice(("old_dominion", "fedex", "ups", "dhl"))
    parcels = [conv.parcel(courier, order=po) for _ in range(rng.randint(1, 3))]
    conv.draft(
        True,
        conv.customer,
        conv.subject,
        lambda d: set_body(
            d,
            mt.Doc().para(
                f"Hi, any update on PO {po}? We need it before {mt.fmt_date(d.ts + 5 * DAY)}. Invoice "
                f"{mt.invoice_number(rng)} is already paid ({mt.amount(rng)})."
            ),
        ),
    )
    conv.agent_draft(
        f"Re: {conv.subject}",
        lambda d: (
            ship(parcels, d.ts, rng),
            set_body(d, mp.agent_tracking_reply(rng, parcels, conv.first_name, po, label="PO ")),
        ),
    )
    chatter(conv, f"Re: {conv.subject}", rng.choice((0, 1, 2, 4)))


# --- shipment-free traffic ---------------------------------------------------------------------------
def no_shipment(conv: Conv) -> None:
    rng = conv.rng
    kind = rng.choice(("return", "billing", "address", "amazon", "wholesale", "other", "other", "bad_number"))
    conv.inbox = "Wholesale" if kind == "wholesale" else "Support"
    conv.tags = [kind]
    if kind == "bad_number":
        conv.subject = "Tracking number doesn't work"

        def wrong(draft: Draft) -> None:
            doc, bad = mp.customer_wrong_number(
                rng, rng.choice(("ups", "usps", "fedex", "dhl")), conv.first_name
            )
            conv.decoys.append(bad)
            set_body(draft, doc)

        conv.draft(True, conv.customer, conv.subject, wrong)
        conv.agent_draft(
            f"Re: {conv.subject}",
            lambda d: set_body(
                d,
                mt.Doc().para(
                    f"Hi {conv.first_name}, that number isn't one of ours. Could you send your order number?"
                ),
            ),
        )
    else:

        def first(draft: Draft) -> None:
            subject, doc = mp.no_shipment_message(rng, kind, conv.first_name)
            conv.subject = subject
            set_body(draft, doc, subject)

        conv.draft(True, conv.customer, "", first, signature=customer_signature(rng))
    count = rng.choices((0, 1, 2, 3, 4, 5), weights=(35, 30, 15, 10, 5, 5))[0]
    chatter(conv, "Re: your message", count, shipping=kind == "bad_number")


def _huge(conv: Conv) -> None:
    """A wholesale account thread with well over 100 messages and a delivery every ~15 messages."""
    rng = conv.rng
    conv.inbox, conv.tags = "Wholesale", ["b2b", "key-account"]
    conv.subject = "Standing order - weekly deliveries"
    total = rng.randint(110, 135)
    for index in range(total):
        if index % 15 == 7:
            parcels = [conv.parcel(rng.choice(("ups", "fedex", "old_dominion")), order=mt.po_number(rng))]
            conv.agent_draft(
                f"Re: {conv.subject}",
                lambda d, p=parcels: (
                    ship(p, d.ts, rng),
                    set_body(
                        d,
                        mp.agent_tracking_reply(rng, p, conv.first_name, p[0].order_number, "PO "),
                    ),
                ),
            )
        elif index % 2 == 0:
            conv.draft(
                True,
                conv.customer,
                f"Re: {conv.subject}",
                lambda d: set_body(
                    d,
                    mt.Doc().para(
                        rng.choice(
                            (
                                "Any news on this week's delivery?",
                                f"Please add 20 units to PO {mt.po_number(rng)}.",
                                f"Invoice {mt.invoice_number(rng)} received, paying today.",
                                "Thanks!",
                            )
                        )
                    ),
                ),
            )
        else:
            conv.agent_draft(
                f"Re: {conv.subject}", lambda d: set_body(d, mp.agent_short(rng, conv.first_name, False))
            )


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: float
    build: Callable[[Conv], None]


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("carrier_notices", 15, carrier_notices),
        Scenario("wismo", 19, wismo),
        Scenario("supplier", 8, supplier),
        Scenario("forwarded", 5, forwarded),
        Scenario("store_confirmation", 6, store_confirmation),
        Scenario("wholesale", 3, wholesale),
        Scenario("no_shipment", 44, no_shipment),
    )
}
huge_thread = Scenario("huge_thread", 0, _huge)
