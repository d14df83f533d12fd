"""Context-gated search for tracking numbers in free text (the OpenAI simulator's own detector).

Deliberately simple: join runs of code-like tokens (split by single spaces/dashes), keep the longest
valid numbers, and accept them only with context: a checksummed number needs a tracking word or any
carrier name nearby; a checksum-free one needs its own carrier's name nearby.
"""

from __future__ import annotations

import html
import re
import unicodedata

from desktop.sim.numbers import detect, formats_of

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_CHUNK = re.compile(r"[A-Za-z0-9]+(?:[ \-\u00a0][A-Za-z0-9]+)*")
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_TRACK_WORDS = re.compile(
    r"track|shipment|shipped|parcel|package|waybill|\bawb\b|consignment|\bpro\b|label|delivery|dispatched",
    re.I,
)
_NEGATIVE_BEFORE = re.compile(
    r"\b(order|invoice|inv|phone|tel|fax|po|ref|account|acct|zip|amount|ticket|case)"
    r"(\s*(number|no\.?|num|id))?\W{0,4}$",
    re.I,
)
# North-American phone shapes: 555-201-3344, (555) 201-3344, 1-800-201-3344
_PHONE_SHAPE = re.compile(r"(\d{1,2}[ -])?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}")
_PHONE_PREFIX = re.compile(r"\+\d{0,3}[ -]?$")

_CARRIER_WORDS: dict[str, str] = {
    "ups": r"\bups\b",
    "usps": r"\busps\b|postal service",
    "fedex": r"fed\s?ex",
    "dhl": r"\bdhl\b",
    "amazon": r"amazon",
    "ontrac": r"ontrac",
    "lasership": r"laser\s?ship|ontrac",
    "canada_post": r"canada post|postes canada",
    "purolator": r"purolator",
    "dpd": r"\bdpd\b",
    "s10": r"royal mail|\bpost\b|postal|registered|\bems\b|la poste|postnl|correos",
    "old_dominion": r"old dominion|\bodfl\b",
    "yodel": r"yodel",
    "yunexpress": r"yun\s?express",
    "canpar": r"canpar",
    "landmark": r"landmark",
    "speedee": r"spee-?\s?dee",
    "gofo": r"gofo",
}
_CARRIER_RES = {code: re.compile(pattern, re.I) for code, pattern in _CARRIER_WORDS.items()}


def _clean(text: str) -> str:
    """Undo quoted-printable soft breaks, entities, zero-width chars and full-width forms."""
    text = text.replace("=\r\n", "").replace("=\n", "")
    text = html.unescape(text).translate(_ZERO_WIDTH)
    return unicodedata.normalize("NFKC", text)


def _code_like(token: str) -> bool:
    # Lower-case words ("in", "my") must not glue onto numbers (IN..., MY... are DHL prefixes).
    return any(c.isdigit() for c in token) or (token.isupper() and len(token) <= 5)


def _best_in_chunk(chunk: str, offset: int) -> list[tuple[int, int, str]]:
    """Longest valid numbers (start, end, number) made of adjacent code-like tokens of one chunk."""
    tokens = [(m.start() + offset, m.end() + offset, m.group()) for m in _TOKEN.finditer(chunk)]
    found: list[tuple[tuple[bool, int], int, int, int, str]] = []
    for i in range(len(tokens)):
        joined = ""
        for j in range(i, len(tokens)):
            if not _code_like(tokens[j][2]):
                break
            joined += tokens[j][2].upper()
            if len(joined) > 41:
                break
            matches = formats_of(joined) if len(joined) >= 10 else []
            if matches:
                rank = (any(f.has_check_digit for f in matches), len(joined))
                found.append((rank, i, j, tokens[i][0], joined))
    found.sort(key=lambda item: item[0], reverse=True)
    used: set[int] = set()
    chosen = []
    for _rank, i, j, _start, number in found:
        if used.isdisjoint(range(i, j + 1)):
            used.update(range(i, j + 1))
            chosen.append((tokens[i][0], tokens[j][1], number))
    return chosen


def _pick_courier(number: str, context: str) -> str | None:
    couriers = detect(number)
    checked = any(f.has_check_digit for f in formats_of(number))
    named = [c for c in couriers if _CARRIER_RES[c].search(context)]
    if named:
        return named[0]
    if checked and _TRACK_WORDS.search(context):
        return couriers[0]
    return None


def _looks_like_phone(text: str, start: int, end: int) -> bool:
    """An international prefix (+44 20 ...) or the 3-3-4 shape marks a phone number."""
    if _PHONE_PREFIX.search(text[max(0, start - 6) : start]):
        return True
    return _PHONE_SHAPE.fullmatch(text[start:end]) is not None


def find_numbers(text: str) -> list[tuple[str, str]]:
    """[(normalised number, courier)] of context-backed tracking numbers, in order of first appearance."""
    text = _clean(text)
    results: list[tuple[str, str]] = []
    seen: set[str] = set()
    for chunk in _CHUNK.finditer(text):
        for start, end, number in sorted(_best_in_chunk(chunk.group(), chunk.start())):
            if number in seen or _NEGATIVE_BEFORE.search(text[max(0, start - 20) : start]):
                continue
            if _looks_like_phone(text, start, end):
                continue
            context = text[max(0, start - 160) : end + 80]
            courier = _pick_courier(number, context)
            if courier:
                seen.add(number)
                results.append((number, courier))
    return results
