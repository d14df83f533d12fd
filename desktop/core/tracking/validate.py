"""Whole-number validation against every known format (see `formats.py`)."""

from __future__ import annotations

import re
from functools import lru_cache

from desktop.core.tracking.formats import FORMATS, Format
from desktop.core.tracking.model import FormatMatch
from desktop.core.tracking.normalise import normalise

try:  # the regex parser tells each pattern's length range, so most formats are skipped by length alone
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Pythons
    _sre_parse = None


def _width(pattern: re.Pattern[str]) -> tuple[int, int]:
    if _sre_parse is None:
        return 0, 1 << 16
    low, high = _sre_parse.parse(pattern.pattern).getwidth()
    return low, high


# Each pattern's width is parsed once (parsing is slow: doing it per length cost 0.2 s at every start-up).
_WIDTHS: dict[str, tuple[tuple[int, int], ...]] = {f.format_id: tuple(map(_width, f.patterns)) for f in FORMATS}
_BY_LENGTH: dict[int, tuple[Format, ...]] = {}
for _length in range(1, 64):
    _BY_LENGTH[_length] = tuple(f for f in FORMATS if any(lo <= _length <= hi for lo, hi in _WIDTHS[f.format_id]))

FORMATS_BY_ID: dict[str, Format] = {f.format_id: f for f in FORMATS}


@lru_cache(maxsize=65536)
def _validate(number: str) -> tuple[FormatMatch, ...]:
    return tuple(FormatMatch(f.courier, f.format_id, f.has_check_digit)
                 for f in _BY_LENGTH.get(len(number), ()) if f.matches(number))


def validate(number: str) -> list[FormatMatch]:
    """Every format `number` fits, check digit included. [] when it is valid under no format.

    `number` should be normalised already; anything `normalise` refuses (look-alike letters, junk) gives [].
    """
    canonical = normalise(number) if number else None
    return list(_validate(canonical)) if canonical else []


def match_format(match: FormatMatch) -> Format:
    return FORMATS_BY_ID[match.format_id]
