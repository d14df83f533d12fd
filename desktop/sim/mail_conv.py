"""A conversation being written (`Conv`) and the helpers scenarios share.

Drafts get their text from a `render` callback once the builder has fixed the message times; the
helpers here write carrier notices, set ship dates, and add the back-and-forth of a thread.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.sim import mail_people as mp
from desktop.sim import mail_text as mt
from desktop.sim.mail_carriers import Parcel, carrier_notice, sender_of
from desktop.sim.mail_thread import Draft, agent_signature, customer_signature
from desktop.sim.numbers import generate, has_check_digit

DAY = 86400.0
SUPPORT = ("Northwind Support", f"support@{mt.SHOP_DOMAIN}")
ORDERS = ("Northwind Orders", f"orders@{mt.SHOP_DOMAIN}")
PURCHASING = ("Northwind Purchasing", f"purchasing@{mt.SHOP_DOMAIN}")
WHOLESALE = ("Northwind Wholesale", f"wholesale@{mt.SHOP_DOMAIN}")
MAX_MESSAGES = 8  # per ordinary conversation (the huge thread is the exception)
INBOX_ADDRESS = {"Support": SUPPORT, "Orders": ORDERS, "Suppliers": PURCHASING, "Wholesale": WHOLESALE}


COURIER_WEIGHTS = {
    "ups": 18,
    "usps": 18,
    "fedex": 16,
    "dhl": 8,
    "amazon": 7,
    "ontrac": 4,
    "lasership": 4,
    "canada_post": 5,
    "purolator": 3,
    "dpd": 4,
    "s10": 4,
    "old_dominion": 1.5,
    "yodel": 2,
    "yunexpress": 2,
    "canpar": 2,
    "landmark": 1.5,
    "speedee": 1.5,
    "gofo": 1.5,
}


_COUNTRY = {
    "canada_post": ("CA",),
    "purolator": ("CA",),
    "canpar": ("CA",),
    "yodel": ("GB",),
    "s10": ("GB", "US", "CA", "DE"),
    "dpd": ("DE", "NL", "FR", "GB"),
    "landmark": ("US", "GB"),
    "yunexpress": ("US", "GB", "DE"),
}


@dataclass
class Conv:
    """A conversation being written."""

    rng: random.Random
    used: set[str]
    drafts: list[Draft] = field(default_factory=list)
    parcels: list[Parcel] = field(default_factory=list)
    decoys: list[str] = field(default_factory=list)
    subject: str = ""
    inbox: str = "Support"
    tags: list[str] = field(default_factory=list)
    customer: tuple[str, str] = ("", "")

    def __post_init__(self) -> None:
        self.customer = mt.person(self.rng)
        self.agent = self.rng.choice(mt.AGENTS)

    @property
    def first_name(self) -> str:
        return self.customer[0].split()[0]

    def parcel(
        self, courier: str | None = None, order: str | None = None, supplier: str | None = None
    ) -> Parcel:
        """A new shipment with a workspace-unique valid number."""
        rng = self.rng
        courier = courier or rng.choices(list(COURIER_WEIGHTS), weights=list(COURIER_WEIGHTS.values()))[0]
        while True:
            number, display = generate(courier, rng)
            if number not in self.used:
                break
        self.used.add(number)
        country = rng.choice(_COUNTRY.get(courier, ("US",)))
        city, region, postcode = mt.place(rng, country)
        parcel = Parcel(
            number,
            courier,
            display,
            order_number=order,
            supplier=supplier,
            country=country,
            postcode=postcode,
            city=city,
            region=region,
        )
        self.parcels.append(parcel)
        return parcel

    def draft(
        self,
        inbound: bool,
        sender: tuple[str, str],
        subject: str,
        render: Callable[[Draft], None],
        to: tuple[str, str] | None = None,
        **options,
    ) -> Draft:
        """Append a message; `render(draft)` fills draft.doc (and may change the subject) later."""
        to = to or (INBOX_ADDRESS[self.inbox] if inbound else self.customer)
        draft = Draft(
            ts=0.0,
            inbound=inbound,
            from_name=sender[0],
            from_handle=sender[1],
            to=[to],
            subject=subject,
            doc=mt.Doc(),
            render=render,
            **options,
        )
        draft.quote_previous = not draft.full_html  # notifications never quote
        self.drafts.append(draft)
        return draft

    def render(self, draft: Draft) -> None:
        assert draft.render is not None
        draft.render(draft)

    def agent_draft(
        self, subject: str, render: Callable[[Draft], None], to: tuple[str, str] | None = None
    ) -> Draft:
        first, last = self.agent
        sender = (f"{first} {last}", f"{first.lower()}@{mt.SHOP_DOMAIN}")
        return self.draft(
            False,
            sender,
            subject,
            render,
            to=to,
            author_name=f"{first} {last}",
            signature=agent_signature(self.rng, self.agent),
        )


def ship(parcels: list[Parcel], ts: float, rng: random.Random) -> None:
    """Set the ship time of parcels not shipped yet: one time for all, shortly before `ts`."""
    shipped_at = ts - rng.uniform(0.1, 1.5) * DAY
    for parcel in parcels:
        if parcel.shipped_at is None:
            parcel.shipped_at = shipped_at


def set_body(draft: Draft, doc: mt.Doc, subject: str | None = None) -> None:
    draft.doc = doc
    if subject:
        draft.subject = subject


def notice_draft(conv: Conv, parcels: list[Parcel], recipient: str, to: tuple[str, str]) -> Draft:
    rng = conv.rng
    name, handle, color = sender_of(parcels[0])
    link_only = rng.random() < 0.15 and all(has_check_digit(p.number) for p in parcels)

    def render(draft: Draft) -> None:
        ship(parcels, draft.ts, rng)
        subject, doc = carrier_notice(rng, parcels, recipient, draft.ts, link_only=link_only)
        set_body(draft, doc, subject)

    return conv.draft(
        True, (name, handle), "", render, to=to, full_html=True, color=color, qp_wrap=rng.random() < 0.06
    )


def keep_subject(conv: Conv, render: Callable[[Draft], None]) -> Callable[[Draft], None]:
    """Make the conversation subject the first message's subject (known only after rendering)."""

    def wrapped(draft: Draft) -> None:
        render(draft)
        conv.subject = draft.subject

    return wrapped


def chatter(conv: Conv, subject: str, count: int, shipping: bool = True) -> None:
    """Up to `count` alternating follow-ups (never past MAX_MESSAGES), starting with whoever did not
    write the last message."""
    rng = conv.rng
    customer_turn = not conv.drafts[-1].inbound if conv.drafts else True
    for _ in range(min(count, MAX_MESSAGES - len(conv.drafts))):
        if customer_turn:
            parcel = rng.choice(conv.parcels) if conv.parcels and shipping else None
            conv.draft(
                True,
                conv.customer,
                subject,
                lambda d, p=parcel: set_body(d, mp.customer_followup(rng, p, conv.first_name, shipping)),
                signature=customer_signature(rng),
            )
        else:
            conv.agent_draft(subject, lambda d: set_body(d, mp.agent_short(rng, conv.first_name, shipping)))
        customer_turn = not customer_turn
