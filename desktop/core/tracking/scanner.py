"""Finding number-like spans in free text: chains of tokens, and the windows of them worth validating.

The text is mapped character for character (so offsets stay those of the original): full-width forms to
ASCII, zero-width characters to a joiner that keeps a token whole, odd spaces and dashes to " " and "-".
A *chain* is a run of tokens joined by at most three spaces or one dash, holding at least one token with
a digit; short all-letter tokens (<= 5 letters, e.g. "TBA", "JJD", the "GB" of an S10) may join it. Line
breaks always end a chain, so two numbers on consecutive lines never merge. Every window of consecutive
tokens in a chain with 10 to 41 characters and at least 4 digits is a span to validate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from desktop.core.tracking.normalise import DASHES, SPACES, ZERO_WIDTH

JOINER = "\x01"
_MAP = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_MAP.update({ord(c): JOINER for c in ZERO_WIDTH})
_MAP.update({ord(c): " " for c in SPACES if c != "\t"})
_MAP.update({ord(c): "-" for c in DASHES})

_W = rf"(?:[^\W_]|{JOINER})"                       # a token character (any script: look-alikes stay inside)
_SEP = r"(?:[ \t]{1,3}|[ \t]?-[ \t]?)"
_SHORT = rf"[^\W\d_]{{1,5}}(?!{_W})"
_DIGIT_TOKEN = rf"{_W}*\d{_W}*"
_CHAIN = re.compile(rf"(?<!{_W})(?:{_SHORT}{_SEP}){{0,4}}{_DIGIT_TOKEN}(?:{_SEP}(?:{_DIGIT_TOKEN}|{_SHORT}))*")
_TOKEN = re.compile(rf"{_W}+")

MIN_LENGTH = 10
MAX_LENGTH = 41
MIN_DIGITS = 4       # real numbers carry at least 4 digits (LaserShip 1LSCX can have as few); fewer: a word

#: Latin look-alikes of Cyrillic and Greek letters: only used to REPORT a refused span, never to accept one.
HOMOGLYPHS = str.maketrans(
    "АВЕКМНОРСТХУІЈЅаеорсхуіјѕΑΒΕΖΗΙΚΜΝΟΡΤΥΧοικνρτυχ",
    "ABEKMHOPCTXYIJSAEOPCXYIJSABEZHIKMNOPTYXOIKNPTYX")
#: ... and of digits (a Cyrillic "З" for 3, an "О" for 0).
DIGIT_HOMOGLYPHS = str.maketrans("ОоΟοЗзІΙбЬ", "0000331166")


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str            # as mapped (ASCII where folding applies), joiners removed, upper-case
    digits: int          # how many of its characters are digits
    alpha: bool          # letters only
    upper: bool          # written in capitals (or has no letters)
    dash_before: bool    # joined to the previous token by a dash


@dataclass(frozen=True, slots=True)
class Window:
    """Tokens [first, last] of a chain: a span of the text and its normalised form."""

    tokens: tuple[Token, ...]
    first: int
    last: int
    number: str          # normalised if ASCII; may hold other scripts (then `foreign` is True)
    foreign: bool

    @property
    def start(self) -> int:
        return self.tokens[self.first].start

    @property
    def end(self) -> int:
        return self.tokens[self.last].end

    @property
    def dash_outside(self) -> bool:
        """Joined by a dash to a token outside the window: part of a longer dashed code (order, phone...)."""
        after = self.last + 1
        return self.tokens[self.first].dash_before or (after < len(self.tokens) and self.tokens[after].dash_before)


def map_text(text: str) -> str:
    """`text` folded character for character (same length, same offsets)."""
    return text.translate(_MAP)


_DIGIT = re.compile(r"\d")
REACH = 200   # a window holding a digit lies within this many characters of it (41 characters + separators)


def digit_regions(mapped: str) -> Iterator[tuple[int, int]]:
    """Disjoint ranges of the text around its digits: the only places a tracking number can be."""
    low = high = -1
    for found in _DIGIT.finditer(mapped):
        position = found.start()
        if position - REACH > high:
            if high >= 0:
                yield max(0, low - REACH), min(len(mapped), high + REACH)
            low = position
        high = position
    if high >= 0:
        yield max(0, low - REACH), min(len(mapped), high + REACH)


def chains(mapped: str) -> Iterator[tuple[Token, ...]]:
    """The token chains of a mapped text, in order. Only the regions around digits are scanned."""
    for low, high in digit_regions(mapped):
        yield from _chains_in(mapped, low, high)


SLICE = 4000   # a longer chain (hostile input) is tokenised in overlapping slices, lazily


def _chains_in(mapped: str, low: int, high: int) -> Iterator[tuple[Token, ...]]:
    for chain in _CHAIN.finditer(mapped, low, high):
        start, end = chain.start(), chain.end()
        while end - start > SLICE:
            cut = _next_token_start(mapped, start + SLICE)   # slices end and start on token boundaries
            if cut >= end:
                break
            yield _tokens(mapped, start, cut)
            start = _next_token_start(mapped, cut - REACH)   # overlap: windows across the cut are seen whole
        yield _tokens(mapped, start, end)


def _next_token_start(mapped: str, position: int) -> int:
    """The first token start at or after `position` (never the middle of a token)."""
    found = _TOKEN.search(mapped, position)
    if found is None:
        return len(mapped)
    if position > 0 and found.start() == position and re.match(_W, mapped[position - 1]):
        found = _TOKEN.search(mapped, found.end())
    return found.start() if found else len(mapped)


def _tokens(mapped: str, start: int, end: int) -> tuple[Token, ...]:
    """The tokens of a chain (or a slice of one) in mapped[start:end]."""
    tokens: list[Token] = []
    previous_end = start
    for token in _TOKEN.finditer(mapped, start, end):
        raw = token.group().replace(JOINER, "")
        gap = mapped[previous_end:token.start()]
        tokens.append(Token(token.start(), token.end(), raw.upper(), sum(ch.isdigit() for ch in raw),
                            raw.isalpha(), raw == raw.upper(), "-" in gap and bool(tokens)))
        previous_end = token.end()
    return tuple(tokens)


def windows(tokens: tuple[Token, ...]) -> Iterator[Window]:
    """Every window of a chain that could be a tracking number by length and digit count."""
    for first in range(len(tokens)):
        if tokens[first].alpha and not tokens[first].upper:
            continue  # "in", "Order": a number never starts with a word written in lower case
        length = digits = 0
        parts: list[str] = []
        for last in range(first, len(tokens)):
            token = tokens[last]
            length += len(token.text)
            if length > MAX_LENGTH:
                break
            digits += token.digits
            parts.append(token.text)
            if length < MIN_LENGTH or digits < MIN_DIGITS or (token.alpha and not token.upper):
                continue
            number = "".join(parts)
            yield Window(tokens, first, last, number, not number.isascii())
