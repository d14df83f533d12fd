"""`find_candidates`: spans of a text that fit a tracking-number format, ranked, with a verdict each.

Steps: scan the text for windows line by line (spans.py, scanner.py), validate each (validate.py), keep the
best non-overlapping windows (check-digit formats first, then longer), read the context (context.py) and
decide.

The verdict (see `decide`):
- refused outright: look-alike letters of other scripts, part of a longer dashed code or of a longer run of
  space-separated digit groups (a piece of a mistyped number passing another format's check digit by
  chance: "1777 6317 0669" in "9400 2914 1777 6317 0669 07"), a decoy label right
  before it ("Order #", "Phone:", "Invoice"), a phone-number shape, or a number inside an unrelated URL;
- accepted on its own: a *strong* format (a check digit and either letters in fixed places, like 1Z or an
  S10, or 22+ digits, where chance matches are rare);
- accepted with context: a check-digit format of 10-20 digits, or a check-digit-free format, needs a
  "tracking" label, a carrier word of a matching courier, or a carrier link nearby;
- *loose* formats (any 14 digits as DHL eCommerce, 3 letters + 9 digits as Purolator, ...) need the
  courier itself named or linked, a tracking link, or a tracking label touching the number ("Tracking
  number: X", the number alone under "Tracking number:", a "Tracking #" column).
"""

from __future__ import annotations

import bisect

from desktop.core.tracking.context import Signals, TextIndex, line_around, read_signals
from desktop.core.tracking.model import Candidate, FormatMatch
from desktop.core.tracking.scanner import DIGIT_HOMOGLYPHS, HOMOGLYPHS, Window
from desktop.core.tracking.spans import WINDOW_BUDGET, Found, LineCache, scan
from desktop.core.tracking.spans import best_strength as _best_strength
from desktop.core.tracking.spans import strength as _strength
from desktop.core.tracking.validate import _validate, match_format

__all__ = ["COURIER_PREFERENCE", "WINDOW_BUDGET", "decide", "find_candidates"]

#: When context cannot choose between couriers, the more common one is assumed (and flagged ambiguous).
COURIER_PREFERENCE = ("ups", "usps", "fedex", "dhl", "amazon", "canada_post", "purolator", "ontrac", "lasership",
                      "dpd", "s10", "old_dominion", "yodel", "yunexpress", "canpar", "landmark", "speedee", "gofo")


def _select(found: list[Found], index: TextIndex) -> list[Found]:
    """The best non-overlapping windows: strong formats first, then longer numbers, loose formats last.

    A check-digit-free format with a fixed prefix ("D576 0024 ...", "GFUS 0101 ...") ranks with the short
    check-digit formats, so its longer reading beats a 12-digit piece of it that passes a check by chance;
    so does a loose format whose courier is named close by ("DHL ... GM 2951 1732 2517 4494"). A run fragment
    ranks below everything else: it must never hide the whole run, or a number beside it.
    """
    def rank(item: Found) -> tuple[bool, int, int]:
        window, matches, fragment = item
        strength = _best_strength(window, matches)
        if strength == 0 and index.names_nearby({m.courier for m in matches}, window.start, window.end):
            strength = 1
        return not fragment, (2 if strength == 1 else strength), len(window.number)

    ranked = sorted(found, key=rank, reverse=True)
    starts: list[int] = []      # taken spans, kept sorted and disjoint
    ends: list[int] = []
    chosen = []
    for item in ranked:
        window = item[0]
        at = bisect.bisect_left(starts, window.start)
        if (at < len(starts) and starts[at] < window.end) or (at > 0 and ends[at - 1] > window.start):
            continue
        starts.insert(at, window.start)
        ends.insert(at, window.end)
        chosen.append(item)
    return chosen


def _split_pair(window: Window, matches: tuple[FormatMatch, ...]) -> list[tuple[Window, tuple[FormatMatch, ...]]] | None:
    """Two check-digit numbers written side by side can read as one longer, weak number (two 10-digit DHL
    numbers as one 20-digit USPS); prefer the two when each is at least as strong as the whole."""
    whole = _best_strength(window, matches)
    for cut in range(window.first, window.last):
        left, right = window.piece(window.first, cut), window.piece(cut + 1, window.last)
        left_m, right_m = _validate(left.number), _validate(right.number)
        if (left_m and right_m and _best_strength(left, left_m) >= max(whole, 2)
                and _best_strength(right, right_m) >= max(whole, 2)):
            return [(left, left_m), (right, right_m)]
    return None


def _choose_courier(number: str, matches: tuple[FormatMatch, ...], signals: Signals) -> tuple[str, bool]:
    """(courier, ambiguous): a carrier link decides, else the nearest carrier word, else the preference order."""
    couriers = {m.courier for m in matches}
    if signals.link_courier in couriers:
        return signals.link_courier, False
    named = sorted((d, c) for c, d in signals.carrier_words.items() if c in couriers)
    if named:
        return named[0][1], False
    far = signals.carrier_far & couriers
    if len(far) == 1:
        return far.pop(), False
    strongest = max(_strength(number, match_format(m)) for m in matches)
    best = {m.courier for m in matches if _strength(number, match_format(m)) == strongest}
    if number.startswith("420") and "usps" in best:
        best = {"usps"}   # a "420" + ZIP routing prefix is USPS's
    courier = min(best, key=lambda c: COURIER_PREFERENCE.index(c) if c in COURIER_PREFERENCE else 99)
    return courier, len(couriers) > 1


def decide(window: Window, raw: str, matches: tuple[FormatMatch, ...], signals: Signals, *,
           fragment: bool = False) -> tuple[str, float, bool, tuple[str, ...]]:
    """(courier, score, accepted, reasons) for a validated window; `fragment`: it is a strict part of a longer
    run of digit groups (refused as "part_of_longer_code")."""
    courier, ambiguous = _choose_courier(window.number, matches, signals)
    chosen = [m for m in matches if m.courier == courier]
    strength = max(_strength(window.number, match_format(m)) for m in chosen)
    reasons: list[str] = ["check_digit" if any(m.has_check_digit for m in chosen) else "no_check_digit"]
    linked = signals.link_courier is not None and signals.link_courier in ("", courier)
    named = courier in signals.carrier_words
    if signals.tracking_label:
        reasons.append("tracking_label")
    if named:
        reasons.append(f"carrier_word:{courier}")
    if linked:
        reasons.append(f"carrier_link:{signals.link_courier or 'unknown'}")
    if ambiguous:
        reasons.append("ambiguous_format")
    score = (0.2, 0.35, 0.45, 0.7)[strength] + 0.15 * signals.tracking_label + 0.15 * named + 0.2 * linked
    refusal = _refusal(window, signals, linked, fragment)
    if refusal:
        reasons.append(refusal)
        return courier, round(min(score, 1.0) * 0.25, 3), False, tuple(reasons)
    if strength == 0:
        # A label touching the number ("Tracking number: X", a "Tracking #" column) or a tracking link is a
        # claim about this very number; a "tracking" word somewhere nearby is not.
        accepted = named or (linked and signals.link_courier in (courier, "")) or signals.close_label or \
            (signals.tracking_label and courier in signals.carrier_far)
    elif strength < 3:
        accepted = signals.tracking_label or named or linked
    else:
        accepted = True
    if not accepted:
        reasons.append("needs_context")
        score *= 0.5
    return courier, round(min(score, 1.0), 3), accepted, tuple(reasons)


def _refusal(window: Window, signals: Signals, linked: bool, fragment: bool) -> str | None:
    if window.dash_outside or fragment:
        return "part_of_longer_code"
    if linked:
        return None   # a carrier's own tracking link outweighs any label
    if signals.in_url:
        return "inside_unrelated_url"
    if signals.decoy_label:
        return f"decoy_label:{signals.decoy_label}"
    if signals.phone_shape:
        return "phone_shape"
    return None


def _foreign_candidate(text: str, window: Window) -> Candidate | None:
    """A span with letters of other scripts that would validate if they were Latin: reported, refused."""
    readings = (window.number.translate(HOMOGLYPHS), window.number.translate(DIGIT_HOMOGLYPHS).translate(HOMOGLYPHS))
    latin = next((r for r in readings if r.isascii() and _validate(r)), None)
    if latin is None:
        return None
    # Only the context is wanted: the line around it (no carrier index of the whole text for it).
    return Candidate(latin, text[window.start:window.end], window.start, window.end, (), None, 0.0, False,
                     ("lookalike_characters",), line_around(text, window.start, window.end))


def find_candidates(text: str, cache: LineCache | None = None) -> list[Candidate]:
    """Every tracking-number-like span of `text`, best first (accepted ones before refused ones).

    Offsets refer to `text`. Each span appears once (overlapping readings are resolved in favour of the
    stronger format). Refused spans are included with `accepted=False` and the reason. `cache` (a dict the
    caller keeps, e.g. one per conversation) holds the lines already scanned: the result is the same with or
    without it, only faster when texts quote each other.
    """
    if not text:
        return []
    spans = scan(text, cache)
    found = spans.found
    foreign = [c for c in (_foreign_candidate(text, window) for window in spans.foreign) if c is not None]
    index = TextIndex(text, [(window.start, window.end) for window, _, _ in found])
    chosen = _expand(_select(found, index))
    result = [_candidate(text, *item, index) for item in chosen]
    result += _dedupe_spans(foreign, result)
    result.sort(key=lambda c: (c.accepted, c.score, -c.start), reverse=True)
    return result


def _expand(chosen: list[Found]) -> list[Found]:
    """Split a window holding two numbers side by side; the halves inherit the whole's fragment verdict (each
    half is a strict part of the run by construction, but together they cover it)."""
    out: list[Found] = []
    for window, matches, fragment in chosen:
        pair = _split_pair(window, matches) if window.last > window.first else None
        out.extend([(w, m, fragment) for w, m in pair] if pair else [(window, matches, fragment)])
    return out


def _dedupe_spans(foreign: list[Candidate], kept: list[Candidate]) -> list[Candidate]:
    spans: list[tuple[int, int]] = [(c.start, c.end) for c in kept]
    out = []
    for candidate in sorted(foreign, key=lambda c: c.end - c.start, reverse=True):
        if not any(candidate.start < end and start < candidate.end for start, end in spans):
            spans.append((candidate.start, candidate.end))
            out.append(candidate)
    return out


def _candidate(text: str, window: Window, matches: tuple[FormatMatch, ...], fragment: bool,
               index: TextIndex) -> Candidate:
    raw = text[window.start:window.end]
    signals = read_signals(text, window.start, window.end, raw, index)
    courier, score, accepted, reasons = decide(window, raw, matches, signals, fragment=fragment)
    return Candidate(window.number, raw, window.start, window.end, matches, courier, score, accepted, reasons,
                     signals.context)
