"""The simulator's own tracking-number toolkit: generate, validate, detect, format and find numbers.

Independent of the product's engine on purpose (the simulators must not share its bugs). Numbers are
NORMALISED (upper-case A-Z0-9) unless a function says otherwise.

    generate(courier, rng, variant=None) -> (number, display_form)   # valid, unambiguous (detect == [courier])
    wrong_check(courier, rng) -> str        # right shape, WRONG check digit, valid under no format at all
    is_valid(courier, number) -> bool       # any format of that courier accepts it
    detect(number) -> list[courier]         # couriers with a format accepting it (registry order)
    spaced(number, rng) -> str              # carrier-style grouping with spaces
    find_numbers(text) -> list[(number, courier)]   # context-gated search in free text
    normalise(raw) -> str                   # fold full-width, drop zero-width/spaces/dashes, upper-case
    has_check_digit(number), variants(courier), tracking_url(courier, number), CARRIER_NAMES, COURIERS
"""

from __future__ import annotations

import random
import unicodedata

from desktop.sim.numbers_formats import FORMATS, Format
from desktop.sim.numbers_makers import FORMAT_MAKERS_USPS

COURIERS: tuple[str, ...] = (
    "ups",
    "usps",
    "fedex",
    "dhl",
    "amazon",
    "ontrac",
    "lasership",
    "canada_post",
    "purolator",
    "dpd",
    "s10",
    "old_dominion",
    "yodel",
    "yunexpress",
    "canpar",
    "landmark",
    "speedee",
    "gofo",
)

CARRIER_NAMES: dict[str, str] = {
    "ups": "UPS",
    "usps": "USPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "amazon": "Amazon Logistics",
    "ontrac": "OnTrac",
    "lasership": "LaserShip",
    "canada_post": "Canada Post",
    "purolator": "Purolator",
    "dpd": "DPD",
    "s10": "Royal Mail",
    "old_dominion": "Old Dominion",
    "yodel": "Yodel",
    "yunexpress": "YunExpress",
    "canpar": "Canpar",
    "landmark": "Landmark Global",
    "speedee": "Spee-Dee",
    "gofo": "GOFO Express",
}

#: Public tracking pages (the links carrier notices carry); %s is the number.
TRACKING_URLS: dict[str, str] = {
    "ups": "https://www.ups.com/track?loc=en_US&tracknum=%s",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels=%s",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr=%s",
    "dhl": "https://www.dhl.com/us-en/home/tracking/tracking-express.html?submit=1&tracking-id=%s",
    "amazon": "https://track.amazon.com/tracking/%s",
    "ontrac": "https://www.ontrac.com/tracking/?number=%s",
    "lasership": "https://www.ontrac.com/tracking/?number=%s",
    "canada_post": "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=%s",
    "purolator": "https://www.purolator.com/en/shipping/tracker?pin=%s",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/%s",
    "s10": "https://www.royalmail.com/track-your-item#/tracking-results/%s",
    "old_dominion": "https://www.odfl.com/us/en/tools/trace-track-ltl-freight/trace.html?proNumbers=%s",
    "yodel": "https://www.yodel.co.uk/tracking/%s",
    "yunexpress": "https://www.yuntrack.com/parcelTracking?id=%s",
    "canpar": "https://www.canpar.com/en/tracking/track.htm?barcode=%s",
    "landmark": "https://track.landmarkglobal.com/?search=%s",
    "speedee": "https://speedeedelivery.com/track-a-shipment/?v=%s",
    "gofo": "https://www.gofoexpress.com/tracking.html?searchID=%s",
}

_BY_ID: dict[str, Format] = {f.fid: f for f in FORMATS}

# Generation variants per courier: (variant name, format id or USPS maker key, weight).
VARIANTS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "ups": (("ups_1z", "ups_1z", 0.85), ("ups_waybill", "ups_waybill", 0.15)),
    "usps": (
        ("usps_22", "usps_22", 0.55),
        ("usps_26", "usps_26", 0.14),
        ("usps_30", "usps_30", 0.06),
        ("usps_34", "usps_34", 0.04),
        ("usps_20", "usps_20", 0.09),
        ("usps_legacy", "usps_legacy", 0.12),
    ),
    "fedex": (
        ("fedex_12", "fedex_12", 0.5),
        ("fedex_15", "fedex_15", 0.15),
        ("fedex_sscc_18", "fedex_sscc_18", 0.05),
        ("fedex_96_22", "fedex_96_22", 0.15),
        ("fedex_astra_32", "fedex_astra_32", 0.05),
        ("fedex_34", "fedex_34", 0.1),
    ),
    "dhl": (
        ("dhl_express", "dhl_express", 0.7),
        ("dhl_piece_id", "dhl_piece_id", 0.1),
        ("dhl_ecommerce", "dhl_ecommerce", 0.2),
    ),
    "lasership": (("lasership_lx", "lasership_lx", 0.7), ("lasership_1ls7", "lasership_1ls7", 0.3)),
}
_CHECKSUM_VARIANTS = {"usps_22", "usps_26", "usps_30", "usps_34"}  # USPS makers live outside FORMATS

# How often a carrier's own notice prints the number in spaced groups (display form).
_SPACED_SHARE = {
    "usps": 0.5,
    "dpd": 0.6,
    "canada_post": 0.3,
    "ups": 0.2,
    "fedex": 0.15,
    "dhl": 0.15,
    "s10": 0.2,
}

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def normalise(raw: str) -> str:
    """Fold full-width forms, drop zero-width chars, spaces, dashes and punctuation; upper-case."""
    folded = unicodedata.normalize("NFKC", raw.translate(_ZERO_WIDTH))
    return "".join(c for c in folded.upper() if c.isascii() and c.isalnum())


def formats_of(number: str) -> list[Format]:
    """All formats accepting the normalised number."""
    return [f for f in FORMATS if f.matches(number)]


def detect(number: str) -> list[str]:
    """Couriers (registry order, no repeats) with a format accepting the normalised number."""
    found: list[str] = []
    for fmt in formats_of(number):
        if fmt.courier not in found:
            found.append(fmt.courier)
    return found


def is_valid(courier: str, number: str) -> bool:
    """True when a format of `courier` accepts `number` (normalised; non-normalised input is normalised)."""
    number = normalise(number)
    return any(f.courier == courier and f.matches(number) for f in FORMATS)


def has_check_digit(number: str) -> bool:
    """True when a format WITH a check digit accepts the number."""
    return any(f.has_check_digit for f in formats_of(number))


def variants(courier: str) -> tuple[str, ...]:
    """Names of the generation variants of a courier (e.g. "usps_22", "fedex_12")."""
    if courier in VARIANTS:
        return tuple(name for name, _key, _w in VARIANTS[courier])
    return tuple(f.fid for f in FORMATS if f.courier == courier and f.make is not None)


def _make(key: str, rng: random.Random) -> str:
    if key in FORMAT_MAKERS_USPS:
        return FORMAT_MAKERS_USPS[key](rng)
    maker = _BY_ID[key].make
    assert maker is not None, key
    return maker(rng)


def _pick_variant(courier: str, rng: random.Random, only_checked: bool = False) -> str:
    options = VARIANTS.get(courier) or tuple((v, v, 1.0) for v in variants(courier))
    if only_checked:
        options = tuple(o for o in options if o[1] in _CHECKSUM_VARIANTS or _BY_ID[o[1]].has_check_digit)
    if not options:
        raise ValueError(f"courier {courier!r} has no format with a check digit")
    return rng.choices([o[1] for o in options], weights=[o[2] for o in options])[0]


def generate(courier: str, rng: random.Random, variant: str | None = None) -> tuple[str, str]:
    """A valid number of `courier` that no other courier's format accepts, and its display form.

    The display form is how the carrier's own notice prints it (plain, or spaced for USPS/DPD/...).
    """
    if courier not in COURIERS:
        raise ValueError(f"unknown courier {courier!r}")
    key = variant or _pick_variant(courier, rng)
    for _ in range(200):
        number = _make(key, rng)
        if detect(number) == [courier]:
            break
    else:  # pragma: no cover - every maker produces unambiguous numbers far more often than that
        raise RuntimeError(f"could not generate an unambiguous {key} number")
    display = spaced(number, rng) if rng.random() < _SPACED_SHARE.get(courier, 0.1) else number
    return number, display


def _check_position(number: str, fmt_key: str) -> int:
    """Index of the check character (most formats: the last one)."""
    if fmt_key == "s10":
        return 10
    if fmt_key == "fedex_astra_32":
        return 27
    return len(number) - 1


def wrong_check(courier: str, rng: random.Random) -> str:
    """A number shaped like `courier`'s checksummed format but whose check digit is wrong.

    It is valid under NO format (so it can never count as a real shipment), e.g. a mistyped number.
    """
    for _ in range(500):
        key = _pick_variant(courier, rng, only_checked=True)
        number = _make(key, rng)
        pos = _check_position(number, key)
        wrong = rng.choice([d for d in "0123456789" if d != number[pos]])
        candidate = number[:pos] + wrong + number[pos + 1 :]
        if not formats_of(candidate):
            return candidate
    raise RuntimeError(f"could not make a wrong-check {courier} number")  # pragma: no cover


def _groups_for(number: str) -> tuple[int, ...]:
    for fmt in formats_of(number):
        if fmt.groups:
            return fmt.groups
    return ()


def spaced(number: str, rng: random.Random) -> str:
    """The number split by spaces the way carriers print it (UPS 1Z 2-3-3-2-4-4, S10 RB 123 456 785 GB,
    otherwise mostly groups of four)."""
    groups = _groups_for(number)
    if not groups or rng.random() < 0.25:
        size = 4 if len(number) > 12 or not groups else 3
        return " ".join(number[i : i + size] for i in range(0, len(number), size))
    parts, pos = [], 0
    for size in groups:
        parts.append(number[pos : pos + size])
        pos += size
    if pos < len(number):
        parts.append(number[pos:])
    return " ".join(p for p in parts if p)


def tracking_url(courier: str, number: str) -> str:
    """The carrier's public tracking link for `number`."""
    return TRACKING_URLS[courier] % number


def find_numbers(text: str) -> list[tuple[str, str]]:
    """Tracking numbers in free text with carrier/"tracking" context: [(number, courier)], first seen first."""
    from desktop.sim.numbers_find import find_numbers as _find

    return _find(text)
