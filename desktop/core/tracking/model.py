"""Value types of the tracking-number engine (frozen dataclasses, no behaviour beyond small helpers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FormatMatch:
    """A normalised number fits this format (and passes its check digit where it has one)."""

    courier: str
    format_id: str
    has_check_digit: bool


@dataclass(frozen=True, slots=True)
class Candidate:
    """A number-like span of a text, what it could be, and the engine's verdict.

    `number` is normalised (A-Z0-9); `raw` is the text as written, `start`/`end` its offsets in the text given
    to `find_candidates`. `matches` lists every format it fits (empty for refused spans such as look-alike
    letters). `courier` is the engine's choice among them (context decides; None when there is none).
    `accepted` is the verdict; `reasons` say why (e.g. "check_digit", "tracking_label", "carrier_word:ups",
    "carrier_link:fedex", "decoy_label:order", "phone_shape", "needs_context", "ambiguous_format").
    `context` is the line around the number (the evidence sentence).
    """

    number: str
    raw: str
    start: int
    end: int
    matches: tuple[FormatMatch, ...]
    courier: str | None
    score: float
    accepted: bool
    reasons: tuple[str, ...]
    context: str

    @property
    def has_check_digit(self) -> bool:
        """True when the chosen courier's format (or, without a choice, any format) carries a check digit."""
        return any(m.has_check_digit for m in self.matches if self.courier in (None, m.courier))

    @property
    def ambiguous(self) -> bool:
        return "ambiguous_format" in self.reasons
