"""Raw failure texts ("front: search: ConnectError: ...") turned into a sentence an agent can act on.

`explain(text)` keeps what failed (the words before the service's name, e.g. "The scan stopped") and
replaces the technical cause with what it means and what to do. A text it does not recognise comes back
unchanged: a known sentence is better than a guess. The raw text is never lost: callers keep it as the
message's details. Pure functions, no Qt.
"""

from __future__ import annotations

import re

SERVICE_NAMES = {"front": "Front", "openai": "OpenAI", "ship24": "Ship24"}

#: Where the raw part starts: the clients prefix every failure with the service ("front: ...").
_SERVICE = re.compile(r"\b(front|openai|ship24):\s", re.IGNORECASE)
_SERVICE_WORD = re.compile(r"\b(Front|OpenAI|Ship24)\b")

#: (pattern of the raw cause, what it means and what to do); `{s}` is the service's name. First match wins.
_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(rx, re.IGNORECASE), text) for rx, text in (
    (r"HTTP 40[13]|refused the key|\bauth_|unauthori[sz]ed",
     "{s} refused the API key. Enter a valid key in Settings (File → Settings), then try again."),
    (r"HTTP 429|rate.?limit",
     "{s} asked Shipscan to slow down. Wait a minute, then try again."),
    (r"ConnectError|connection (?:failed|refused|reset)|ConnectionError|Name or service not known|getaddrinfo"
     r"|RemoteProtocolError|ReadError|NetworkError|ProxyError",
     "Shipscan could not reach {s}. Check the internet connection and the {s} address in Settings "
     "(File → Settings), then try again."),
    (r"Timeout|no answer|timed out",
     "{s} did not answer in time. Try again in a few minutes; if it keeps happening, check the connection."),
    (r"HTTP 5\d\d",
     "{s} had a temporary problem on its side. Try again in a few minutes."),
    (r"not JSON|does not fit the schema|no choices|no JSON content|malformed",
     "{s} sent an answer Shipscan could not read. Try again; if it keeps happening, see the log file "
     "(Help → Where is the log file?)."),
))


def explain(text: str) -> str:
    """A readable sentence for `text`: "<what failed>: <what it means and what to do>", or `text` itself."""
    marker = _SERVICE.search(text) or _SERVICE_WORD.search(text)
    raw = text[marker.start():] if marker else text
    for pattern, sentence in _CAUSES:
        if pattern.search(raw):
            what = text[:marker.start()].strip().rstrip(":").strip() if marker else ""
            service = SERVICE_NAMES[marker.group(1).lower()] if marker else "the service"
            cause = sentence.format(s=service)
            cause = cause[:1].upper() + cause[1:]
            return f"{what}: {cause}" if what else cause
    return text


def reported_text(where: str, message: str) -> str:
    """The raw text of a core `ErrorReported(where, message)`, worded for `explain`."""
    if where == "scan":
        return f"The scan failed: {message}"
    if where.startswith("conversation"):
        return f"A conversation could not be read (the next scan tries it again): {message}"
    return message  # the registration worker and the status refresher word their own messages
