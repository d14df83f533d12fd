"""Fitting a conversation's text into a token budget without losing the lines that hold numbers.

Each message body gets a fair share (water-filling: short bodies stay whole, long ones are cut to a common
cap). A cut body keeps the lines that hold number-like runs (and their neighbours) first, then its opening
lines; gaps are marked "[...]". If the headers alone do not fit, messages without any number-like run are
left out entirely. The caller is told that the text was truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Estimator = Callable[[str], int]

GAP = "[...]"
_NUMBERISH = re.compile(r"(?:[0-9A-Za-z][ \-]?){4,}")
_DIGITS_NEEDED = 7
LINE_WINDOW = 240   # characters kept around a number inside an over-long line


def _numberish(line: str) -> list[re.Match[str]]:
    return [m for m in _NUMBERISH.finditer(line) if sum(ch.isdigit() for ch in m.group()) >= _DIGITS_NEEDED]


def _cut_line(line: str, chars: int) -> str:
    """An over-long line reduced to its start and the windows around its number-like runs."""
    if len(line) <= chars:
        return line
    pieces = []
    for match in _numberish(line)[:20]:
        left = max(0, match.start() - LINE_WINDOW // 2)
        pieces.append(line[left:match.end() + LINE_WINDOW // 2])
    head = line[:max(0, chars - sum(map(len, pieces)))]
    return f" {GAP} ".join(p for p in [head, *pieces] if p)[:max(chars, 2 * LINE_WINDOW)]


def shrink(body: str, cap: int, estimate: Estimator) -> str:
    """`body` cut to about `cap` tokens, keeping number lines (with one line either side) first."""
    if estimate(body) <= cap:
        return body
    lines = body.split("\n")
    char_cap = max(cap * 4, 1)
    lines = [_cut_line(line, char_cap) if len(line) > char_cap else line for line in lines]
    wanted: list[int] = []
    for index, line in enumerate(lines):
        if _numberish(line):
            wanted += [i for i in (index - 1, index, index + 1) if 0 <= i < len(lines)]
    wanted += range(len(lines))
    kept: set[int] = set()
    used = 0
    for index in dict.fromkeys(wanted):
        cost = estimate(lines[index]) + 1
        if used + cost > cap:
            continue
        kept.add(index)
        used += cost
    out: list[str] = []
    for index, line in enumerate(lines):
        if index in kept:
            out.append(line)
        elif not out or out[-1] != GAP:
            out.append(GAP)
    return "\n".join(out)


def _water_level(sizes: list[int], available: int) -> int:
    """The largest cap with sum(min(size, cap)) <= available."""
    if sum(sizes) <= available:
        return max(sizes, default=0)
    low, high = 0, max(sizes, default=0)
    while low < high:
        middle = (low + high + 1) // 2
        if sum(min(s, middle) for s in sizes) <= available:
            low = middle
        else:
            high = middle - 1
    return low


def fit_to_budget(head: str, blocks: list[tuple[str, str]], budget: int, estimate: Estimator) -> tuple[str, bool]:
    """Join `head` and the (header, body) blocks; cut bodies to stay within `budget` tokens.

    Returns (text, truncated).
    """
    def join(parts: list[tuple[str, str]]) -> str:
        return "\n\n".join([head, *(f"{h}\n{b}" if b else h for h, b in parts)])

    text = join(blocks)
    if estimate(text) <= budget:
        return text, False
    fixed = estimate(head) + sum(estimate(h) + 2 for h, _ in blocks)
    if fixed > budget * 0.6:
        blocks = [(h, b) for h, b in blocks if _numberish(b)] or blocks[:1]
        fixed = estimate(head) + sum(estimate(h) + 2 for h, _ in blocks)
    sizes = [estimate(b) for _, b in blocks]
    cap = _water_level(sizes, max(0, budget - fixed))
    shrunk = [(h, shrink(b, cap, estimate) if size > cap else b) for (h, b), size in zip(blocks, sizes, strict=True)]
    text = join(shrunk)
    while estimate(text) > budget and cap > 0:
        cap = cap * 3 // 4
        shrunk = [(h, shrink(b, cap, estimate)) for h, b in blocks]
        text = join(shrunk)
    return text, True
