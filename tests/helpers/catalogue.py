"""The presentation catalogue: how shops, marketplaces, 3PLs and carriers write a tracking number.

Each `Presentation` is a template filled from an `Item` (catalogue_items.py): a tracking number, or a decoy
with its own label. Fields: {value} (transformed by the presentation: grouping, case, full-width...),
{label}/{Label} (the item's label in the presentation's language), {lead} (what a decoy needs before its
value where the presentation writes no label: "Order number: "; "" for tracking numbers), {carrier},
{url} (a carrier's tracking page, or a shop/tracking-service page for `link="generic"`), {qurl} (the same
percent-encoded, as redirectors carry it), {link_text}. HTML presentations escape every field.

`conversation(presentation, item)` builds the one-message conversation the extractors read.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from desktop.domain import Conversation, ConversationRef, Message
from tests.helpers.catalogue_items import Item, Number, generic_link, tracking_item

Transform = Callable[[str], str]
ZWSP, NBSP, THIN, NARROW = "\u200b", "\u00a0", "\u2009", "\u202f"


def groups(number: str) -> list[str]:
    """The number cut the way carriers print it: UPS 1Z 2-3-3-2-4-4, S10 "RB 123 456 785 GB", a letter
    prefix of 2-4 letters on its own ("JJD 0002 2576 ..."), otherwise groups of four."""
    if number.startswith("1Z") and len(number) == 18:
        return [number[:2], number[2:5], number[5:8], number[8:10], number[10:14], number[14:]]
    if len(number) == 13 and number[:2].isalpha() and number[-2:].isalpha():
        return [number[:2], number[2:5], number[5:8], number[8:11], number[11:]]
    prefix = len(number) - len(number.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    head, rest = ([number[:prefix]], number[prefix:]) if 2 <= prefix <= 4 else ([], number)
    return head + [rest[i:i + 4] for i in range(0, len(rest), 4)]


def _alnum_only(transform: Transform) -> Transform:
    """Apply `transform` to values written as one code ("601201731676"), leave others ("+1 (555) ...")."""
    return lambda value: transform(value) if value.isalnum() else value


def grouped(separator: str) -> Transform:
    return _alnum_only(lambda value: separator.join(groups(value)))


def zero_width(value: str) -> str:
    """Zero-width spaces every three characters (what HTML mail scatters to stop auto-linking)."""
    return ZWSP.join(value[i:i + 3] for i in range(0, len(value), 3))


def fullwidth(value: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in value)


def same(value: str) -> str:
    return value


@dataclass(frozen=True)
class Presentation:
    name: str
    family: str
    template: str
    transform: Transform = same
    html: bool = False
    lang: str = "en"
    link: str | None = None      # "carrier" or "generic": which {url} the template shows

    @property
    def names_carrier(self) -> bool:
        """The text names (or links) the number's carrier: then the shipment must name it."""
        return "{carrier}" in self.template or (self.link == "carrier" and "url}" in self.template)


def _p(name: str, family: str, template: str, transform: Transform = same, **kw) -> Presentation:
    return Presentation(name, family, template, transform, **kw)


QUOTE_HEAD = "Thanks, any news on this?\n\nOn Mon, 4 May 2026 at 10:12, Shop Example <support@shop-example.com> wrote:\n"
FORWARD_HEAD = ("FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Shop Example "
                "<orders@shop-example.com>\nDate: Mon, 4 May 2026 at 09:58\nSubject: Your order has shipped\n"
                "To: <ann@example.com>\n\n")
NOISE = ("Order #10023 has shipped!\n2 x Blue mug  $24.99\nShip to: 1600 Amphitheatre Pkwy, Mountain View, "
         "CA 94043-1351\nQuestions? Call 1-800-555-0199 (Mon-Fri 9-17)\n")

PRESENTATIONS: tuple[Presentation, ...] = (
    # a label, no carrier named
    _p("label_colon", "label", "{Label}: {value}"),
    _p("label_sentence", "label", "Hello Ann,\nyour parcel is on its way. Your {label} is {value}.\nThanks!"),
    _p("label_line_above", "label", "{Label}\n{value}"),
    _p("label_spaced", "label", "{Label}: {value}", grouped(" ")),
    _p("label_lower", "case", "{label}: {value}", str.lower),
    # list items and carrier lines
    _p("carrier_colon", "list", "{carrier}: {lead}{value}"),
    _p("dash_list", "list", "Your shipments:\n- {carrier} - {lead}{value}\n- Gift card - emailed"),
    _p("en_dash_list", "list", "– {carrier} – {lead}{value}"),
    _p("em_dash_list", "list", "— {carrier} — {lead}{value}"),
    _p("bullet_colon", "list", "• {carrier}: {lead}{value}"),
    _p("pipe", "list", "{carrier} | {lead}{value}"),
    _p("chevron", "list", "Shipped via {carrier} > {lead}{value}"),
    _p("hash", "list", "{carrier} {lead}#{value}"),
    _p("paren_carrier", "list", "({carrier}) {lead}{value}"),
    _p("bracket_carrier", "list", "[{carrier}] {lead}{value}"),
    _p("paren_number", "list", "{carrier} ({lead}{value})"),
    _p("bracket_number", "list", "{carrier}: [{lead}{value}]"),
    _p("numbered_list", "list", "1. {carrier} – {label}: {value}\n2. Invoice – sent separately"),
    # tables and CSV
    _p("html_table", "table", "<table><tr><th>Carrier</th><th>{Label}</th></tr>"
       "<tr><td>{carrier}</td><td>{value}</td></tr></table>", html=True),
    _p("html_table_no_carrier", "table", "<table><tr><th>Item</th><th>Qty</th><th>{Label}</th></tr>"
       "<tr><td>Blue mug</td><td>2</td><td>{value}</td></tr></table>", html=True),
    _p("html_key_value", "table", "<table><tr><td>{Label}:</td><td><b>{value}</b></td></tr>"
       "<tr><td>Carrier:</td><td>{carrier}</td></tr></table>", html=True),
    _p("text_table", "table", "| Carrier | {Label} | Status |\n|---|---|---|\n| {carrier} | {value} | In transit |"),
    _p("tab_table", "table", "Item\tCarrier\t{Label}\nBlue mug\t{carrier}\t{value}"),
    _p("csv", "csv", "order_id,ship_date,carrier,{label},status\nSO-10023,2026-05-01,{carrier},{value},shipped"),
    _p("csv_semicolon", "csv", '"Bestellung";"Versandart";"{label}"\n"10023";"{carrier}";"{value}"', lang="de"),
    _p("csv_no_carrier", "csv", "order_id,customer,{label}\n10023,Ann Example,{value}"),
    # links
    _p("link_plain", "link", "Your {carrier} parcel: {url}", link="carrier"),
    _p("link_angle", "link", "{link_text} <{url}>", link="carrier"),
    _p("html_anchor", "link", '<p>Good news! <a href="{url}">{link_text}</a></p>', html=True, link="carrier"),
    _p("html_anchor_number_text", "link", '<p>{carrier}: <a href="{url}">{lead}{value}</a></p>', html=True,
       link="carrier"),
    _p("safelinks", "link", "{link_text}: https://eur02.safelinks.protection.outlook.com/?url={qurl}"
       "&data=05%7C02%7Cann%40example.com%7C0d1f%7C0%7C0%7C638&sdata=abc%2Bdef%3D&reserved=0", link="carrier"),
    _p("html_safelinks", "link", '<a href="https://nam12.safelinks.protection.outlook.com/?url={qurl}'
       '&amp;data=05%7C02&amp;reserved=0">{link_text}</a>', html=True, link="carrier"),
    _p("redirector", "link", "{link_text}: https://www.google.com/url?q={qurl}&sa=D&source=editors", link="carrier"),
    _p("click_tracker", "link", "{link_text} ( https://click.e.shop-example.com/ls/click?upn=u001.AbC&u={qurl} )",
       link="carrier"),
    _p("generic_link", "link", "Track it here: {url}", link="generic"),
    _p("generic_link_named", "link", "Your {carrier} parcel: {url}", link="generic"),
    # quoted replies and forwards
    _p("quoted_1", "quoted", QUOTE_HEAD + "> Your {carrier} {label}: {value}\n> Regards, Shop Example"),
    _p("quoted_2", "quoted", QUOTE_HEAD + "> Still nothing?\n>> {Label}: {value}"),
    _p("quoted_3", "quoted", QUOTE_HEAD + "> > > {carrier} - {lead}{value}"),
    _p("quoted_link_only", "quoted", QUOTE_HEAD + "> Sendung verfolgen: {url}\n> Viele Grüße", link="carrier"),
    _p("html_quoted_link_only", "quoted", '<div>Any news?</div><div class="gmail_quote"><blockquote>'
       '<p>Ihre Sendung ist unterwegs.</p><p><a href="{url}">Sendung verfolgen</a></p></blockquote></div>',
       html=True, link="carrier"),
    _p("forwarded", "quoted", FORWARD_HEAD + "{carrier} {label}: {value}"),
    _p("outlook_reply", "quoted", "See below.\n\nFrom: Shop Example <orders@shop-example.com>\nSent: Monday, "
       "May 4, 2026 9:58 AM\nTo: Ann\nSubject: Shipped\n\n{Label}: {value} ({carrier})"),
    # how the number itself is written
    _p("spaces", "grouping", "{carrier} {label}: {value}", grouped(" ")),
    _p("nbsp", "grouping", "{carrier} {label}: {value}", grouped(NBSP)),
    _p("thin_space", "grouping", "{carrier} {label}: {value}", grouped(THIN)),
    _p("narrow_nbsp", "grouping", "{Label}: {value} ({carrier})", grouped(NARROW)),
    _p("hyphens", "grouping", "{carrier} {label}: {value}", grouped("-")),
    _p("zero_width", "grouping", "{carrier} {label}: {value}", _alnum_only(zero_width)),
    _p("fullwidth", "grouping", "{carrier}　{label}：{value}", fullwidth),
    _p("lower_named", "case", "{carrier} {label} {value}", str.lower),
    # after service names that hold digits
    _p("service_2day", "service", "Shipped with {carrier} 2Day {lead}{value}", grouped(" ")),
    _p("service_next_day_air", "service", "{carrier} Next Day Air {lead}{value}", grouped(" ")),
    _p("service_1_day", "service", "Service: {carrier} 1-Day {lead}{value}", grouped(" ")),
    _p("service_48h", "service", "Versand: {carrier} 48h {lead}{value}", grouped(" ")),
    _p("service_express_1200", "service", "{carrier} Express 12:00 – {lead}{value}", grouped(" ")),
    # trailing punctuation
    _p("full_stop", "punctuation", "It went out with {carrier} today, {label} {value}."),
    _p("comma", "punctuation", "{Label} {value}, shipped today via {carrier}"),
    _p("closing_bracket", "punctuation", "Shipped today ({label}: {value})"),
    _p("closing_square", "punctuation", "{carrier} [{label} {value}]"),
    # other languages
    _p("german", "language", "Ihr Paket ist unterwegs. Ihre {label} lautet {value}. Versand mit {carrier}.",
       lang="de"),
    _p("french", "language", "Votre colis a été expédié avec {carrier}. Votre {label}\u00a0: {value}", lang="fr"),
    _p("spanish", "language", "Tu pedido ha sido enviado con {carrier}. Tu {label} es {value}.", lang="es"),
    _p("dutch", "language", "Je pakket is verzonden met {carrier}. Je {label} is {value}.", lang="nl"),
    _p("german_no_carrier", "language", "Ihre {label}: {value}", lang="de"),
    # a whole shipping notice with other numbers around
    _p("notice_with_noise", "notice", NOISE + "{carrier} {label}: {value}\nTotal: $49.98"),
)


def render(presentation: Presentation, item: Item, index: int = 0, entry: Number | None = None) -> str:
    """The text (or HTML) of `item` in `presentation`; `entry` gives the generic link of a tracking number."""
    label = item.labels[presentation.lang]
    url = generic_link(entry, index) if presentation.link == "generic" and entry else item.url
    lead = "" if item.kind in ("tracking", "bad_check_digit") else f"{label}: "
    fields = {"value": presentation.transform(item.value), "label": label, "Label": label[:1].upper() + label[1:],
              "lead": lead, "carrier": item.carrier, "url": url, "qurl": quote(url, safe=""),
              "link_text": item.link_text}
    if presentation.html:
        fields = {key: html.escape(text) for key, text in fields.items()}
    return presentation.template.format(**fields)


def conversation(text: str, *, is_html: bool, cid: str = "cnv_cat") -> Conversation:
    """A one-message conversation holding `text` (as the HTML body or the plain text)."""
    message = Message(id=f"{cid}_m", conversation_id=cid, created_at=1_780_000_000, is_inbound=True,
                      sender="Shop Example <orders@shop-example.com>", subject="Your order",
                      body_html=text if is_html else "", text="" if is_html else text)
    return Conversation(ConversationRef(cid, "Your order", "open", (), message.id, message.created_at), (message,))


def tracking_cases(numbers: list[Number]) -> list[tuple[Presentation, Number, str, frozenset[str]]]:
    """(presentation, number, text, couriers the shipment may name) for every presentation x number."""
    cases = []
    for presentation in PRESENTATIONS:
        for index, entry in enumerate(numbers):
            item = tracking_item(entry, index, named=presentation.names_carrier)
            cases.append((presentation, entry, render(presentation, item, index, entry), item.expected))
    return cases
