"""Reading local files (.txt, .html, .eml, or standard input "-") as a `domain.Conversation`.

`.eml` files are parsed with the stdlib `email` package (policy.default): MIME multipart, quoted-printable
and base64 bodies, charsets and encoded headers. The HTML alternative is preferred over the plain one (it
keeps quote structure); a message attached as `message/rfc822` (forwarded as an attachment) becomes a
further message of the conversation. Text files are decoded as UTF-8 (with or without BOM), falling back to
Windows-1252. Standard input is sniffed: e-mail headers -> .eml, HTML tags -> .html, else text.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.core.htmltext import looks_like_html
from desktop.domain import Conversation, ConversationRef, Message
from desktop.errors import ExpectedError

if TYPE_CHECKING:   # the email package is imported when an e-mail is read, not for every text file
    from email.message import EmailMessage

MAX_BYTES = 50 * 1024 * 1024   # a bigger file is refused rather than read into memory
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_EMAIL_HEADERS = re.compile(rb"^(?:from|subject|date|to|message-id|mime-version|received|return-path):", re.I | re.M)


class DocumentError(ExpectedError):
    """A file could not be read or parsed; the message says which and why."""


#: Byte-order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes) -> str:
    """Bytes of a text or HTML file as str: by its byte-order mark (UTF-8/16/32), else UTF-8, else
    Windows-1252, else Latin-1."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_bytes(path: str) -> bytes:
    """The bytes of `path` ("-" = standard input). Raises DocumentError with a readable reason."""
    if path == "-":
        return sys.stdin.buffer.read(MAX_BYTES + 1)[:MAX_BYTES]
    try:
        if os.path.getsize(path) > MAX_BYTES:
            raise DocumentError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB")
        return Path(path).read_bytes()
    except OSError as error:
        raise unreadable(path, error) from error


def unreadable(path: str, error: OSError) -> DocumentError:
    """The readable reason why `path` could not be opened or read."""
    if isinstance(error, IsADirectoryError):
        return DocumentError(f"{path}: is a directory")
    if isinstance(error, FileNotFoundError):
        return DocumentError(f"{path}: no such file")
    return DocumentError(f"{path}: {error.strerror or error}")


def sniff_kind(path: str, data: bytes) -> str:
    """"eml", "html" or "txt", from the file extension, else from the content."""
    suffix = Path(path).suffix.lower() if path != "-" else ""
    if suffix in (".eml", ".msg", ".mbox"):
        return "eml"
    if suffix in (".html", ".htm", ".xhtml"):
        return "html"
    if suffix == ".txt":
        return "txt"
    head = data[:4096]
    if _HEADER_LINE.match(head) and len(_EMAIL_HEADERS.findall(head)) >= 2:
        return "eml"
    return "html" if looks_like_html(decode_text(head)) else "txt"


def read_document(path: str, data: bytes | None = None) -> Conversation:
    """The file at `path` (or stdin for "-") as a conversation, from `data` when the caller read it
    already. Raises DocumentError when unreadable."""
    data = read_bytes(path) if data is None else data
    kind = sniff_kind(path, data)
    name = "stdin" if path == "-" else Path(path).name
    created = time.time() if path == "-" else _mtime(path)
    if kind == "eml":
        return _from_email(name, data, created)
    text = decode_text(data)
    message = Message(id="msg_1", conversation_id=f"file:{name}", created_at=created, is_inbound=True,
                      sender=name, subject=name, body_html=text if kind == "html" else "",
                      text=None if kind == "html" else text)
    return _conversation(name, name, [message])


def _mtime(path: str) -> float:
    try:
        return os.path.getmtime(path)
    except OSError:
        return time.time()


def _conversation(name: str, subject: str, messages: list[Message]) -> Conversation:
    messages.sort(key=lambda m: m.created_at)
    ref = ConversationRef(id=f"file:{name}", subject=subject, status="archived", inbox_ids=(),
                          last_message_id=messages[-1].id if messages else None,
                          last_activity_at=messages[-1].created_at if messages else 0.0)
    return Conversation(ref=ref, messages=tuple(messages))


def _from_email(name: str, data: bytes, fallback_time: float) -> Conversation:
    import email
    import email.policy
    from email.message import EmailMessage

    try:
        parsed = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as error:  # the email package raises many kinds on broken input
        raise DocumentError(f"{name}: not a readable e-mail ({error})") from error
    if not isinstance(parsed, EmailMessage):
        raise DocumentError(f"{name}: not a readable e-mail")
    messages: list[Message] = []
    _collect(parsed, name, fallback_time, messages, depth=0)
    if not messages:
        raise DocumentError(f"{name}: the e-mail has no text or HTML body")
    return _conversation(name, _header(parsed, "subject") or name, messages)


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, "") or "").strip()
    except Exception:  # a malformed encoded header
        return ""


def _collect(message: EmailMessage, name: str, fallback_time: float, out: list[Message], depth: int) -> None:
    """Add `message` and, recursively, messages attached to it as message/rfc822 (forwards)."""
    body_html, body_text = _bodies(message)
    if body_html or body_text:
        out.append(Message(
            id=f"msg_{len(out) + 1}", conversation_id=f"file:{name}", created_at=_date(message, fallback_time + depth),
            is_inbound=True, sender=_header(message, "from") or name, subject=_header(message, "subject"),
            body_html=body_html, text=body_text or None))
    if depth >= 5:
        return
    for part in _attached_messages(message):
        _collect(part, name, fallback_time, out, depth + 1)


def _attached_messages(message: EmailMessage) -> list[EmailMessage]:
    """Messages attached to `message` (message/rfc822 parts), not descending into those messages."""
    from email.message import EmailMessage

    found: list[EmailMessage] = []
    stack = list(message.iter_parts()) if message.is_multipart() else []
    while stack:
        part = stack.pop(0)
        if part.get_content_type() == "message/rfc822":
            found += [inner for inner in part.iter_parts() if isinstance(inner, EmailMessage)]
        elif part.is_multipart():
            stack.extend(part.iter_parts())
    return found


def _bodies(message: EmailMessage) -> tuple[str, str]:
    """(html, plain) body of `message` itself (not of attached messages); "" where absent."""
    html = plain = ""
    for kind in ("html", "plain"):
        try:
            part = message.get_body(preferencelist=(kind,))
        except Exception:
            part = None
        if part is None:
            continue
        try:
            content = part.get_content()
        except Exception:  # unknown charset or broken transfer encoding: decode by hand
            raw = part.get_payload(decode=True) or b""
            content = decode_text(raw) if isinstance(raw, bytes) else str(raw)
        if kind == "html":
            html = content if isinstance(content, str) else ""
        else:
            plain = content if isinstance(content, str) else ""
    return html, plain


def _date(message: EmailMessage, fallback: float) -> float:
    from email.utils import parsedate_to_datetime

    value = _header(message, "date")
    if not value:
        return fallback
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return fallback
