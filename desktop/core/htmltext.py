"""HTML e-mail bodies to plain text with the stdlib `html.parser`, marking which lines are quoted history.

What it does with hostile markup:
- entities are decoded (the parser's `convert_charrefs`), whitespace collapsed as a browser would;
- `<br>`, `<p>`, `<div>`, headings, list items and table rows start new lines; table cells are joined with
  " | " (never a space or tab, so numbers in neighbouring cells never merge into one);
- `<script>`, `<style>`, `<head>`, `<template>` and hidden elements (`display:none`, `visibility:hidden`,
  `hidden`, zero font size or height, `mso-hide:all`: the usual hidden preheaders) are dropped;
- lines inside `<blockquote>` or Gmail/Outlook quote containers are returned with `quoted=True`, except a
  forwarded message (its header line says "Forwarded message"), which is content, not history.
Unclosed and stray tags are tolerated: `<p>`, `<li>`, `<tr>` and `<td>` close implicitly, and an end tag
closes its nearest open match only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from desktop.core.tracking.links import is_tracking_link

DROP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg"})
VOID_TAGS = frozenset({"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "source",
                       "track", "embed", "param"})
BLOCK_TAGS = frozenset({"p", "div", "table", "tbody", "thead", "tfoot", "tr", "ul", "ol", "li", "h1", "h2", "h3",
                        "h4", "h5", "h6", "blockquote", "pre", "section", "article", "header", "footer", "center",
                        "address", "dl", "dt", "dd", "form", "fieldset", "main", "nav", "aside", "caption"})
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all|(?<![-\w])font-size\s*:\s*0(?:\.0+)?(?:px|pt|em)?\s*(?:;|$|!)"
    r"|(?<![-\w])max-height\s*:\s*0(?:px)?\s*(?:;|$|!)|(?<![-\w])opacity\s*:\s*0(?:\.0+)?\s*(?:;|$|!)", re.I)
_QUOTE_CLASS = re.compile(r"gmail_quote|yahoo_quoted|moz-cite-prefix|OutlookMessageHeader|divRplyFwdMsg|"
                          r"protonmail_quote|zmail_extra|ms-outlook-quote|quote", re.I)
#: Links worth keeping in the text: carrier tracking pages and tracking-ish parameters or paths.
_TRACKING_LINK = re.compile(
    r"^(?:https?:)?//[^\s]*(?:track|trace|trknbr|tlabels|awb|parcel|shipment|consignment|sendung|suivi|"
    r"ups\.com|usps\.com|fedex\.com|dhl\.|ontrac|lasership|canadapost|purolator|dpd|odfl|yodel|yuntrack|canpar|"
    r"landmarkglobal|speedee|gofo)", re.I)
_FORWARD = re.compile(r"forwarded message|begin forwarded|original message follows", re.I)
MAX_DEPTH = 400   # deeper nesting than this is flattened (hostile input), so the stack stays small


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    quoted: bool


@dataclass
class _Open:
    tag: str
    hidden: bool
    quoted: bool
    pre: bool
    quote_start: int = -1   # index of the first line of a quote container (to undo it for forwards)
    href: str | None = None  # a tracking link's target, written after the link text when the <a> closes
    text_from: int = 0       # where the link text starts in the parser's pending parts


_ROOT = _Open("", False, False, False)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[Line] = []
        self.quoted_flags: list[bool] = []
        self._parts: list[str] = []
        self._stack: list[_Open] = []
        self._dropping = 0
        self._cell_open = False

    # --- state --------------------------------------------------------------------------------------
    @property
    def _hidden(self) -> bool:
        return bool(self._stack) and self._stack[-1].hidden

    @property
    def _quoted(self) -> bool:
        return bool(self._stack) and self._stack[-1].quoted

    @property
    def _pre(self) -> bool:
        return bool(self._stack) and self._stack[-1].pre

    def _newline(self) -> None:
        text = "".join(self._parts)
        self._parts = []
        self._cell_open = False
        if not self._pre:
            text = " ".join(text.split())
        if text.strip():
            self.lines.append(Line(text.rstrip(), self._quoted))

    # --- parser callbacks ---------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_TAGS:
            self._dropping += 1
            return
        if tag == "br":
            self._newline()
            return
        if tag in ("td", "th"):
            self._close_implicit(tag)
            if self._cell_open or "".join(self._parts).strip():
                self._parts.append(" | ")
            self._cell_open = True
        elif tag in BLOCK_TAGS or tag == "hr":
            self._close_implicit(tag)
            self._newline()
        if tag in VOID_TAGS:
            return
        self._push(tag, dict(attrs))

    def _push(self, tag: str, attrs: dict[str, str | None]) -> None:
        if len(self._stack) >= MAX_DEPTH:
            return
        parent = self._stack[-1] if self._stack else _ROOT
        hidden = parent.hidden
        quote = tag == "blockquote"
        if attrs:   # most tags in bulk markup have none: skip the attribute checks then
            style = attrs.get("style")
            hidden = hidden or "hidden" in attrs or (bool(style) and bool(_HIDDEN_STYLE.search(style or "")))
            marks = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
            quote = quote or (len(marks) > 1 and bool(_QUOTE_CLASS.search(marks)))
        entry = _Open(tag, hidden, parent.quoted or quote, parent.pre or tag == "pre")
        if tag == "a" and _keeps_link(attrs.get("href") or ""):
            entry.href = attrs.get("href")
            entry.text_from = len(self._parts)
        if quote and not parent.quoted:
            self._newline()
            entry.quote_start = len(self.lines)
        self._stack.append(entry)

    def _close_implicit(self, tag: str) -> None:
        """Close what HTML closes implicitly: an open <p> before a block, <li> before <li>, cells before cells."""
        if not self._stack:
            return
        top = self._stack[-1].tag
        if (top == "p" and tag in BLOCK_TAGS) or (tag == "li" and top == "li") or \
                (tag in ("dt", "dd") and top in ("dt", "dd")) or (tag in ("td", "th") and top in ("td", "th")):
            self._pop_to(len(self._stack) - 1)
        elif tag == "tr":
            while self._stack and self._stack[-1].tag in ("td", "th", "tr"):
                closing = self._stack[-1].tag
                self._pop_to(len(self._stack) - 1)
                if closing == "tr":
                    break

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_TAGS:
            self._dropping = max(0, self._dropping - 1)
            return
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index].tag == tag:
                if tag in BLOCK_TAGS:
                    self._newline()
                self._pop_to(index)
                return

    def _pop_to(self, index: int) -> None:
        """Close the element at `index` and everything opened after it."""
        while len(self._stack) > index:
            if self._stack[-1].tag in BLOCK_TAGS:
                self._newline()   # before popping: the line belongs to the element being closed
            entry = self._stack.pop()
            if entry.href and not entry.hidden and not self._dropping and not self._link_text_is_number(entry):
                # The number is often only in the link ("Track package" -> ...?tracknum=1Z...): keep the URL.
                self._parts.append(f" <{entry.href}>")
            if entry.quote_start >= 0:
                self._unquote_forward(entry.quote_start)

    def _link_text_is_number(self, entry: _Open) -> bool:
        """True when the link's own text is the number its URL carries (no need to write the URL too)."""
        shown = _NON_ALNUM.sub("", "".join(self._parts[entry.text_from:])).upper()
        return len(shown) >= 8 and shown in _NON_ALNUM.sub("", entry.href or "").upper()

    def _unquote_forward(self, first: int) -> None:
        """A quote container that holds a forwarded message is content: unmark its lines."""
        head = " ".join(line.text for line in self.lines[first:first + 3])
        if _FORWARD.search(head):
            self.lines[first:] = [Line(line.text, False) for line in self.lines[first:]]

    def handle_data(self, data: str) -> None:
        if self._dropping or self._hidden:
            return
        self._parts.append(data)

    def close(self) -> None:
        super().close()
        self._pop_to(0)
        self._newline()


def _keeps_link(href: str) -> bool:
    """A tracking link: by its words, or by its (possibly redirected) host or parameters."""
    return bool(_TRACKING_LINK.search(href)) or (href.startswith(("http", "//")) and is_tracking_link(href))


_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_LONE_LT = re.compile(r"<(?![A-Za-z/!?])")


def html_lines(html: str) -> list[Line]:
    """The visible lines of an HTML body, each marked quoted or not."""
    parser = _TextParser()
    # A "<" that starts no tag is text; escaping it first spares the parser a slow path per character.
    parser.feed(_LONE_LT.sub("&lt;", html))
    parser.close()
    return parser.lines


def html_to_text(html: str) -> str:
    """The visible text of an HTML body, one line per block, quoted history included."""
    return "\n".join(line.text for line in html_lines(html))


_TAG_HINT = re.compile(r"<(?:html|body|div|p|br|table|span|a|blockquote|td|font|b|i|strong|img)\b[^>]*>", re.I)


def looks_like_html(text: str) -> bool:
    """True when `text` contains common HTML tags (so plain-text bodies are not parsed as HTML)."""
    return bool(_TAG_HINT.search(text[:20000]))
