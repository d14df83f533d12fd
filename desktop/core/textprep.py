"""Text preparation: a Front conversation -> the text the extractors read.

`prepare(conversation, token_budget)` gives a `PreparedConversation`:
- `llm_text`: a "Subject:" line, then every message oldest first, each headed by
  "[message <id> | <ISO date> | from <sender>]", with quoted history ("On ... wrote:", "> " lines,
  <blockquote>, Gmail/Outlook quote blocks, "-----Original Message-----") and signatures removed and
  forwarded messages kept. A number that occurs ONLY in quoted history (the original is not in the
  conversation) is still shown once, in a "[quoted in message <id>]" excerpt of the lines around it.
  Cut to `token_budget` (estimated tokens); then `truncated` is True and lines holding numbers are kept first.
- `full_text`: the same headers with every message in full, quoted history included (for the engine).
- `segments`: per message, the new text (quoted=False) and, when present, its quoted history (quoted=True).
"""

from __future__ import annotations

import functools
import math
import quopri
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from desktop.core.htmltext import Line, html_lines, html_to_text, looks_like_html
from desktop.core.textbudget import fit_to_budget
from desktop.core.tracking import LineCache, find_candidates
from desktop.core.tracking.normalise import fold
from desktop.domain import Conversation, Message

__all__ = ["PreparedConversation", "Segment", "estimate_tokens", "html_to_text", "message_header", "message_texts",
           "prepare", "split_quoted"]


@dataclass(frozen=True, slots=True)
class Segment:
    message_id: str
    sender: str
    created_at: float
    text: str
    quoted: bool


@dataclass(frozen=True, slots=True)
class PreparedConversation:
    conversation_id: str
    subject: str
    llm_text: str
    full_text: str
    segments: tuple[Segment, ...]
    truncated: bool
    token_estimate: int


_TOKEN_PIECES = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]")


def estimate_tokens(text: str) -> int:
    """Roughly the tokens a GPT-style tokenizer makes of `text`: words ~4 letters a token, digit runs ~3
    digits a token (numbers tokenise badly), punctuation 1 each. Errs on the high side."""
    total = 0
    for piece in _TOKEN_PIECES.findall(text):
        first = piece[0]
        if first.isdigit():
            total += math.ceil(len(piece) / 3)
        elif first.isalpha():
            total += math.ceil(len(piece) / 4)
        else:
            total += 1
    return total


# --- quoted-printable ---------------------------------------------------------------------------------

_SOFT_BREAK = re.compile(r"=\r?\n")
_QP_ESCAPE = re.compile(r"=(?:3D|20|09|0D|0A|[C-F][0-9A-F]=[89AB][0-9A-F])")


def undo_quoted_printable(text: str) -> str:
    """Decode a body that is still quoted-printable (soft "=" line breaks that split numbers, "=3D"...).

    Only when it looks encoded: soft breaks present and either "=3D"-style escapes or only short lines.
    """
    if not _SOFT_BREAK.search(text):
        return text
    lines = text.splitlines()
    if not (_QP_ESCAPE.search(text) or max(map(len, lines), default=0) <= 78):
        return text
    try:
        return quopri.decodestring(text.encode("utf-8", "surrogateescape")).decode("utf-8", "replace")
    except ValueError:
        return _SOFT_BREAK.sub("", text)


# --- quoted history and signatures in plain text -------------------------------------------------------

_ON_WROTE = re.compile(r"^\s*(?:On|Le|Am|El|Op|Il)\s.{3,200}(?:wrote|a écrit|schrieb|escribió|schreef|ha scritto)\s*:\s*$",
                       re.I)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}\s*$", re.I)
_OUTLOOK_HEADER = re.compile(r"^\s*\**From:\**\s.+", re.I)
_OUTLOOK_NEXT = re.compile(r"^\s*\**(?:Sent|Date|To|Subject|Cc):\**\s", re.I)
_FORWARD = re.compile(r"^\s*(?:-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:?)\s*$", re.I)
_SIG_DELIMITER = re.compile(r"^-- ?$")
_SIGN_OFF = re.compile(r"^\s*(?:best(?: regards| wishes)?|kind regards|warm regards|regards|many thanks|thanks|"
                       r"thank you|thx|cheers|sincerely|yours(?: truly| sincerely)?|cordialement|"
                       r"mit freundlichen grüßen|sent from my \w+)\s*[,.!]?\s*$", re.I)
SIGNATURE_MAX_LINES = 6


def split_quoted(lines: list[Line]) -> tuple[list[str], list[str]]:
    """(new lines, quoted-history lines) of one message.

    Quoted history: lines already marked quoted by the HTML parser, "> " lines, and everything after an
    "On ... wrote:" line, an "-----Original Message-----" line or an Outlook "From:/Sent:" header block.
    A forwarded message ("---------- Forwarded message ----------") stays new text. Signatures are dropped
    from the new lines: everything after a "-- " line, or a short sign-off block at the end.
    """
    new: list[str] = []
    quoted: list[str] = []
    in_history = False
    forward_header_until = -1   # the From:/Date:/Subject: block right after a forward marker is content
    for index, line in enumerate(lines):
        text = line.text
        if _FORWARD.match(text):
            in_history = False
            forward_header_until = index + 6
        elif not in_history and index > forward_header_until and _starts_history(lines, index):
            in_history = True
        if in_history or line.quoted or text.lstrip().startswith(">"):
            quoted.append(text.lstrip("> ").rstrip() if text.lstrip().startswith(">") else text)
        else:
            new.append(text)
    return _strip_signature(new), quoted


def _starts_history(lines: list[Line], index: int) -> bool:
    text = lines[index].text
    if _ON_WROTE.match(text) or _ORIGINAL.match(text):
        return True
    if _OUTLOOK_HEADER.match(text):
        following = [line.text for line in lines[index + 1:index + 4]]
        return sum(bool(_OUTLOOK_NEXT.match(t)) for t in following) >= 2
    return False


def _strip_signature(lines: list[str]) -> list[str]:
    for index, text in enumerate(lines):
        if _SIG_DELIMITER.match(text):
            return lines[:index]
    for index in range(max(0, len(lines) - SIGNATURE_MAX_LINES - 1), len(lines)):
        if _SIGN_OFF.match(lines[index]):
            tail = lines[index + 1:]
            if len(tail) <= SIGNATURE_MAX_LINES and all(len(t) <= 60 and "track" not in t.lower() for t in tail):
                return lines[:index]
    return lines


# --- messages ----------------------------------------------------------------------------------------


def message_lines(message: Message) -> list[Line]:
    """The visible lines of a message: its HTML body if it has one, else its plain text; every line
    passed through `clean_line` (digits of any script read as ASCII, no bidi controls)."""
    return list(_visible(message.body_html or "", message.text or message.blurb or ""))


def message_text(message: Message) -> str:
    """The texts of `message_lines(message)` joined by line breaks."""
    return "\n".join(line.text for line in _visible(message.body_html or "", message.text or message.blurb or ""))


# The engine reads each message twice (the prepared text, then the rules' scan) and verification a third
# time: parsing the HTML once instead of three times is a third of the engine's CPU. Keyed by the body
# itself (a str caches its hash), so a copy of a message from another process hits it as well; the size
# bounds memory to about as many messages as a full window of conversations holds.
@functools.lru_cache(maxsize=1024)
def _visible(body_html: str, text: str) -> tuple[Line, ...]:
    """The cleaned lines of an HTML body, or of a plain-text body (`text` when the body is empty)."""
    body = body_html
    if body.strip():
        body = undo_quoted_printable(body)
        if looks_like_html(body):
            return tuple(Line(clean_line(line.text), line.quoted) for line in html_lines(body))
        return tuple(Line(clean_line(t), False) for t in body.splitlines() if t.strip())
    text = undo_quoted_printable(text)
    return tuple(Line(clean_line(t.rstrip()), False) for t in text.splitlines() if t.strip())


#: Bidirectional controls: an override (U+202E) makes "1Z999..." show reversed to a reviewer, so the
#: evidence would not read as the text the number came from. They carry no meaning for us: removed.
BIDI_CONTROLS = dict.fromkeys((*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C))


def clean_line(text: str) -> str:
    """`text` without bidi controls and with every Unicode decimal digit (Arabic-Indic, Devanagari,
    full-width, ...) as its ASCII digit: NFKC would fold only some of them (full-width yes, Arabic-Indic
    no), so digits are mapped by their decimal value, the same for every script."""
    if text.isascii():   # no control, no other digit: most lines; checked first, as translate is slow
        return text
    text = text.translate(BIDI_CONTROLS)
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if not ch.isascii() and unicodedata.decimal(ch, None) is not None
                   else ch for ch in text)


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def message_header(message: Message) -> str:
    return f"[message {message.id} | {iso_time(message.created_at)} | from {message.sender}]"


def _segments(message: Message) -> tuple[Segment, Segment | None, str]:
    """(new-text segment, quoted-history segment or None, full text) of one message."""
    lines = message_lines(message)
    new, quoted = split_quoted(lines)
    fresh = Segment(message.id, message.sender, message.created_at, "\n".join(new), False)
    history = Segment(message.id, message.sender, message.created_at, "\n".join(quoted), True) if quoted else None
    return fresh, history, "\n".join(line.text for line in lines)


def _quoted_only_excerpts(history: list[Segment], seen_text: str) -> list[str]:
    """Excerpts of quoted history holding a number that no message's own text has (each number once)."""
    excerpts: list[str] = []
    shown: set[str] = set()
    scanned: LineCache = {}   # each reply quotes the history before it again: its lines are scanned once
    for segment in history:
        lines = segment.text.splitlines()
        for candidate in find_candidates(segment.text, scanned):
            plausible = candidate.accepted or "needs_context" in candidate.reasons
            if not plausible or candidate.number in shown or candidate.number in seen_text:
                continue
            shown.add(candidate.number)
            row = segment.text.count("\n", 0, candidate.start)
            context = "\n".join(lines[max(0, row - 2):row + 2])
            excerpts.append(f"[quoted in message {segment.message_id}]\n{context}")
    return excerpts


def _squash(text: str) -> str:
    """`text` without spaces, dashes, line breaks or zero-width characters, full-width folded, upper-case."""
    return fold(text).replace("\n", "").replace("\r", "").upper()


def prepare(conversation: Conversation, token_budget: int = 6000) -> PreparedConversation:
    """Turn a conversation (messages oldest first) into the extractors' texts; see the module docstring."""
    messages = sorted(conversation.messages, key=lambda m: m.created_at)
    subject = conversation.ref.subject or ""
    segments: list[Segment] = []
    history: list[Segment] = []
    blocks: list[tuple[str, str]] = []
    full_parts = [f"Subject: {subject}"]
    for message in messages:
        fresh, quoted, full = _segments(message)
        segments.append(fresh)
        if quoted:
            segments.append(quoted)
            history.append(quoted)
        header = message_header(message)
        blocks.append((header, fresh.text))
        full_parts.append(f"{header}\n{full}")
    seen = _squash(subject + "\n" + "\n".join(text for _, text in blocks))
    excerpts = _quoted_only_excerpts(history, seen)
    blocks += [(excerpt.split("\n", 1)[0], excerpt.split("\n", 1)[1]) for excerpt in excerpts]
    llm_text, truncated = fit_to_budget(f"Subject: {subject}", blocks, token_budget, estimate_tokens)
    return PreparedConversation(conversation.ref.id, subject, llm_text, "\n\n".join(full_parts), tuple(segments),
                                truncated, estimate_tokens(llm_text))


def message_texts(conversation: Conversation) -> list[tuple[Message, str]]:
    """Each message (oldest first) with its full visible text, quoted history included; the conversation
    subject leads the first message's text so a number in the subject is found (and attributed to it)."""
    messages = sorted(conversation.messages, key=lambda m: m.created_at)
    out = []
    for index, message in enumerate(messages):
        text = message_text(message)
        if index == 0 and conversation.ref.subject:
            text = f"Subject: {conversation.ref.subject}\n{text}"
        out.append((message, text))
    return out
