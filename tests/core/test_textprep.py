"""Text preparation: hostile HTML, quoted history and signatures, forwards, headers, token budget."""

from __future__ import annotations

import time

import pytest

from desktop.core.htmltext import html_lines, html_to_text
from desktop.core.textprep import estimate_tokens, prepare, undo_quoted_printable
from desktop.core.tracking import find_candidates, occurs_in
from desktop.domain import Conversation, ConversationRef, Message

UPS = "1Z5R89390357567127"
UPS2 = "1Z879E930346834440"
FEDEX = "986578788855"


def conversation(*bodies: str, html: bool = True, subject: str = "Where is my parcel?") -> Conversation:
    messages = tuple(
        Message(id=f"msg_{i}", conversation_id="cnv_1", created_at=1_780_000_000 + 3600 * i, is_inbound=i % 2 == 0,
                sender=f"Person {i} <p{i}@example.com>", subject=subject,
                body_html=body if html else "", text=None if html else body)
        for i, body in enumerate(bodies))
    ref = ConversationRef("cnv_1", subject, "open", ("inb_1",), messages[-1].id, messages[-1].created_at)
    return Conversation(ref, messages)


def count_number(number: str, text: str) -> int:
    return sum(1 for c in find_candidates(text) if c.number == number)


# --- HTML --------------------------------------------------------------------------------------------


HOSTILE = f"""<!DOCTYPE html><html><head><title>Shipped</title>
<style>.x {{ content: "{UPS2}" }}</style><script>var tracking = "{UPS2}";</script></head><body>
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">Preheader {UPS2}&zwnj;&nbsp;&zwnj;</div>
<span style="font-size:0px">hidden {UPS2}</span><div hidden>also hidden {UPS2}</div>
<p>Hello&nbsp;Jane &amp; team,<br>your order &#35;4711 shipped.
<table><tr><th>Carrier</th><th>Tracking</th></tr><tr><td>UPS</td><td>1Z5R 8939&#8203;0357 5671 27</td></tr></table>
<p>Track it <a href="https://www.ups.com/track?loc=en_US&amp;tracknum={UPS}">here</a>.
<a href="https://email.example/unsubscribe?u=8231440012">Unsubscribe</a>
</body></html>"""


def test_html_to_text_drops_scripts_styles_and_hidden_parts():
    text = html_to_text(HOSTILE)
    assert UPS2 not in text
    assert "Hello Jane & team," in text
    assert "your order #4711 shipped." in text
    assert "Carrier | Tracking" in text and "UPS | 1Z5R 8939\u200b0357 5671 27" in text
    assert f"<https://www.ups.com/track?loc=en_US&tracknum={UPS}>" in text   # tracking links are kept
    assert "unsubscribe" not in text                                        # other links are not
    assert {c.number for c in find_candidates(text) if c.accepted} == {UPS}


def test_unclosed_and_stray_tags_are_tolerated():
    text = html_to_text("<p>one<p>two</span></div><ul><li>a<li>b</ul><table><tr><td>x<td>y<tr><td>z</table>tail")
    assert text.split("\n") == ["one", "two", "a", "b", "x | y", "z", "tail"]


def test_nested_quotes_are_marked_quoted():
    lines = html_lines("<p>new</p><blockquote>old<blockquote>older</blockquote>old tail</blockquote><p>after")
    assert [(line.text, line.quoted) for line in lines] == [
        ("new", False), ("old", True), ("older", True), ("old tail", True), ("after", False)]


def test_gmail_forward_is_content_not_history():
    html = ('<div>FYI</div><div class="gmail_quote"><div class="gmail_attr">---------- Forwarded message '
            f'---------<br>From: shop</div><div>UPS tracking {UPS}</div></div>')
    assert all(not line.quoted for line in html_lines(html))


@pytest.mark.slow
def test_five_megabyte_bodies_do_not_hang():
    big_html = ("<div><p style='display:none'>x</p><table><tr><td>Order</td><td>4711</td></tr></table>"
                "<script>var a=1;</script><blockquote>quoted <b>text</b></blockquote></div>\n" * 15_000)
    big_html += f"<p>FedEx tracking {FEDEX}</p>" + big_html
    hostile = ["<" * 5_000_000, "<!--" + "a" * 5_000_000, "<p>" * 1_600_000, "&#" * 2_500_000, big_html]
    for body in hostile:
        started = time.perf_counter()
        html_to_text(body)
        print(f"html_to_text on {len(body) / 1e6:.1f} MB ({body[:8]!r}...): {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    prepared = prepare(conversation(big_html))
    print(f"prepare() on a {len(big_html) / 1e6:.1f} MB message: {time.perf_counter() - started:.2f} s, "
          f"{prepared.token_estimate} tokens, truncated={prepared.truncated}")
    assert prepared.truncated and prepared.token_estimate <= 6000
    assert occurs_in(FEDEX, prepared.llm_text)


# --- quoted history, signatures, headers ---------------------------------------------------------------


def test_quoted_history_is_not_sent_twice():
    first = f"<p>Your UPS tracking number is {UPS}.</p>"
    reply = (f"<p>Thanks! Where is it?</p><div class='gmail_quote'>On Mon, Nov 2, 2026 Shop wrote:"
             f"<blockquote>{first}</blockquote></div>")
    plain_reply = f"Still nothing.\n\nOn Tue, Nov 3, 2026 at 10:00 Shop <s@x.com> wrote:\n> Your UPS tracking number is {UPS}."
    outlook = (f"<p>Any news?</p><p>-----Original Message-----<br>From: Shop<br>Sent: Monday<br>"
               f"Subject: shipped<br>Your UPS tracking number is {UPS}.</p>")
    prepared = prepare(conversation(first, reply, outlook))
    assert count_number(UPS, prepared.llm_text) == 1
    assert count_number(UPS, prepared.full_text) == 3
    prepared = prepare(conversation(first.replace("<p>", "").replace("</p>", ""), plain_reply, html=False))
    assert count_number(UPS, prepared.llm_text) == 1
    assert "Still nothing." in prepared.llm_text


def test_a_number_only_in_quoted_history_is_shown_once():
    reply = (f"<p>It never arrived.</p><blockquote>On Monday you wrote: UPS tracking {UPS}</blockquote>")
    prepared = prepare(conversation(reply, reply.replace("never", "still not")))
    assert count_number(UPS, prepared.llm_text) == 1
    assert "[quoted in message msg_0]" in prepared.llm_text
    assert [s.quoted for s in prepared.segments] == [False, True, False, True]


def test_signatures_are_removed_from_llm_text_only():
    body = (f"Your FedEx tracking number is {FEDEX}.\n\nBest regards,\nTom Becker\nNorthwind\n"
            "Phone 555-0199\n")
    prepared = prepare(conversation(body, "Thanks\n-- \nJane\nSent from my phone", html=False))
    assert "Tom Becker" not in prepared.llm_text and "Jane" not in prepared.llm_text
    assert "Tom Becker" in prepared.full_text
    assert FEDEX in prepared.llm_text


def test_headers_keep_message_order_dates_and_senders():
    prepared = prepare(conversation("<p>second</p>", "<p>third</p>"))
    lines = prepared.llm_text.split("\n")
    assert lines[0] == "Subject: Where is my parcel?"
    assert "[message msg_0 | 2026-05-28T20:26:40Z | from Person 0 <p0@example.com>]" in lines
    assert prepared.llm_text.index("msg_0") < prepared.llm_text.index("msg_1")
    assert not prepared.truncated and prepared.token_estimate == estimate_tokens(prepared.llm_text)


def test_forwarded_plain_text_message_is_kept():
    body = (f"FYI see below\n\n---------- Forwarded message ---------\nFrom: Shop <s@x.com>\n"
            f"Date: Mon, Nov 2, 2026\nSubject: Shipped\nTo: me@x.com\n\nUPS tracking {UPS}\n")
    prepared = prepare(conversation(body, html=False))
    assert count_number(UPS, prepared.llm_text) == 1
    assert "Subject: Shipped" in prepared.llm_text and not any(s.quoted for s in prepared.segments)


def test_quoted_printable_soft_breaks_are_undone():
    raw = "<p style=3D\"x\">UPS tracking 1Z5R8939035=\n7567127</p>"
    assert undo_quoted_printable(raw) == f'<p style="x">UPS tracking {UPS}</p>'
    assert occurs_in(UPS, prepare(conversation(raw)).llm_text)
    assert undo_quoted_printable("a = b\nc") == "a = b\nc"


def test_token_budget_truncates_visibly_and_keeps_number_lines():
    filler = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 40 + "</p>"
    bodies = [filler * 5 for _ in range(6)]
    bodies[3] += f"<p>FedEx tracking {FEDEX}</p>" + filler * 3
    prepared = prepare(conversation(*bodies), token_budget=1500)
    assert prepared.truncated
    assert prepared.token_estimate <= 1500
    assert occurs_in(FEDEX, prepared.llm_text)
    assert all(f"msg_{i}" in prepared.llm_text for i in range(6))


def test_estimate_tokens_counts_digits_heavier_than_words():
    assert estimate_tokens("") == 0
    assert estimate_tokens("hello world") == 4
    assert estimate_tokens("1234567890") == 4
