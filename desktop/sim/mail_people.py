"""Messages written by people: customers asking, agents answering, suppliers' shipping notices, the shop's
own shipping confirmations, and the shipment-free traffic (returns, billing, product questions).

Each function returns a `Doc` (HTML + text of the NEW part of a message; quoting and signatures are added
by `mail_thread`). A function that prints a parcel records the truth fields it printed in `parcel.shown`.
"""

from __future__ import annotations

import random

from desktop.sim import mail_text as mt
from desktop.sim.mail_carriers import Parcel
from desktop.sim.numbers import CARRIER_NAMES, spaced, wrong_check

#: Share of mistyped numbers quoted the way they were copied from a label: in the carrier's spaced groups
#: under a "Tracking:" label. A run of groups of such a number can pass ANOTHER format's check digit
#: ("9400 2914 1777 6317 0669 07" holds a "valid" FedEx 1777 6317 0669), which extractors must not take.
SPACED_WRONG_SHARE = 0.5


def _number_html(rng: random.Random, parcel: Parcel, text_form: str) -> str:
    """How an agent's HTML shows a number: plain, bold, or as a carrier link."""
    roll = rng.random()
    if roll < 0.4:
        return f'<a href="{mt.esc(parcel.url)}">{mt.esc(text_form)}</a>'
    if roll < 0.6:
        return f"<b>{mt.esc(text_form)}</b>"
    return mt.esc(text_form)


def customer_where_is(rng: random.Random, order: str, first_name: str, ordered_at: float) -> mt.Doc:
    """A customer asking about an order (order number, dates, maybe a phone number: all decoys)."""
    doc = mt.Doc()
    shown_order = mt.full_width(order) if rng.random() < 0.08 else order
    opener = rng.choice(("Hi", "Hello", "Hey there", "Good morning"))
    doc.para(f"{opener},")
    ask = rng.choice(
        (
            f"where is my order #{shown_order}? I ordered on {mt.fmt_date(ordered_at)} and haven't received anything yet.",
            f"I placed order #{shown_order} on {mt.fmt_date(ordered_at, 1)} and still no shipping email. Has it shipped?",
            f"Could you tell me the status of order {shown_order}? The site still says processing.",
            f"Order #{shown_order} was supposed to arrive by {mt.fmt_date(ordered_at + 6 * 86400)}. Where is it?",
            f"My order no. {shown_order} ({mt.amount(rng)}) hasn't arrived. Can you check please?",
        )
    )
    if rng.random() < 0.15:
        ask = ask.replace("order", mt.zero_width(rng, "order"), 1)
    doc.para(ask)
    if rng.random() < 0.35:
        doc.para(f"You can reach me at {mt.phone(rng)} if that's easier.")
    if rng.random() < 0.2:
        city, region, postcode = mt.place(rng, "US")
        doc.para(f"Shipping address is 12 Elm St, {city.title()}, {region} {postcode}.")
    doc.para(rng.choice(("Thanks,", "Thank you!", "Best,", "Regards,")) + f"\n{first_name}")
    return doc


def agent_tracking_reply(
    rng: random.Random,
    parcels: list[Parcel],
    first_name: str,
    order: str | None,
    label: str = "order #",
) -> mt.Doc:
    """An agent giving the customer the tracking number(s), always naming the carrier."""
    doc = mt.Doc()
    doc.para(f"Hi {first_name},")
    thanks = rng.choice(("Thanks for reaching out!", "Sorry for the wait.", "Thanks for your patience."))
    about = f" Your {label}{order}" if order else " Your order"
    shipped = parcels[0].shipped_at
    when = f" on {mt.fmt_date(shipped)}" if shipped and rng.random() < 0.6 else ""
    if when:
        for parcel in parcels:
            if parcel.shipped_at == shipped:  # the one printed date is only true for these
                parcel.shown.add("shipped_date")
    if order:
        for parcel in parcels:
            parcel.shown.add("order_number")
    if len(parcels) == 1:
        parcel = parcels[0]
        form = parcel.display if rng.random() < 0.5 else parcel.number
        text = f"{thanks}{about} shipped{when} with {parcel.carrier}. The tracking number is {form}."
        html_text = (
            f"{mt.esc(thanks + about)} shipped{mt.esc(when)} with {mt.esc(parcel.carrier)}. "
            f"The tracking number is {_number_html(rng, parcel, form)}."
        )
        doc.para(text, html_text)
        if rng.random() < 0.5:
            html_link, text_link = mt.link(parcel.url, f"Track it on the {parcel.carrier} website")
            doc.raw(f"<p>{html_link}</p>", text_link)
    else:
        doc.para(f"{thanks}{about} shipped{when} in {len(parcels)} boxes:")
        items_html, items_text = [], []
        for parcel in parcels:
            form = parcel.display
            items_html.append(f"<li>{mt.esc(parcel.carrier)}: {_number_html(rng, parcel, form)}</li>")
            items_text.append(f"- {parcel.carrier}: {form}")
        doc.raw("<ul>" + "".join(items_html) + "</ul>", "\n".join(items_text))
    doc.para(
        rng.choice(
            (
                "It usually takes 2-5 business days.",
                "Let me know if anything else comes up!",
                "Tracking can take 24 hours to update.",
            )
        )
    )
    return doc


def customer_wrong_number(rng: random.Random, courier: str, first_name: str) -> tuple[mt.Doc, str]:
    """A customer quoting a number with a WRONG check digit (a decoy that has carrier context), plain or, for
    SPACED_WRONG_SHARE of them, in spaced groups under a "Tracking:" label.

    Returns (body, the decoy number)."""
    bad = wrong_check(courier, rng)
    doc = mt.Doc()
    style = random.Random(bad)  # its own generator: the rest of the workspace stays as it was
    if style.random() < SPACED_WRONG_SHARE:
        doc.para(
            f"Hi, the tracking number I was given says 'not found' on the {CARRIER_NAMES[courier]} site. "
            "Is it correct?"
        )
        doc.lines([f"Tracking: {spaced(bad, style)}"])
    else:
        doc.para(
            f"Hi, the tracking number I was given, {bad}, says 'not found' on the "
            f"{CARRIER_NAMES[courier]} site. Is it correct?"
        )
    doc.para(f"Thanks\n{first_name}")
    return doc, bad


def agent_correction(rng: random.Random, parcel: Parcel, first_name: str) -> mt.Doc:
    doc = mt.Doc()
    doc.para(f"Hi {first_name}, sorry about that, there was a typo in the number we sent.")
    doc.para(
        f"The correct {parcel.carrier} tracking number is {parcel.display}.",
        f"The correct {mt.esc(parcel.carrier)} tracking number is {_number_html(rng, parcel, parcel.display)}.",
    )
    return doc


def customer_followup(
    rng: random.Random, parcel: Parcel | None, first_name: str, shipping: bool = True
) -> mt.Doc:
    """A customer's follow-up; may repeat a number (spaced, full-width or with a zero-width space)."""
    doc = mt.Doc()
    if parcel is not None and rng.random() < 0.5:
        form = rng.choice((parcel.display, mt.full_width(parcel.number), mt.zero_width(rng, parcel.number)))
        doc.para(f"Thanks! {form} still shows 'label created' since {rng.randint(2, 6)} days. Any news?")
    elif shipping:
        doc.para(
            rng.choice(
                (
                    "Thank you, got it!",
                    "Great, thanks for the quick answer.",
                    "It says delivered but I can't find it anywhere...",
                    "Received today, thanks!",
                )
            )
        )
    else:
        doc.para(
            rng.choice(
                (
                    "Thank you!",
                    "Great, thanks for the quick answer.",
                    "Any update on this?",
                    "Sorry, one more question: can I pay by invoice?",
                    "Perfect, that works for me.",
                )
            )
        )
    doc.para(first_name)
    return doc


_AGENT_SHIPPING = (
    "I've opened a trace with the carrier and will update you within 48 hours.",
    "Glad it arrived! Enjoy.",
    "I checked with our warehouse; it is still in transit.",
    "Please allow one more business day; the carrier shows it on the truck today.",
)
_AGENT_GENERAL = (
    "Thanks for your message, I'm looking into it and will get back to you today.",
    "Happy to help! Let me know if there's anything else.",
    "I've forwarded this to our billing team; expect an answer within 2 business days.",
    "Yes, that works. I've updated your account.",
)


def agent_short(rng: random.Random, first_name: str, shipping: bool = True) -> mt.Doc:
    doc = mt.Doc()
    doc.para(f"Hi {first_name},")
    options = _AGENT_SHIPPING if shipping else _AGENT_GENERAL
    text = rng.choice(options + (f"We can offer a refund of {mt.amount(rng)} or a replacement.",))
    doc.para(text)
    return doc


def supplier_notice(
    rng: random.Random, parcels: list[Parcel], supplier: str, po: str, contact: str = "Shipping Team"
) -> tuple[str, mt.Doc]:
    """A supplier's shipping notice for a purchase order (PO, invoice, amounts, phone: decoys)."""
    carrier = parcels[0].carrier
    subject = rng.choice(
        (
            f"Your PO {po} has shipped via {carrier}",
            f"Shipping notice for PO {po}",
            f"ASN: PO {po} dispatched",
        )
    )
    doc = mt.Doc()
    doc.para("Hello,")
    doc.para(f"Your PO {po} has shipped via {carrier}.")
    lines = [
        (f"SKU-{rng.randint(10000, 99999)}", rng.randint(1, 60), rng.choice(mt.PRODUCTS))
        for _ in range(rng.randint(1, 4))
    ]
    rows = "".join(
        f"<tr><td>{sku}</td><td>{qty}</td><td>{mt.esc(desc)}</td></tr>" for sku, qty, desc in lines
    )
    doc.raw(
        '<table border="1" cellpadding="4"><tr><th>Item</th><th>Qty</th><th>Description</th></tr>'
        f"{rows}</table>",
        "\n".join(f"{sku}  x{qty}  {desc}" for sku, qty, desc in lines),
    )
    for index, parcel in enumerate(parcels):
        parcel.shown.update(("supplier", "order_number"))
        label = f"Box {index + 1}: " if len(parcels) > 1 else ""
        text = f"{label}Carrier: {parcel.carrier} / Tracking #: {parcel.display}"
        doc.para(
            text,
            mt.esc(f"{label}Carrier: {parcel.carrier} / Tracking #: ")
            + _number_html(rng, parcel, parcel.display),
        )
        if parcel.shipped_at and rng.random() < 0.5:
            doc.para(f"Ship date: {mt.fmt_date(parcel.shipped_at, 2)}")
            parcel.shown.add("shipped_date")
    doc.para(
        f"Invoice {mt.invoice_number(rng)} for {mt.amount(rng)} will follow by separate mail. "
        f"Payment terms net 30."
    )
    lines = [
        "Best regards,",
        contact,
        f"Shipping Dept. | {supplier}",
        f"Tel {mt.phone(rng)} | Fax {mt.phone(rng)}",
    ]
    doc.raw(
        '<div style="color:#666;font-size:12px">' + "<br>".join(mt.esc(x) for x in lines) + "</div>",
        "\n".join(lines),
    )
    return subject, doc


def store_confirmation(
    rng: random.Random, parcels: list[Parcel], first_name: str, order: str
) -> tuple[str, mt.Doc]:
    """The shop's own "your order has shipped" e-mail (outbound)."""
    doc = mt.Doc()
    doc.raw(
        '<div style="display:none">Good news: your gear is on the way!</div>',
        "Good news: your gear is on the way!",
    )
    doc.para(f"Hi {first_name}, your order #{order} has shipped!")
    for parcel in parcels:
        parcel.shown.add("order_number")
        html_link, text_link = mt.link(parcel.url, "Track your package")
        doc.raw(
            f"<table><tr><td>Carrier</td><td>{mt.esc(parcel.carrier)}</td></tr><tr><td>Tracking&nbsp;number"
            f"</td><td>{mt.esc(parcel.display)}</td></tr></table><p>{html_link}</p>",
            f"Carrier: {parcel.carrier}\nTracking number: {parcel.display}\n{text_link}",
        )
    doc.para(f"Order total: {mt.amount(rng)}. Questions? Call us at {mt.phone(rng)}.")
    return f"Your {mt.SHOP} order #{order} has shipped", doc


# --- shipment-free traffic -----------------------------------------------------------------------------
def no_shipment_message(rng: random.Random, kind: str, first_name: str) -> tuple[str, mt.Doc]:
    """(subject, body) of a customer message without any shipment; full of decoy numbers."""
    doc = mt.Doc()
    order = mt.order_number(rng)
    if kind == "return":
        subject = f"Return request for order #{order}"
        doc.para(
            f"Hi, I'd like to return the {rng.choice(mt.PRODUCTS)} from order #{order}. "
            f"My RMA is {mt.rma_number(rng)}. Do I need to print a label?"
        )
    elif kind == "billing":
        subject = f"Question about invoice {mt.invoice_number(rng)}"
        doc.para(
            f"Hello, I was charged {mt.amount(rng)} twice for order #{order}. "
            f"Card ending {rng.randint(1000, 9999)}. Please refund one charge."
        )
    elif kind == "address":
        city, region, postcode = mt.place(rng, "US")
        subject = f"Change shipping address for #{order}"
        doc.para(
            f"Can you ship order {order} to 400 Oak Ave, {city.title()}, {region} {postcode} instead? "
            f"Phone {mt.phone(rng)}."
        )
    elif kind == "amazon":
        subject = "Bought through Amazon - wrong size"
        doc.para(f"I bought your boots on Amazon, order {mt.amazon_order(rng)}, and got the wrong size.")
    elif kind == "wholesale":
        subject = f"Wholesale pricing / PO {mt.po_number(rng)}"
        doc.para(
            f"We'd like to order 120 units. Our PO {mt.po_number(rng)} is attached; budget {mt.amount(rng)}. "
            f"Call me on {mt.phone(rng)}."
        )
    else:
        subject = rng.choice(
            ("Product question", "Do you ship to Canada?", "Sizing help", "Warranty question")
        )
        doc.para(
            rng.choice(
                (
                    f"Is the {rng.choice(mt.PRODUCTS)} waterproof?",
                    "Do you ship to Canada and how long does it take?",
                    f"What size should I get? I wear EU {rng.randint(38, 47)}.",
                    f"My stove (serial {rng.randint(10**9, 10**10 - 1)}) stopped working.",
                )
            )
        )
    doc.para(f"Thanks,\n{first_name}")
    return subject, doc
