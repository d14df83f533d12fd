"""The validated windows of a text, found line by line, each distinct line scanned once.

A chain never crosses a line break and never starts in the quote markers and blanks that open a line
(scanner.py), so a line's windows, the formats they fit and their run-fragment verdicts depend on the line's
content alone. A long thread repeats its lines: every reply quotes the messages before it ("> " lines, or a
Gmail/Outlook quote block), sometimes several levels deep. `scan` therefore looks each line's content up in
a `LineCache` (one per text, or one per conversation when the caller passes it to every message) and only
shifts what it finds. The result is that of scanning the whole text at once; only the digit regions
(scanner.REACH) now end at line breaks, which could matter for a token of hundreds of letters, not a number.

`scan(text, cache=None) -> Scan`: the windows of `text` that fit a format (with their matches and fragment
verdict) and the windows written with letters of other scripts, offsets into `text`, in text order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from desktop.core.tracking.formats import Format
from desktop.core.tracking.model import FormatMatch
from desktop.core.tracking.scanner import Window, chains, digit_lines, map_text, windows
from desktop.core.tracking.validate import _validate, match_format

log = logging.getLogger("shipscan.pipeline")

#: Windows validated per text at most: ordinary texts need a few thousand; a hostile one (megabytes of
#: "1 2 3 4 ...") would otherwise need hundreds of millions. Beyond it the rest of the text is skipped.
WINDOW_BUDGET = 400_000
#: Lines longer than this (hostile input, base64 pasted as text) are scanned each time and never cached.
CACHED_LINE_CHARS = 4000

Found = tuple[Window, tuple[FormatMatch, ...], bool]   # a validated window, its matches, is it a run fragment


def strength(number: str, fmt: Format) -> int:
    """3 strong, 2 check digit but collision-prone, 1 no check digit, 0 loose."""
    if fmt.loose:
        return 0
    if not fmt.has_check_digit:
        return 1
    if number.isdigit() and len(number) <= 20:
        return 2
    if fmt.format_id in ("ups_waybill", "dpd_14") and len(number) <= 15:
        return 2   # one letter + 10 digits, or 14 digits + a letter: still easy to hit by chance
    return 3


def best_strength(window: Window, matches: tuple[FormatMatch, ...]) -> int:
    return max(strength(window.number, match_format(m)) for m in matches)


def is_fragment(window: Window, matches: tuple[FormatMatch, ...]) -> bool:
    """A piece of a longer run of digit groups (Window.run_fragment), unless the run is several strong numbers
    side by side ("1Z 999 AA1 012 3456 784 1Z 999 AA1 012 3456 785"): a strong window whose neighbours in the
    run are strong numbers too. Weaker pieces are never spared: two 10-20 digit pieces of one mistyped number
    pass their check digits by chance too often."""
    if not window.run_fragment:
        return False
    if best_strength(window, matches) < 3:
        return True
    low, high = window.run_bounds()
    for first, last in ((low, window.first - 1), (window.last + 1, high)):
        if first > last:
            continue
        piece = window.piece(first, last)
        piece_matches = _validate(piece.number)
        if not piece_matches or best_strength(piece, piece_matches) < 3:
            return True
    return False


@dataclass(frozen=True, slots=True)
class LineScan:
    """What one line's content holds, offsets relative to the content."""

    found: tuple[Found, ...]
    foreign: tuple[Window, ...]   # windows with letters of other scripts (reported, never accepted)
    windows: int                  # windows looked at: what the budget counts
    cut: bool = False             # stopped at the limit with windows left


def scan_line(content: str, limit: int | None = None) -> LineScan:
    """The windows of one line's content (mapped, without its quote markers), at most `limit` of them."""
    found: list[Found] = []
    foreign: list[Window] = []
    seen = 0
    for chain in chains(content):
        for window in windows(chain):
            if limit is not None and seen >= limit:
                return LineScan(tuple(found), tuple(foreign), seen, cut=True)
            seen += 1
            if window.foreign:
                foreign.append(window)
                continue
            matches = _validate(window.number)
            if matches:
                found.append((window, matches, is_fragment(window, matches)))
    return LineScan(tuple(found), tuple(foreign), seen)


#: What the lines of a text (or of a conversation's texts) were found to hold, by content. It lives as long
#: as its caller keeps it: no text outlives the conversation it came from.
LineCache = dict[str, LineScan]


@dataclass
class Scan:
    """The windows of a whole text, offsets into it, in text order."""

    found: list[Found]
    foreign: list[Window]


def scan(text: str, cache: LineCache | None = None) -> Scan:
    """Every window of `text` that fits a format, and every look-alike window, within WINDOW_BUDGET windows.

    `cache`: lines already scanned (filled in here); pass the same one for every message of a conversation
    so that quoted copies of earlier messages are not scanned again."""
    cache = {} if cache is None else cache
    mapped = map_text(text)
    result = Scan([], [])
    budget = WINDOW_BUDGET
    for start, end in digit_lines(mapped):
        content = mapped[start:end]
        line = cache.get(content)
        if line is None:
            line = scan_line(content, budget)   # one pass that stops at the budget: hostile lines are long
            if not line.cut and len(content) <= CACHED_LINE_CHARS:
                cache[content] = line
        elif line.windows > budget:
            line = scan_line(content, budget)
        if line.found:   # most lines hold a date or a quantity, not a number worth validating
            result.found += [(window.shifted(start), matches, fragment) for window, matches, fragment in line.found]
        if line.foreign:
            result.foreign += [window.shifted(start) for window in line.foreign]
        budget -= line.windows
        if line.cut:
            log.warning("text of %d characters has too many number-like spans; scanned the first %d",
                        len(text), WINDOW_BUDGET)
            break
    return result
