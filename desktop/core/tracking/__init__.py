"""The tracking-number engine: normalise, validate and find parcel tracking numbers in text (no I/O, no Qt).

    from desktop.core.tracking import (normalise, validate, find_candidates, courier_info, COURIERS,
                                       FormatMatch, Candidate, Courier, occurs_in)

- `normalise(raw) -> str | None`: upper-case A-Z0-9 without spaces/dashes/zero-width, full-width folded;
  None for look-alike letters of other scripts or other junk.
- `validate(number) -> list[FormatMatch]`: every format the normalised number fits, check digit included.
- `find_candidates(text, cache=None) -> list[Candidate]`: ranked spans with a verdict (`accepted`) and
  reasons; `cache`, a `LineCache` the caller keeps for one conversation, spares re-scanning quoted lines.
- `clear_caches()`: forget the engine's memo of label readings (benchmarks measure a cold engine).
- `courier_info(code) -> Courier | None`, `COURIERS`: names, Ship24 codes, tracking pages.
- `occurs_in(number, text) -> bool`: the number is written in the text (separators and case ignored).
"""

from __future__ import annotations

from desktop.core.tracking.context import clear_caches
from desktop.core.tracking.couriers import COURIERS, Courier, courier_info
from desktop.core.tracking.engine import find_candidates
from desktop.core.tracking.model import Candidate, FormatMatch
from desktop.core.tracking.normalise import normalise, occurs_in
from desktop.core.tracking.spans import LineCache
from desktop.core.tracking.validate import validate

__all__ = ["COURIERS", "Candidate", "Courier", "FormatMatch", "LineCache", "clear_caches", "courier_info",
           "find_candidates", "normalise", "occurs_in", "validate"]
