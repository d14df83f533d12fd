"""Reading the text around a candidate: carrier words, "tracking" labels, carrier links and decoy labels.

The check digit alone is weak evidence (10-20 % of random 10-20 digit strings pass one, and some formats have
none), so the engine asks the surrounding text: a carrier named nearby, a "tracking number" label, a link to
a carrier's tracking page, or, against it, an "order #"/"phone"/"invoice" label or a phone-number shape.
All functions here are pure and work on the original text and the candidate's offsets.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from desktop.core.tracking.labels import (
    TRACKING_LABEL,
    close_label,
    column_header,
    decoy_before,
    fold_width,
    has_tracking_label,
)
from desktop.core.tracking.links import CARRIER_HOSTS, link_at

__all__ = ["CARRIER_HOSTS", "CARRIER_TERMS", "Signals", "TextIndex", "ascii_lower", "clear_caches",
           "find_carrier_terms", "line_around", "read_signals"]

_I = re.IGNORECASE

#: Words naming each courier (lower case, matched as whole words; the nearest one wins when several fit).
#: Plain strings, not regexes: `str.find` over a long text is far faster than a big case-insensitive regex.
CARRIER_TERMS: dict[str, tuple[str, ...]] = {
    "ups": ("ups", "united parcel"),
    "usps": ("usps", "postal service", "priority mail", "first-class mail", "first class mail",
             "first-class package", "ground advantage"),
    "fedex": ("fedex", "fed ex", "federal express"),
    "dhl": ("dhl",),
    "amazon": ("amazon", "amzl"),
    "ontrac": ("ontrac", "on trac"),
    "lasership": ("lasership", "laser ship"),
    "canada_post": ("canada post", "postes canada", "canadapost"),
    "purolator": ("purolator",),
    "dpd": ("dpd",),
    "s10": ("royal mail", "la poste", "deutsche post", "china post", "correos", "poste italiane", "postnl",
            "australia post", "japan post", "swiss post", "ems", "registered mail", "registered letter",
            "international mail", "postal", "post office"),
    "old_dominion": ("old dominion", "odfl", "od freight"),
    "yodel": ("yodel",),
    "yunexpress": ("yunexpress", "yun express", "yuntrack"),
    "canpar": ("canpar",),
    "landmark": ("landmark global", "landmark"),
    "speedee": ("spee-dee", "spee dee", "speedee"),
    "gofo": ("gofo",),
}
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """`text` with A-Z lowered and every other character kept (same length, same offsets).

    `str.lower` does that for ASCII text and is fast; a translation table is slow (a dictionary lookup per
    character), so it is only used on the lines that are not ASCII."""
    if text.isascii():
        return text.lower()
    return "\n".join(line.lower() if line.isascii() else line.translate(_ASCII_LOWER) for line in text.split("\n"))


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def find_carrier_terms(text: str, low: int = 0, high: int | None = None) -> list[tuple[int, int, str]]:
    """(start, end, courier) of every carrier word in text[low:high], sorted by start."""
    high = len(text) if high is None else high
    lowered = ascii_lower(text[low:high])
    found = []
    for code, terms in CARRIER_TERMS.items():
        for term in terms:
            at = lowered.find(term)
            while at >= 0:
                end = at + len(term)
                # "pop-ups", "follow-ups": a word joined by a hyphen on the left is not the carrier
                left_ok = at == 0 or not (_is_word_char(lowered[at - 1]) or
                                          (lowered[at - 1] == "-" and at > 1 and lowered[at - 2].isalpha()))
                if left_ok and \
                        (end >= len(lowered) or not _is_word_char(lowered[end])):
                    found.append((low + at, low + end, code))
                at = lowered.find(term, at + 1)
    found.sort()
    return found


_PHONE_RAW = re.compile(r"\(?\d{3}\)?[\s.\-\u2013]\d{3}[\s.\-\u2013]\d{4}|1[\s.\-]\d{3}[\s.\-]\d{3}[\s.\-]\d{4}")
_PHONE_BEFORE = re.compile(r"(?:\+\d{0,3}[\s\-]*|\(\d{1,4}\)\s*|\+)$")

NEAR_BEFORE = 240      # characters before the number searched for carrier words and labels
NEAR_AFTER = 160
FAR = 900              # characters either side searched for the courier's name by loose formats
LABEL_LINES = 2        # a label may sit on the line(s) just above (tables, "Tracking number:\n1Z...")


@dataclass
class Signals:
    """What the text around one candidate says."""

    tracking_label: bool = False
    #: a tracking label touching the number: right before it, ending the line above, or its column header
    close_label: bool = False
    #: couriers named nearby -> distance in characters (nearest occurrence)
    carrier_words: dict[str, int] = field(default_factory=dict)
    #: couriers named anywhere within FAR characters (a subject line, a footer): weaker than nearby words
    carrier_far: set[str] = field(default_factory=set)
    #: the courier whose site the number is linked to ("" = a tracking-ish link of an unknown host)
    link_courier: str | None = None
    in_url: bool = False
    decoy_label: str | None = None
    phone_shape: bool = False
    context: str = ""


def line_around(text: str, start: int, end: int, limit: int = 240) -> str:
    """The line holding text[start:end], trimmed to about `limit` characters centred on the span."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    left = max(line_start, start - limit // 2)
    right = min(line_end, end + limit // 2)
    return " ".join(text[left:right].split())


def _near_before(text: str, start: int) -> str:
    """The text before `start` on the same line and up to LABEL_LINES lines above, at most NEAR_BEFORE chars."""
    lower = max(0, start - NEAR_BEFORE)
    cut = start
    for _ in range(LABEL_LINES + 1):
        cut = text.rfind("\n", lower, cut)
        if cut < 0:
            cut = lower
            break
    return text[max(cut, lower):start]


def _near_after(text: str, end: int) -> str:
    line_end = text.find("\n", end, end + NEAR_AFTER)
    return text[end:line_end if line_end >= 0 else end + NEAR_AFTER]


def _regions(spans: list[tuple[int, int]] | None, size: int) -> list[tuple[int, int]]:
    if spans is None:
        return [(0, size)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        low, high = max(0, start - FAR - 40), min(size, end + FAR + 40)
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


class TextIndex:
    """Where carrier words occur in one text: found once, looked up per candidate."""

    def __init__(self, text: str, spans: list[tuple[int, int]] | None = None) -> None:
        """Index `text`, or only the surroundings (FAR characters) of `spans` when given: a long text with
        few candidates is not scanned in full."""
        self.text = text
        words: list[tuple[int, int, str]] = []
        for low, high in _regions(spans, len(text)):
            words += find_carrier_terms(text, low, high)
        self.word_starts = [w[0] for w in words]
        self.words = words

    def names_nearby(self, couriers: set[str], start: int, end: int) -> bool:
        """True when one of `couriers` is named within NEAR_BEFORE characters before or NEAR_AFTER after."""
        return any(code in couriers for _, _, code in self.carriers_between(start - NEAR_BEFORE, end + NEAR_AFTER))

    def carriers_between(self, low: int, high: int) -> list[tuple[int, int, str]]:
        """Carrier-word occurrences (start, end, courier) starting within [low, high)."""
        first = bisect.bisect_left(self.word_starts, max(0, low))
        last = bisect.bisect_left(self.word_starts, high)
        return self.words[first:last]


def _carrier_words(index: TextIndex, low: int, start: int, end: int, high: int) -> dict[str, int]:
    """Couriers named in [low, start) or (end, high) -> distance of the nearest mention."""
    found: dict[str, int] = {}
    for word_start, word_end, code in index.carriers_between(low, high):
        if word_end <= start:
            distance = start - word_end
        elif word_start >= end:
            distance = word_start - end + 1
        else:
            continue
        if distance < found.get(code, 1 << 30):
            found[code] = distance
    return found


def clear_caches() -> None:
    """Forget the label readings memoised so far (a benchmark measures a cold engine with it)."""
    _labels.cache_clear()


#: Entries of the label memo: about 10 MB at most (two strings of <= 400 characters in all, and a tuple, each).
LABEL_MEMO_SIZE = 8192


@lru_cache(maxsize=LABEL_MEMO_SIZE)
def _labels(before: str, after: str) -> tuple[str | None, bool, bool, bool]:
    """(decoy label, tracking label, close label, phone prefix) of a number with `before` and `after` around it.

    A pure function of the two strings, and the costliest part of reading a candidate (a dozen regex
    searches): cached, as a quoted copy of a message often has the same lines around its numbers."""
    line_start = before.rfind("\n") + 1
    same_line_before = before[line_start:]
    lines_above = before[:line_start].splitlines()
    segment = same_line_before[-48:]
    decoy = decoy_before(segment, list(TRACKING_LABEL.finditer(before)), line_start, len(before) - len(segment))
    header = column_header(same_line_before, lines_above)
    tracking = header == "tracking" or has_tracking_label(before, after, same_line_before)
    close = header == "tracking" or close_label(same_line_before, lines_above)
    if header not in (None, "tracking") and not close:
        decoy = decoy or header
    return decoy, tracking, close, bool(_PHONE_BEFORE.search(same_line_before))


def read_signals(text: str, start: int, end: int, raw: str, index: TextIndex | None = None) -> Signals:
    """Collect the evidence for and against text[start:end] being a tracking number.

    `index` (a TextIndex of `text`) saves re-scanning the text when many candidates are read.
    """
    index = index if index is not None and index.text is text else TextIndex(text)
    before = fold_width(_near_before(text, start))
    after = fold_width(_near_after(text, end))
    signals = Signals(context=line_around(text, start, end))
    signals.in_url, signals.link_courier = link_at(text, start)
    signals.carrier_words = _carrier_words(index, start - len(before), start, end, end + len(after))
    signals.carrier_far = {code for _, _, code in index.carriers_between(start - FAR, end + FAR)}
    signals.decoy_label, signals.tracking_label, signals.close_label, phone_before = _labels(before, after)
    signals.phone_shape = bool(_PHONE_RAW.fullmatch(raw.strip())) or phone_before
    return signals
