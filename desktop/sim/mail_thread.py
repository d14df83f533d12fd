"""Turns message bodies into `SimMessage`s: quoted history, forwards, signatures, attachments, blurbs.

Quoting is how real replies repeat numbers: the reply's HTML carries the previous message in a
`<blockquote>` under an "On ... wrote:" line, its text in "> " lines. Quotes are capped in size so
very long threads stay linear in size.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from desktop.sim import mail_text as mt
from desktop.sim.mail_carriers import wrap_html
from desktop.sim.workspace import SimMessage

_MAX_QUOTE = 6000  # characters of quoted text before only the previous message's own part is quoted
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)
_SPACES = re.compile(r"\s+")


@dataclass
class Draft:
    """A message before assembly."""

    ts: float
    inbound: bool
    from_name: str
    from_handle: str
    to: list[tuple[str, str]]
    subject: str
    doc: mt.Doc
    author_name: str | None = None
    signature: mt.Doc | None = None
    full_html: bool = False  # a notification: a whole <html> document with <style>
    color: str = "#333"
    qp_wrap: bool = False  # add quoted-printable soft breaks to the text
    attachments: list[dict] | None = None
    render: Callable[[Draft], None] | None = None  # writes `doc` once `ts` is final
    quote_previous: bool = True  # replies quote the message before them


def agent_signature(rng: random.Random, agent: tuple[str, str]) -> mt.Doc:
    first, last = agent
    lines = [
        f"{first} {last}",
        f"Customer Care | {mt.SHOP}",
        f"Phone: {mt.phone(rng)}",
        f"www.{mt.SHOP_DOMAIN}",
    ]
    doc = mt.Doc()
    doc.raw(
        '<div class="signature" style="color:#777">-- <br>'
        + "<br>".join(mt.esc(x) for x in lines)
        + "</div>",
        "-- \n" + "\n".join(lines),
    )
    return doc


def customer_signature(rng: random.Random) -> mt.Doc | None:
    if rng.random() < 0.3:
        return mt.Doc().raw("<div>Sent from my iPhone</div>", "Sent from my iPhone")
    return None


def _inner_html(body_html: str) -> str:
    match = _BODY.search(body_html)
    return match.group(1) if match else body_html


def quote_block(prev: SimMessage, own_text: str, own_html: str) -> tuple[str, str]:
    """(html, text) quoting `prev`; only its own part when the full body is too long."""
    text = prev.text if len(prev.text) <= _MAX_QUOTE else own_text
    body = _inner_html(prev.body_html) if len(prev.body_html) <= 3 * _MAX_QUOTE else own_html
    header = mt.quote_header(prev.created_at, prev.from_name, prev.from_handle)
    quoted_text = header + "\n" + "\n".join("> " + line if line else ">" for line in text.split("\n"))
    quoted_html = (
        f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{mt.esc(header)}<br></div>'
        '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;'
        f'padding-left:1ex">{body}</blockquote></div>'
    )
    return quoted_html, quoted_text


def forward_doc(note: str, inner: Draft) -> mt.Doc:
    """A body forwarding `inner` under a "---------- Forwarded message ---------" header."""
    when = mt.mail_date(inner.ts)
    to = ", ".join(f"{name} <{handle}>" for name, handle in inner.to)
    head = [
        "---------- Forwarded message ---------",
        f"From: {inner.from_name} <{inner.from_handle}>",
        f"Date: {when}",
        f"Subject: {inner.subject}",
        f"To: {to}",
    ]
    doc = mt.Doc()
    doc.para(note)
    head_html = "<br>".join(mt.esc(x) for x in head)
    doc.raw(
        f'<div class="gmail_quote">{head_html}<br><br>{_inner_html(inner.doc.html())}</div>',
        "\n".join(head) + "\n\n" + inner.doc.text(),
    )
    return doc


def blurb(text: str) -> str:
    return _SPACES.sub(" ", text).strip()[:120]


def assemble(
    draft: Draft,
    msg_id: str,
    quote: SimMessage | None,
    own: dict[str, tuple[str, str]],
    protect: tuple[str, ...] = (),
) -> SimMessage:
    """Build the SimMessage (own part + signature + quote). `own` maps message ids to their own
    (html, text) so long threads can quote only the previous message's own part."""
    own_html, own_text = draft.doc.html(), draft.doc.text()
    own[msg_id] = (own_html, own_text)
    html_parts, text_parts = [own_html], [own_text]
    if draft.signature is not None:
        html_parts.append(draft.signature.html())
        text_parts.append(draft.signature.text())
    if quote is not None:
        own_html_prev, own_text_prev = own[quote.id]
        q_html, q_text = quote_block(quote, own_text_prev, own_html_prev)
        html_parts.append(q_html)
        text_parts.append(q_text)
    inner = "\n".join(html_parts)
    body_html = wrap_html(inner, draft.color) if draft.full_html else f'<div dir="ltr">{inner}</div>'
    text = "\n\n".join(p for p in text_parts if p)
    if draft.qp_wrap:
        text = mt.qp_soft_wrap(text, protect)
    return SimMessage(
        id=msg_id,
        created_at=draft.ts,
        is_inbound=draft.inbound,
        author_name=draft.author_name,
        from_name=draft.from_name,
        from_handle=draft.from_handle,
        to=list(draft.to),
        subject=draft.subject,
        body_html=body_html,
        text=text,
        blurb=blurb(own_text),
        attachments=list(draft.attachments or []),
    )
