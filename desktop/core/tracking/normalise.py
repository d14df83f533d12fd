"""Normalisation of tracking numbers and the "does this number occur in that text" test.

`normalise` folds the harmless variations people and HTML produce (spaces, dashes, case, zero-width
characters, full-width forms) and refuses anything else. Letters from other scripts that look like Latin
ones (Cyrillic "А", Greek "Ο", ...) are refused rather than guessed: a wrong number is worse than none.
"""

from __future__ import annotations

import re

#: Invisible characters that e-mail HTML scatters inside numbers (zero-width space/joiners, word joiner,
#: BOM, soft hyphen). Removed wherever they appear.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
#: Characters allowed between the parts of a number: spaces of all widths and dash-like characters.
SPACES = " \t\u00a0\u2002\u2003\u2007\u2009\u200a\u202f\u3000"
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"

_FULLWIDTH_START, _FULLWIDTH_END = 0xFF01, 0xFF5E          # full-width ASCII block
_FOLD = {cp: cp - 0xFEE0 for cp in range(_FULLWIDTH_START, _FULLWIDTH_END + 1)}
_FOLD.update({ord(c): None for c in ZERO_WIDTH + SPACES + DASHES})
_ASCII_ALNUM = re.compile(r"[A-Z0-9]+")


def fold(text: str) -> str:
    """`text` with full-width characters turned into ASCII and separators/zero-width characters removed."""
    return text.translate(_FOLD)


def normalise(raw: str) -> str | None:
    """The canonical form of a tracking number: upper-case A-Z0-9 only.

    Removes spaces, dashes and zero-width characters and folds full-width forms. Returns None when anything
    else remains: look-alike letters of other scripts, other punctuation, digits of other scripts, or nothing.
    """
    if not raw:
        return None
    folded = fold(raw)
    if not folded.isascii():
        return None
    folded = folded.upper()
    return folded if _ASCII_ALNUM.fullmatch(folded) else None


_TEXT_FOLD = {cp: cp - 0xFEE0 for cp in range(_FULLWIDTH_START, _FULLWIDTH_END + 1)}
_TEXT_FOLD.update({ord(c): None for c in ZERO_WIDTH})
_SEPARATOR = f"[{re.escape(SPACES + DASHES)}]{{0,3}}"
# A USPS number may be quoted without its "420" + ZIP routing prefix, so that prefix counts as a boundary.
_USPS_ROUTE_BEFORE = r"(?<=420[0-9]{5})|(?<=420[0-9]{9})"


def occurs_in(number: str, text: str) -> bool:
    """True when the normalised `number` is written in `text`, ignoring case, spaces, dashes, zero-width
    characters and full-width forms. The number must stand alone: no letter or digit directly before or
    after it (except a USPS "420"+ZIP routing prefix), so a fragment of a longer code does not count.
    """
    canonical = normalise(number)
    if not canonical or not text:
        return False
    pattern = _SEPARATOR.join(re.escape(char) for char in canonical)
    regex = re.compile(rf"(?:(?<![A-Za-z0-9])|{_USPS_ROUTE_BEFORE}){pattern}(?![A-Za-z0-9])", re.IGNORECASE)
    return regex.search(text.translate(_TEXT_FOLD)) is not None
