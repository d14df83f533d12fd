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

from desktop.core.tracking.context import CARRIER_TERMS
from desktop.core.tracking.normalise import DASHES, SPACES, ZERO_WIDTH

JOINER = "\x01"
_MAP = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_MAP.update({ord(c): JOINER for c in ZERO_WIDTH})
_MAP.update({ord(c): " " for c in SPACES if c != "\t"})
_MAP.update({ord(c): "-" for c in DASHES})
_MAP[ord("_")] = "\x02"   # never a token character; mapped away so that a plain [\w] class can be used below

_MAP_TO = {chr(cp): chr(to) if isinstance(to, int) else to for cp, to in _MAP.items()
           if (chr(to) if isinstance(to, int) else to) != chr(cp)}
_MAP_RX = re.compile("[" + re.escape("".join(_MAP_TO)) + "]")


def _map_char(found: re.Match[str]) -> str:
    return _MAP_TO[found.group()]


_W = rf"[\w{JOINER}]"   # a token character, any script (look-alikes stay inside); "_" is mapped away
_SEP = r"(?:[ \t]{1,3}|[ \t]?-[ \t]?)"
_SHORT = rf"[^\W\d_]{{1,5}}(?!{_W})"
_DIGIT_TOKEN = rf"{_W}*\d{_W}*"
# A chain: up to four short words, a token with a digit, then more of either. Found from its first digit
# token (a regex that may start at any word is three times slower), then extended left over the words.
# "12:00 0034 ...": the minutes of a time start no chain.
_CHAIN = re.compile(rf"(?<!{_W})(?<!\d:){_DIGIT_TOKEN}(?:{_SEP}(?:{_DIGIT_TOKEN}|{_SHORT}))*")
_CHAIN_WORDS = re.compile(rf"(?<!{_W})(?<!\d:)(?:{_SHORT}{_SEP}){{1,4}}\Z")
WORDS_REACH = 4 * (5 + 3)
_TOKEN = re.compile(rf"{_W}+")

MIN_LENGTH = 10
MAX_LENGTH = 41
CARRIER_WORDS = frozenset(t.upper() for terms in CARRIER_TERMS.values() for t in terms if t.isalpha())
GROUP_MAX = 4        # carriers print spaced numbers in groups of at most 4 characters
MIN_DIGITS = 4       # real numbers carry at least 4 digits (LaserShip 1LSCX can have as few); fewer: a word
#: Service names and times written with digits ("FedEx 2Day", "DPD 48h", "by 10AM", "2nd"): not digit groups.
SERVICE_TOKEN = re.compile(r"\d{1,3}(?:DAYS?|H|HRS?|AM|PM|ST|ND|RD|TH)")
#: Capitalised labels and words written before a number: never the letter prefix of a code.
LABEL_WORDS = frozenset({"ID", "NO", "NR", "NUM", "NBR", "REF", "AWB", "PRO", "PIN", "PO", "SKU", "TEL", "FAX",
                         "INV", "ORD", "ACCT", "CASE", "TRK", "CODE", "IS", "OF", "ON", "AT", "TO", "BY", "VIA",
                         "FOR", "AND", "THE", "YOUR", "HERE", "SENT", "WITH", "NEW", "IN", "ES", "EST", "IST"})

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
    space_before: bool = False   # joined to the previous token by exactly one space


@dataclass(frozen=True, slots=True)
class Window:
    """Tokens [first, last] of a chain: a span of the text and its normalised form."""

    tokens: tuple[Token, ...]
    first: int
    last: int
    number: str          # normalised if ASCII; may hold other scripts (then `foreign` is True)
    foreign: bool
    #: Added to the tokens' offsets: tokens are kept relative to their line, so one line scanned once serves
    #: every copy of it in a text (see spans.py).
    offset: int = 0

    @property
    def start(self) -> int:
        return self.tokens[self.first].start + self.offset

    @property
    def end(self) -> int:
        return self.tokens[self.last].end + self.offset

    def piece(self, first: int, last: int) -> Window:
        """The window of tokens [first, last] of the same chain (a part of this one, or its neighbours)."""
        return Window(self.tokens, first, last, "".join(t.text for t in self.tokens[first:last + 1]), False,
                      self.offset)

    def shifted(self, offset: int) -> Window:
        """The same window with its offsets moved by `offset` characters."""
        return Window(self.tokens, self.first, self.last, self.number, self.foreign, self.offset + offset)

    @property
    def dash_outside(self) -> bool:
        """Joined by a dash to a token outside the window: part of a longer dashed code (order, phone...)."""
        after = self.last + 1
        return self.tokens[self.first].dash_before or (after < len(self.tokens) and self.tokens[after].dash_before)

    @property
    def spaced(self) -> bool:
        """Assembled from several space-separated groups (not one group, nor one dashed code)."""
        return any(not self.tokens[i].dash_before for i in range(self.first + 1, self.last + 1))

    def run_bounds(self) -> tuple[int, int]:
        """(first, last) token indices of the longest run of groups around the window, joined by single spaces.

        A group holds a digit, or is a short capitalised letter group between two digit groups ("AA1 WXYT
        3557": letters inside one code). It is no longer than GROUP_MAX or the window's longest group
        (carriers print groups of 2-4; a longer token is something else: a ZIP "90210", an unspaced number).
        A dashed code next to it (a date "2026-11-30", a ZIP+4) ends the run; so does a word ("UPS 1Z...",
        "JJD 0003...", "on"), two spaces, a tab or punctuation (which already end the chain).
        The walk stops MAX_LENGTH characters beyond the window on each side (hostile "1 2 3 4 ..." text): what
        lies further cannot change a verdict, as no number is longer."""
        low, high = self.first, self.last
        limit = self._limit()
        start, end = self.tokens[self.first].start, self.tokens[self.last].end   # in the tokens' own frame
        while low > 0 and start - self.tokens[low].start <= MAX_LENGTH and \
                _adjoins(self.tokens, low, low - 1, limit):
            low -= 1
        while high + 1 < len(self.tokens) and self.tokens[high].end - end <= MAX_LENGTH and \
                _adjoins(self.tokens, high, high + 1, limit):
            high += 1
        return low, high

    def _limit(self) -> int:
        return max(GROUP_MAX, *(len(t.text) for t in self.tokens[self.first:self.last + 1]))

    @property
    def run_fragment(self) -> bool:
        """A multi-group window that is a strict part of a longer run of groups ("1777 6317 0669" inside
        "9400 2914 1777 6317 0669 07"): a piece of one longer number, not a number of its own. A single group
        may stand alone ("123456789012 987654321098" are two numbers)."""
        if not self.spaced:
            return False
        limit = self._limit()
        return (self.first > 0 and _adjoins(self.tokens, self.first, self.first - 1, limit)) or \
            (self.last + 1 < len(self.tokens) and _adjoins(self.tokens, self.last, self.last + 1, limit))


def _is_group(tokens: tuple[Token, ...], i: int) -> bool:
    """tokens[i] can belong to a run: it holds a digit (but is no service name like "2Day" or "48h"), or it
    is a short capitalised letter group (not a carrier's name nor a label word) followed by a digit group,
    either inside a code (digit groups on both sides: "AA1 WXYT 3557") or as its prefix ("TBA 0000 ...",
    "GM 2951 ...": the digits after it are then a piece of the code, not a number of their own)."""
    token = tokens[i]
    if token.digits:
        return not SERVICE_TOKEN.fullmatch(token.text)
    if not (token.alpha and token.upper and len(token.text) <= GROUP_MAX and i < len(tokens) - 1):
        return False
    if token.text in CARRIER_WORDS or token.text in LABEL_WORDS:
        return False   # "Box 2 UPS 1Z ...", "ID 7490 ...": a name or a label, not letters of a code
    following = tokens[i + 1]
    if not (following.space_before and following.digits):
        return False
    inside = i > 0 and token.space_before and _is_digit_group(tokens[i - 1])
    return inside or i == 0 or not token.space_before or not _is_digit_group(tokens[i - 1])


def _is_digit_group(token: Token) -> bool:
    return bool(token.digits) and not SERVICE_TOKEN.fullmatch(token.text)


def _adjoins(tokens: tuple[Token, ...], inner: int, outer: int, limit: int) -> bool:
    """tokens[outer], the neighbour of tokens[inner] (the run's edge), continues the run: both are groups
    joined by one space, and tokens[outer] is at most `limit` characters long and not part of a dashed code."""
    right = max(inner, outer)
    if not tokens[right].space_before or len(tokens[outer].text) > limit:
        return False
    if tokens[outer].dash_before or (outer + 1 < len(tokens) and tokens[outer + 1].dash_before):
        return False
    return _is_group(tokens, inner) and _is_group(tokens, outer)


#: A dash with blanks on both sides and a word on one side separates ("- UPS - 1Z...", "Post – 0073...");
#: between digits it may join the groups of one number ("1 1 9 0 - 1"). (A literal first: fast to find.)
_SPACED_DASH = re.compile(r"[ \t]-[ \t]")
#: A percent-escape ("%3D" before a number in an encoded link) is punctuation, not part of the token.
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def map_text(text: str) -> str:
    """`text` folded character for character (same length, same offsets): full-width forms to ASCII, odd
    spaces and dashes to " " and "-", a dash between blanks and percent-escapes to punctuation."""
    mapped = _MAP_RX.sub(_map_char, text)   # far faster than str.translate when few characters change
    if "%" in mapped:
        mapped = _PERCENT.sub("%%%", mapped)
    cuts = [found.start() + 1 for found in _SPACED_DASH.finditer(mapped) if _word_beside(mapped, found.start() + 1)]
    if not cuts:
        return mapped
    pieces, previous = [], 0   # spliced slice by slice: a list of a megabyte's characters costs far more
    for at in cuts:
        pieces += (mapped[previous:at], "|")
        previous = at + 1
    pieces.append(mapped[previous:])
    return "".join(pieces)


def _word_beside(mapped: str, dash: int) -> bool:
    """A letter just before the blank left of the dash, or just after the blank right of it."""
    return (dash >= 2 and mapped[dash - 2].isalpha()) or (dash + 2 < len(mapped) and mapped[dash + 2].isalpha())


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


#: What may start a line before its content: quote markers and blanks ("> ", "> > ", indentation). None of
#: them belongs to a token and a chain never starts with one (map_text has already read them on the whole
#: text), so a line's chains are those of its content alone.
_QUOTE_MARKS = re.compile(r"[ \t>]*")


def digit_lines(mapped: str) -> Iterator[tuple[int, int]]:
    """(start, end) of the content of each line of `mapped` that holds a digit, in order: the line without
    its line break and without the quote markers and blanks that start it. A chain lies within one line and
    never starts in those markers, so the content alone decides the line's chains (see spans.py)."""
    found = _DIGIT.search(mapped)
    while found is not None:
        line_start = mapped.rfind("\n", 0, found.start()) + 1
        line_end = mapped.find("\n", found.start())
        if line_end < 0:
            line_end = len(mapped)
        yield _QUOTE_MARKS.match(mapped, line_start, line_end).end(), line_end
        found = _DIGIT.search(mapped, line_end + 1)


def chains(mapped: str) -> Iterator[tuple[Token, ...]]:
    """The token chains of a mapped text, in order. Only the regions around digits are scanned."""
    for low, high in digit_regions(mapped):
        yield from _chains_in(mapped, low, high)


SLICE = 4000   # a longer chain (hostile input) is tokenised in overlapping slices, lazily


def _chains_in(mapped: str, low: int, high: int) -> Iterator[tuple[Token, ...]]:
    previous = low
    for chain in _CHAIN.finditer(mapped, low, high):
        start, end = chain.start(), chain.end()
        words = _CHAIN_WORDS.search(mapped, max(previous, start - WORDS_REACH), start)
        start, previous = (words.start() if words else start), end
        if end - start < MIN_LENGTH:
            continue   # "2026", "10:12", "4 May": too short for any number, not worth tokenising
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
                            raw.isalpha(), raw == raw.upper(), "-" in gap and bool(tokens),
                            gap == " " and bool(tokens)))
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
