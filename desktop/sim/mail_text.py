"""Building blocks for simulated e-mails: people, places, decoy numbers, and a parallel HTML/text writer.

Every piece of content is written twice, as HTML (`body_html`) and as plain text (Front's `text`), by
`Doc`. Decoy helpers produce numbers that look like tracking numbers to a careless reader (orders, POs,
invoices, phones, ZIP codes, amounts) but are never real shipments.
"""

from __future__ import annotations

import html
import random
import time
from dataclasses import dataclass, field

FIRST = (
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Mia",
    "Lucas",
    "Sofia",
    "Ethan",
    "Chloe",
    "Mason",
    "Zoe",
    "Aiden",
    "Priya",
    "Kenji",
    "Fatima",
    "Mateo",
    "Hannah",
    "Omar",
    "Grace",
    "Jonas",
    "Lea",
    "Ravi",
    "Nora",
)
LAST = (
    "Smith",
    "Johnson",
    "Garcia",
    "Nguyen",
    "Brown",
    "Müller",
    "Rossi",
    "Kowalski",
    "Patel",
    "Tanaka",
    "O'Brien",
    "Dubois",
    "Silva",
    "Andersen",
    "Cohen",
    "Martin",
    "Lee",
    "Walker",
    "Novak",
    "Fischer",
)
AGENTS = (("Sam", "Carter"), ("Julia", "Reyes"), ("Tom", "Becker"), ("Aisha", "Khan"), ("Dan", "Ortiz"))
SHOP = "Northwind Outfitters"
SHOP_DOMAIN = "northwind.example"
SUPPLIERS = (
    "Acme Industrial Supply",
    "Globex Components",
    "Initech Packaging",
    "Umbrella Textiles",
    "Stark Hardware Co.",
    "Wayne Distribution",
    "Hooli Electronics",
    "Vandelay Imports",
)
PRODUCTS = (
    "trail backpack 35L",
    "merino base layer",
    "camp stove",
    "insulated bottle",
    "rain shell",
    "hiking boots (size 42)",
    "headlamp 400lm",
    "sleeping pad",
    "trekking poles",
    "wool socks 3-pack",
)

# (city, region, postcode, country) per destination market.
PLACES = {
    "US": (
        ("SPRINGFIELD", "IL", "62704"),
        ("AUSTIN", "TX", "78701"),
        ("PORTLAND", "OR", "97205"),
        ("BROOKLYN", "NY", "11201"),
        ("DENVER", "CO", "80202"),
        ("MIAMI", "FL", "33130"),
    ),
    "CA": (("TORONTO", "ON", "M5V 2T6"), ("VANCOUVER", "BC", "V6B 1A1"), ("CALGARY", "AB", "T2P 1J9")),
    "GB": (("LONDON", "", "SW1A 1AA"), ("MANCHESTER", "", "M1 1AE"), ("LEEDS", "", "LS1 4DY")),
    "DE": (("BERLIN", "", "10115"), ("MÜNCHEN", "", "80331"), ("HAMBURG", "", "20095")),
    "NL": (("AMSTERDAM", "", "1012 JS"),),
    "FR": (("PARIS", "", "75001"),),
}
_ZW = ("\u200b", "\u200c", "\u2060")


def person(rng: random.Random) -> tuple[str, str]:
    """(display name, e-mail handle) of a customer."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    domain = rng.choice(("example.com", "mail.example.org", "example.net"))
    local = f"{first}.{last}".lower().replace("'", "").replace("ü", "ue")
    return f"{first} {last}", f"{local}{rng.randint(1, 99) if rng.random() < 0.3 else ''}@{domain}"


def place(rng: random.Random, country: str) -> tuple[str, str, str]:
    return rng.choice(PLACES[country])


# --- decoys (never real shipments) ---------------------------------------------------------------
def order_number(rng: random.Random) -> str:
    """A shop order number, e.g. "10234" (printed as #10234)."""
    return str(rng.randint(10000, 10999)) if rng.random() < 0.7 else f"NW-{rng.randint(100000, 999999)}"


def amazon_order(rng: random.Random) -> str:
    return f"11{rng.randint(1, 4)}-{rng.randint(1000000, 9999999)}-{rng.randint(1000000, 9999999)}"


def po_number(rng: random.Random) -> str:
    """A purchase-order number, printed after "PO" (10-digit SAP style numbers look like DHL waybills)."""
    return f"4500{rng.randint(100000, 999999)}" if rng.random() < 0.5 else str(rng.randint(20000, 89999))


def invoice_number(rng: random.Random) -> str:
    return rng.choice((f"INV-2026-{rng.randint(100, 99999):05d}", f"{rng.randint(80000000, 89999999)}"))


def phone(rng: random.Random) -> str:
    area, mid, end = rng.randint(201, 989), rng.randint(200, 999), rng.randint(1000, 9999)
    return rng.choice(
        (
            f"+1 ({area}) {mid}-{end}",
            f"{area}-{mid}-{end}",
            f"1-800-{mid}-{end}",
            f"+44 20 {rng.randint(7000, 7999)} {end}",
        )
    )


def amount(rng: random.Random) -> str:
    return f"${rng.randint(12, 4800):,}.{rng.randint(0, 99):02d}"


def rma_number(rng: random.Random) -> str:
    return f"RMA{rng.randint(1000000, 9999999)}"


def fmt_date(ts: float, style: int = 0) -> str:
    """A human date for message bodies (UTC)."""
    t = time.gmtime(ts)
    if style == 1:
        return time.strftime("%m/%d/%Y", t)
    if style == 2:
        return time.strftime("%d.%m.%Y", t)
    return time.strftime("%a, %b %d, %Y", t).replace(" 0", " ")


def iso_day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def mail_date(ts: float) -> str:
    """Gmail-style date: "Tue, Nov 3, 2026 at 9:14 AM" (UTC)."""
    return time.strftime("%a, %b %d, %Y at %I:%M %p", time.gmtime(ts)).replace(" 0", " ")


def quote_header(ts: float, name: str, handle: str) -> str:
    return f"On {mail_date(ts)} {name} <{handle}> wrote:"


# --- hostile characters --------------------------------------------------------------------------
def zero_width(rng: random.Random, word: str) -> str:
    """`word` with a zero-width character inside (copy/paste debris)."""
    if len(word) < 2:
        return word
    cut = rng.randint(1, len(word) - 1)
    return word[:cut] + rng.choice(_ZW) + word[cut:]


def full_width(text: str) -> str:
    """ASCII letters/digits as their full-width forms (CJK input methods)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def qp_soft_wrap(text: str, protect: tuple[str, ...], width: int = 76) -> str:
    """Insert quoted-printable soft breaks ("=\\n") into long lines, never inside a `protect` string."""
    out = []
    for line in text.split("\n"):
        spans = [(i, i + len(p)) for p in protect if p for i in _find_all(line, p)]
        while len(line) > width:
            cut = width - 1
            for start, end in spans:
                if start < cut < end:
                    cut = start
            if cut <= 0:
                break
            out.append(line[:cut] + "=")
            line = line[cut:]
            spans = [(s - cut, e - cut) for s, e in spans if e > cut]
        out.append(line)
    return "\n".join(out)


def _find_all(line: str, needle: str) -> list[int]:
    found, pos = [], line.find(needle)
    while pos >= 0:
        found.append(pos)
        pos = line.find(needle, pos + 1)
    return found


# --- the parallel writer ---------------------------------------------------------------------------
def esc(text: str) -> str:
    return html.escape(text, quote=False)


@dataclass
class Doc:
    """Accumulates one message body as HTML and as plain text, block by block."""

    html_parts: list[str] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    def para(self, text: str, html_text: str | None = None) -> Doc:
        """A paragraph; `html_text` overrides the HTML (already escaped), else `text` is escaped."""
        self.html_parts.append(f"<p>{html_text if html_text is not None else esc(text)}</p>")
        self.text_parts.append(text)
        return self

    def lines(self, lines: list[str]) -> Doc:
        self.html_parts.append("<div>" + "<br>".join(esc(x) for x in lines) + "</div>")
        self.text_parts.append("\n".join(lines))
        return self

    def raw(self, html_block: str, text_block: str) -> Doc:
        self.html_parts.append(html_block)
        self.text_parts.append(text_block)
        return self

    def html(self) -> str:
        return "\n".join(self.html_parts)

    def text(self) -> str:
        return "\n\n".join(p for p in self.text_parts if p)


def link(url: str, label: str) -> tuple[str, str]:
    """(html, text) of a link; the text form shows the URL like Front's plain-text rendering."""
    # `&` in hrefs is written `&amp;`, as real HTML mail does (extractors must unescape it).
    return f'<a href="{html.escape(url)}" target="_blank">{esc(label)}</a>', f"{label} <{url}>"
