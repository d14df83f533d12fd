"""The tracking-number formats the engine knows: one table per courier family, our own patterns.

Each `Format` matches a NORMALISED number (upper-case A-Z0-9, no separators) with `re.fullmatch` and then
checks its check digit. A format may list several patterns (e.g. with and without a USPS routing prefix);
the number is valid when any of them matches and passes. Facts taken from the format descriptions in
tracking-notes.md / tracking_number_data (v2.0.0): prefixes, lengths, which part a check digit protects.

Pattern groups: `p` = the payload protected by the check digit, `c` = the check character; other named
groups are used by the individual checks (e.g. `cc`, the country of a UPU S10 number).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from desktop.core.tracking import checksums as cs
from desktop.core.tracking.s10_countries import UPU_COUNTRIES

Check = Callable[[re.Match[str]], bool]


@dataclass(frozen=True)
class Format:
    """One tracking-number format of one courier.

    `loose` marks formats so permissive that ordinary words or codes match them (e.g. any 14 digits); the
    engine accepts those only when the text names the courier itself, not merely "tracking".
    """

    courier: str
    format_id: str
    name: str
    patterns: tuple[re.Pattern[str], ...]
    check: Check | None = None
    loose: bool = False

    @property
    def has_check_digit(self) -> bool:
        return self.check is not None

    def matches(self, number: str) -> bool:
        """True when `number` (normalised) fits a pattern and, where the format has one, its check digit."""
        for pattern in self.patterns:
            found = pattern.fullmatch(number)
            if found and (self.check is None or self.check(found)):
                return True
        return False


def _fmt(courier: str, format_id: str, name: str, *patterns: str, check: Check | None = None,
         loose: bool = False) -> Format:
    return Format(courier, format_id, name, tuple(re.compile(p) for p in patterns), check, loose)


# --- check helpers bound to each format's constants -------------------------------------------------


def _mod10(odd: int, even: int, *, from_right: bool = False, prepend: tuple[str, str] | None = None) -> Check:
    """`prepend` = (prefix, content): when the payload does not start with prefix, content is put in front."""

    def check(m: re.Match[str]) -> bool:
        payload = m["p"]
        if prepend and not payload.startswith(prepend[0]):
            payload = prepend[1] + payload
        return cs.mod10(payload, m["c"], odd_weight=odd, even_weight=even, from_right=from_right)

    return check


def _weighted(*weights: int) -> Check:
    return lambda m: cs.weighted_sum(m["p"], m["c"], weights)


def _mod7(m: re.Match[str]) -> bool:
    return cs.mod7(m["p"], m["c"])


def _luhn(m: re.Match[str]) -> bool:
    return cs.luhn(m["p"], m["c"])


def _mod37_36(m: re.Match[str]) -> bool:
    return cs.mod37_36(m["p"], m["c"])


def _s10(m: re.Match[str]) -> bool:
    # The country must be a UPU member as well, or the number is not a real postal item.
    return m["cc"] in UPU_COUNTRIES and cs.s10(m["p"], m["c"])


FEDEX_3_1_7 = (3, 1, 7) * 3 + (3, 1)          # 11 weights, FedEx Express 12 and ASTRA
FEDEX_1_7_3 = (1, 7, 3) * 4 + (1,)            # 13 weights, FedEx 34 and Ground GSN

# USPS routing prefix: "420" + destination ZIP (+4). The check digit never covers it.
ZIP_ROUTE = r"420[0-9]{5}"
ZIP4_ROUTE = r"420[0-9]{9}"
# IMpb body after the application identifier and the 3-digit service type: a 9-digit mailer id starting with 9
# or a 6-digit one starting with 0-8, then the package id.
IMPB_N_BODY = r"[0-9]{3}(?:9[0-9]{8}(?:[0-9]{15}|[0-9]{11}|[0-9]{7})|[0-8][0-9]{5}(?:[0-9]{14}|[0-9]{10}))"
IMPB_C_BODY = r"[0-9]{3}(?:9[0-9]{8}(?:[0-9]{11}|[0-9]{7})|[0-8][0-9]{5}(?:[0-9]{14}|[0-9]{10}))"
IMPB_C_AI = r"(?:92(?=[0-9]{3}9)|93(?=[0-9]{3}[0-8])|95)"   # 92: 9-digit mailer id; 93: 6-digit; 95: retail

UPS = (
    _fmt("ups", "ups", "UPS", r"1Z(?P<p>[0-9A-Z]{15})(?P<c>[0-9])", check=_mod10(1, 2)),
    _fmt("ups", "ups_waybill", "UPS Waybill", r"[AHJKTV](?P<p>[0-9]{9})(?P<c>[0-9])", check=_mod10(1, 2)),
)

USPS = (
    _fmt("usps", "usps_20", "USPS 20", r"(?P<p>[0-9]{19})(?P<c>[0-9])", check=_mod10(3, 1)),
    _fmt("usps", "usps_impb_n", "USPS IMpb",
         rf"(?P<p>94{IMPB_N_BODY})(?P<c>[0-9])",
         rf"{ZIP_ROUTE}(?P<p>94{IMPB_N_BODY})(?P<c>[0-9])",
         rf"{ZIP4_ROUTE}(?P<p>94{IMPB_N_BODY})(?P<c>[0-9])",
         check=_mod10(3, 1, from_right=True)),
    _fmt("usps", "usps_legacy", "USPS Legacy",
         r"(?P<p>(?:91)?[0-9]{19})(?P<c>[0-9])",
         rf"{ZIP_ROUTE}(?P<p>(?:91)?[0-9]{{19}})(?P<c>[0-9])",
         rf"{ZIP4_ROUTE}(?P<p>(?:91)?[0-9]{{19}})(?P<c>[0-9])",
         check=_mod10(3, 1, prepend=("91", "91"))),
    _fmt("usps", "usps_impb_c", "USPS IMpb",
         rf"(?P<p>{IMPB_C_AI}{IMPB_C_BODY})(?P<c>[0-9])",
         rf"{ZIP_ROUTE}(?P<p>{IMPB_C_AI}{IMPB_C_BODY})(?P<c>[0-9])",
         rf"{ZIP4_ROUTE}(?P<p>{IMPB_C_AI}[0-9]{{3}}(?:9[0-9]{{8}}[0-9]{{7}}|[0-8][0-9]{{5}}[0-9]{{10}}))(?P<c>[0-9])",
         check=_mod10(3, 1)),
)

FEDEX = (
    _fmt("fedex", "fedex_12", "FedEx Express (12)", r"(?P<p>[0-9]{11})(?P<c>[0-9])", check=_weighted(*FEDEX_3_1_7)),
    _fmt("fedex", "fedex_34", "FedEx Express (34)", r"[0-8][0-9]{14}[0-9]{5}(?P<p>[0-9]{13})(?P<c>[0-9])",
         check=_weighted(*FEDEX_1_7_3)),
    _fmt("fedex", "fedex_astra_32", "FedEx ASTRA (32)", r"3[0-9]{15}(?P<p>[0-9]{11})(?P<c>[0-9])[0-9]{4}",
         check=_weighted(*FEDEX_3_1_7)),
    _fmt("fedex", "fedex_ground", "FedEx Ground", r"(?P<p>[0-9]{14})(?P<c>[0-9])", check=_mod10(1, 3)),
    _fmt("fedex", "fedex_ground_sscc_18", "FedEx Ground (SSCC-18)", r"[0-9]{2}(?P<p>[0-9]{15})(?P<c>[0-9])",
         check=_mod10(3, 1)),
    _fmt("fedex", "fedex_ground_96", "FedEx Ground 96", r"96[0-9]{5}(?P<p>[0-9]{14})(?P<c>[0-9])",
         check=_mod10(1, 3)),
    _fmt("fedex", "fedex_ground_gsn", "FedEx Ground GSN", r"96[0-9]{17}[0-9](?P<p>[0-9]{13})(?P<c>[0-9])",
         check=_weighted(*FEDEX_1_7_3)),
)

DHL = (
    _fmt("dhl", "dhl_express", "DHL Express", r"(?P<p>[0-9]{9,10})(?P<c>[0-9])", check=_mod7),
    _fmt("dhl", "dhl_express_piece_id", "DHL Express piece id", r"J[A-Z]{2,3}[0-9]{9,10}", loose=True),
    _fmt("dhl", "dhl_ecommerce", "DHL eCommerce",
         r"(?:GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)(?=[0-9A-Z]*[0-9])[0-9A-Z]{10,39}", loose=True),
    _fmt("dhl", "dhl_ecommerce_14", "DHL eCommerce (14)", r"[0-9]{14}", loose=True),
)

OTHERS = (
    _fmt("amazon", "amazon_logistics", "Amazon Logistics", r"TB[ACM][0-9]{12}"),
    _fmt("amazon", "amazon_international", "Amazon International", r"[AFC][0-9]{10}", loose=True),
    _fmt("canada_post", "canada_post", "Canada Post", r"(?P<p>[0-9]{15})(?P<c>[0-9])", check=_mod10(3, 1)),
    _fmt("canpar", "canpar_22", "Canpar", r"[CDKLSUXZ][0-9]{21}"),
    _fmt("dpd", "dpd", "DPD (28)", r"(?P<p>[0-9]{27})(?P<c>[0-9A-Z])", check=_mod37_36),
    _fmt("dpd", "dpd_14", "DPD (14)", r"(?P<p>[0-9]{14})(?P<c>[0-9A-Z])", check=_mod37_36),
    _fmt("gofo", "gofo_us", "GOFO Express", r"GFUS[0-9]{14}"),
    _fmt("landmark", "landmark_global", "Landmark Global", r"LTN[0-9]{8}N1"),
    _fmt("lasership", "lasership_lx", "LaserShip", r"L[AIEHNX][1-3][0-9]{7}"),
    _fmt("lasership", "lasership_1ls7", "LaserShip 1LS7", r"1LS7[12][0-9]{10}"),
    _fmt("lasership", "lasership_1ls7_18", "LaserShip 1LS7 (18)", r"1LS7[12][0-9]{2}01[1-4][0-9]{6}1"),
    _fmt("lasership", "lasership_1lscx", "LaserShip 1LSCX", r"1LSCX[0-9A-Z]{10}"),
    _fmt("old_dominion", "old_dominion", "Old Dominion", r"(?P<p>(?:77[78]|072|780)[0-9]{7})(?P<c>[0-9])",
         check=_luhn),
    _fmt("old_dominion", "old_dominion_guaranteed", "Old Dominion Guaranteed", r"(?P<p>80[0-9]{8})(?P<c>[0-9])",
         check=_luhn),
    _fmt("ontrac", "ontrac_c", "OnTrac", r"C(?P<p>[0-9]{13})(?P<c>[0-9])", check=_mod10(1, 2, prepend=("4", "4"))),
    _fmt("ontrac", "ontrac_d", "OnTrac", r"D(?P<p>[0-9]{13})(?P<c>[0-9])", check=_mod10(1, 2, prepend=("5", "5"))),
    _fmt("purolator", "purolator_numeric", "Purolator", r"(?P<p>[0-5][0-9]{10})(?P<c>[0-9])", check=_luhn),
    _fmt("purolator", "purolator_alpha", "Purolator", r"[A-Z]{3}[0-9]{9}", loose=True),
    _fmt("s10", "s10", "UPU S10 (postal)", r"[A-Z]{2}(?P<p>[0-9]{8})(?P<c>[0-9])(?P<cc>[A-Z]{2})", check=_s10),
    _fmt("speedee", "speedee", "Spee-Dee", r"SP[0-9]{18}"),
    _fmt("yodel", "yodel", "Yodel", r"JJ?D[0-9]{16}"),
    _fmt("yunexpress", "yunexpress", "YunExpress", r"YT[0-9]{16}"),
)

FORMATS: tuple[Format, ...] = UPS + USPS + FEDEX + DHL + OTHERS

#: Shortest and longest normalised number any format accepts (bounds the text scanner's windows).
MIN_LENGTH = 10
MAX_LENGTH = 41
