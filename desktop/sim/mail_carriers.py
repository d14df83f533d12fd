"""Carrier notification e-mails (UPS/FedEx/USPS/DHL/Amazon/... styles) as HTML + plain text.

A notice names its carrier in the sender, subject and body, so checksum-free numbers always come with
clear carrier context. Numbers appear as printed by the carrier (plain or spaced), and sometimes ONLY in
the tracking link (button href / URL in the text).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from desktop.sim import mail_text as mt
from desktop.sim.numbers import CARRIER_NAMES, tracking_url


@dataclass
class Parcel:
    """A real shipment placed in a conversation. `shown` lists the optional fields some message printed;
    only those go into the ground truth."""

    number: str
    courier: str
    display: str
    order_number: str | None = None
    supplier: str | None = None
    shipped_at: float | None = None
    country: str | None = None
    postcode: str | None = None
    city: str = ""
    region: str = ""
    shown: set[str] = field(default_factory=set)

    @property
    def carrier(self) -> str:
        if self.courier == "s10":
            return S10_OPERATORS.get(self.number[-2:], "Post")
        return CARRIER_NAMES[self.courier]

    @property
    def url(self) -> str:
        return tracking_url(self.courier, self.number)


# S10 numbers end with the country of the postal operator that issued them.
S10_OPERATORS = {
    "US": "USPS",
    "GB": "Royal Mail",
    "CN": "China Post",
    "DE": "Deutsche Post",
    "FR": "La Poste",
    "NL": "PostNL",
    "CA": "Canada Post",
    "AU": "Australia Post",
    "JP": "Japan Post",
    "SE": "PostNord",
    "CH": "Swiss Post",
    "HK": "Hongkong Post",
    "SG": "SingPost",
    "IT": "Poste Italiane",
    "ES": "Correos",
}

# courier -> (sender name, sender handle, brand colour)
SENDERS: dict[str, tuple[str, str, str]] = {
    "ups": ("UPS", "mcinfo@ups.com", "#351C15"),
    "usps": ("USPS", "auto-reply@usps.com", "#333366"),
    "fedex": ("FedEx", "TrackingUpdates@fedex.com", "#4D148C"),
    "dhl": ("DHL Express", "noreply@dhl.com", "#FFCC00"),
    "amazon": ("Amazon.com", "shipment-tracking@amazon.com", "#232F3E"),
    "ontrac": ("OnTrac", "notifications@ontrac.com", "#0054A4"),
    "lasership": ("LaserShip", "noreply@lasership.com", "#E31837"),
    "canada_post": ("Canada Post", "noreply@canadapost.ca", "#D52B1E"),
    "purolator": ("Purolator", "tracking@purolator.com", "#C8102E"),
    "dpd": ("DPD", "noreply@dpd.de", "#DC0032"),
    "s10": ("Royal Mail", "no-reply@royalmail.com", "#DA202A"),
    "old_dominion": ("Old Dominion Freight Line", "odfl-notify@odfl.com", "#006341"),
    "yodel": ("Yodel", "noreply@yodel.co.uk", "#84BD00"),
    "yunexpress": ("YunExpress", "service@yunexpress.com", "#E60012"),
    "canpar": ("Canpar Express", "noreply@canpar.com", "#00529B"),
    "landmark": ("Landmark Global", "tracking@landmarkglobal.com", "#F26522"),
    "speedee": ("Spee-Dee Delivery", "notify@speedeedelivery.com", "#005DAA"),
    "gofo": ("GOFO Express", "noreply@gofoexpress.com", "#FF6A00"),
}

# (headline, preheader title, intro sentence)
_HEADLINES = (
    ("Your package is on its way", "Shipment Notification", "is on its way"),
    ("Scheduled for delivery", "Delivery Update", "is scheduled for delivery"),
    ("Out for delivery today", "Out for Delivery", "is out for delivery today"),
    ("Your package was delivered", "Delivered", "was delivered"),
    ("Label created", "Shipment Ready", "has a shipping label; we'll let you know when it ships"),
)


def sender_of(parcel: Parcel) -> tuple[str, str, str]:
    """(name, handle, colour) of the notice sender; S10 notices come from the issuing postal operator."""
    if parcel.courier == "s10" and parcel.number[-2:] != "GB":
        name = parcel.carrier
        return name, f"noreply@{name.lower().replace(' ', '')}.example", "#C00000"
    return SENDERS[parcel.courier]


def notice_subject(rng: random.Random, parcel: Parcel, headline: str) -> str:
    """Carrier-style subject; some carry the number itself (FedEx, USPS, DHL do)."""
    name = parcel.carrier
    if parcel.courier in ("fedex", "usps", "dhl") and rng.random() < 0.5:
        return f"{name} Shipment {parcel.number}: {headline}"
    if parcel.courier == "amazon":
        return "Your Amazon.com package has shipped" if rng.random() < 0.5 else f"Shipped: {headline}"
    return f"{name} Update: {headline}"


def _ship_to(parcel: Parcel) -> str:
    region = f", {parcel.region}" if parcel.region else ""
    return f"{parcel.city}{region} {parcel.postcode} {parcel.country}".strip()


def _detail_rows(
    rng: random.Random, parcel: Parcel, delivery_ts: float, link_only: bool
) -> list[tuple[str, str]]:
    """(label, value) rows of the details table; records which truth fields were printed."""
    rows: list[tuple[str, str]] = []
    if not link_only:
        label = {"old_dominion": "PRO Number", "dhl": "Waybill", "s10": "Reference"}.get(
            parcel.courier, "Tracking Number"
        )
        rows.append((label, parcel.display))
    if parcel.postcode and rng.random() < 0.8:
        rows.append(("Ship To", _ship_to(parcel)))
        parcel.shown.update(("postcode", "country"))
    if parcel.shipped_at and rng.random() < 0.7:
        rows.append(("Ship Date", mt.fmt_date(parcel.shipped_at, rng.choice((0, 1)))))
        parcel.shown.add("shipped_date")
    rows.append(("Scheduled Delivery", mt.fmt_date(delivery_ts)))
    if parcel.order_number and rng.random() < 0.6:
        rows.append(("Reference Number(s)", parcel.order_number))
        parcel.shown.add("order_number")
    rows.append(("Weight", f"{rng.randint(1, 40)}.{rng.randint(0, 9)} LBS"))
    return rows


def _table(rows: list[tuple[str, str]], color: str, url: str | None = None) -> str:
    cells = []
    for label, value in rows:
        shown = mt.esc(value).replace(" ", "&nbsp;", 1) if len(value) < 40 else mt.esc(value)
        if url and label in ("Tracking Number", "PRO Number", "Waybill", "Reference"):
            shown = f'<a href="{mt.esc(url)}" style="color:{color}">{shown}</a>'
        cells.append(
            f'<tr><td style="padding:4px 8px;color:#555">{mt.esc(label)}:</td>'
            f'<td style="padding:4px 8px"><strong>{shown}</strong></td></tr>'
        )
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" class="details">'
        + "".join(cells)
        + "</table>"
    )


def carrier_notice(
    rng: random.Random, parcels: list[Parcel], recipient: str, sent_at: float, link_only: bool = False
) -> tuple[str, mt.Doc]:
    """(subject, body) of a carrier notification for one or several parcels of the same carrier."""
    first = parcels[0]
    sender, _handle, color = sender_of(first)
    headline, title, state = rng.choice(_HEADLINES)
    delivery = sent_at + rng.randint(1, 4) * 86400
    doc = mt.Doc()
    pre = f"{headline}. {first.carrier} {title}"
    doc.raw(
        f'<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">{mt.esc(pre)}'
        + "&nbsp;&zwnj;" * rng.randint(8, 30)
        + "</div>",
        pre,
    )
    doc.raw(
        f'<table role="presentation" width="100%"><tr><td align="center" style="background:{color}">'
        f'<img src="https://cdn.example/{first.courier}/logo.png" alt="{mt.esc(sender)}" width="120"></td></tr>'
        f'<tr><td><h1 style="font-size:22px">{mt.esc(headline)}</h1></td></tr></table>',
        f"{headline}",
    )
    doc.para(f"Hello {recipient},")
    many = len(parcels) > 1
    intro = (
        f"{len(parcels)} packages from {mt.SHOP} are on their way with {first.carrier}."
        if many
        else f"A package from {mt.SHOP} {state}."
    )
    doc.para(intro)
    for index, parcel in enumerate(parcels):
        rows = _detail_rows(rng, parcel, delivery, link_only)
        text_rows = [f"{label}: {value}" for label, value in rows]
        if many:
            text_rows.insert(0, f"Package {index + 1} of {len(parcels)}")
        doc.raw(_table(rows, color, parcel.url), "\n".join(text_rows))
        label = "Track Package" if not many else f"Track package {index + 1}"
        html_link, text_link = mt.link(parcel.url, label)
        doc.raw(
            f'<p><span class="btn" style="background:{color};padding:10px 18px">{html_link}</span></p>',
            text_link,
        )
    _footer(rng, doc, first.carrier)
    return notice_subject(rng, first, headline), doc


def _footer(rng: random.Random, doc: mt.Doc, carrier: str) -> None:
    service = mt.phone(rng)
    html_unsub, text_unsub = mt.link("https://email.example/unsubscribe?u=83&list=ship", "Unsubscribe")
    doc.raw(
        f'<p style="font-size:11px;color:#888">Questions? Call {carrier} Customer Service at {mt.esc(service)}.'
        f"<br>&copy; 2026 {mt.esc(carrier)}. All rights reserved. Privacy&nbsp;Notice &amp; Terms | "
        f"{html_unsub}</p>",
        f"Questions? Call {carrier} Customer Service at {service}.\n(c) 2026 {carrier}. All rights reserved. "
        f"Privacy Notice & Terms | {text_unsub}",
    )
    if rng.random() < 0.3:
        doc.raw(
            '<script type="text/javascript">window.dataLayer=window.dataLayer||[];'
            'dataLayer.push({"event":"open","id":"8231440012"});</script>'
            '<img src="https://pixel.example/o.gif?id=5512340098" width="1" height="1" alt="">',
            "",
        )


def wrap_html(inner: str, color: str = "#333") -> str:
    """A full HTML document with a <style> block around `inner` (what notification mail looks like)."""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title></title><style type="text/css">'
        f"body{{font-family:Arial,sans-serif}} .btn a{{color:#fff;text-decoration:none}} "
        f"h1{{color:{color}}} @media (max-width:600px){{.details td{{display:block}}}}</style></head>"
        f"<body>{inner}</body></html>"
    )
