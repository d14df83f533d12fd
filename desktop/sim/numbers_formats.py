"""Tracking-number formats: structure and check digit (generators: `numbers_makers`).

Written from the format facts in ../shared/tracking-notes.md (not from the product's code). Every
format works on NORMALISED numbers (upper-case A-Z0-9, no spaces or dashes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from desktop.sim.numbers_check import (
    FEDEX_12_WEIGHTS,
    FEDEX_34_WEIGHTS,
    luhn_check,
    mod7_check,
    mod10_check,
    mod37_36_check,
    s10_check,
    sum_product_check,
)
from desktop.sim.numbers_makers import (
    Maker,
    digits,
    make_astra,
    make_canada_post,
    make_dhl_ecom,
    make_dhl_express,
    make_dhl_piece,
    make_dpd,
    make_fedex12,
    make_fedex15,
    make_fedex34,
    make_fedex96,
    make_legacy,
    make_old_dominion,
    make_ontrac,
    make_purolator,
    make_s10,
    make_sscc,
    make_ups,
    make_usps_20,
    make_waybill,
)

Checker = Callable[[str], bool]


# UPU members accepted as the S10 country suffix (validation); GENERATED numbers use S10_COUNTRIES only.
S10_MEMBERS = frozenset(
    "AF AL DZ AO AG AR AM AU AT AZ BS BH BD BB BY BE BZ BJ BT BO BA BW BR BN BG BF BI KH CM CA CV CF TD CL CN "
    "HK CO KM CG CR HR CU CY CZ CI KP CD DK DJ DM DO EC EG SV GQ ER EE ET FJ FI FR GA GM GE DE GH GB GR GD GT "
    "GN GW GY HT HN HU IS IN ID IR IQ IE IL IT JM JP JO KZ KE KI KR KW KG LA LV LB LS LR LY LI LT LU MG MW MY "
    "MV ML MT MR MU MX MD MC MN ME MA MZ MM NA NR NP NL NZ NI NE NG NO OM PK PA PG PY PE PH PL PT QA RO RU RW "
    "KN LC VC WS SM ST SA SN RS SC SL SG SK SI SB SO ZA SS ES LK SD SR SZ SE CH SY TJ TZ TH MK TL TG TO TT TN "
    "TR TM TV UG UA AE US UY UZ VU VA VE VN YE ZM ZW".split()
)


@dataclass(frozen=True, slots=True)
class Format:
    """One number format. `check` is None for formats without a check digit ("format-only")."""

    courier: str
    fid: str
    pattern: re.Pattern[str]
    check: Checker | None
    make: Maker | None  # None: recognised but never generated
    groups: tuple[int, ...] = ()  # carrier-style print grouping; () = groups of 4

    @property
    def has_check_digit(self) -> bool:
        return self.check is not None

    def matches(self, number: str) -> bool:
        """True when `number` (normalised) has this format and its check digit (if any) is right."""
        if not self.pattern.fullmatch(number):
            return False
        return self.check is None or self.check(number)


# --- UPS -------------------------------------------------------------------------------------------


# --- USPS ------------------------------------------------------------------------------------------
def _usps_cores(number: str, zip4_lengths: tuple[int, ...]) -> Iterator[tuple[str, bool]]:
    """Yield (core, routed): the number itself and, after a 420+ZIP(+4) routing prefix, the rest."""
    yield number, False
    if number.startswith("420"):
        yield number[8:], True
        if len(number) - 12 in zip4_lengths:
            yield number[12:], True


def _impb_shape(core: str, idents: tuple[str, ...]) -> bool:
    if len(core) not in (22, 26, 30) or core[:2] not in idents:
        return False
    nine = core[5] == "9"  # a 9-digit mailer id starts with 9, a 6-digit one with 0-8
    if core[:2] == "92" and not nine or core[:2] == "93" and nine:
        return False
    return len(core) != 30 or (nine and core[:2] == "94")


def _impb_c_check(number: str) -> bool:
    for core, routed in _usps_cores(number, (22,)):
        if routed and len(core) == 30:
            continue
        if _impb_shape(core, ("92", "93", "95")) and len(core) != 30:
            if mod10_check(core[:-1], 3, 1) == core[-1]:
                return True
    return False


def _impb_n_check(number: str) -> bool:
    for core, routed in _usps_cores(number, (22,)):
        if routed and len(core) == 30:
            continue
        if _impb_shape(core, ("94",)) and mod10_check(core[:-1], 3, 1, reverse=True) == core[-1]:
            return True
    return False


def _legacy_check(number: str) -> bool:
    for core, _routed in _usps_cores(number, (20, 22)):
        if len(core) == 20 or len(core) == 22 and core.startswith("91"):
            serial = core[:-1]
            serial = serial if serial.startswith("91") else "91" + serial  # legacy serials carry AI 91
            if mod10_check(serial, 3, 1) == core[-1]:
                return True
    return False


# --- FedEx -----------------------------------------------------------------------------------------


# --- DHL -------------------------------------------------------------------------------------------


# --- the rest ----------------------------------------------------------------------------------------


def _ontrac_check(number: str) -> bool:
    serial = number[1:14]
    prefix = "4" if number[0] == "C" else "5"
    if not serial.startswith(prefix):
        serial = prefix + serial
    return mod10_check(serial, 1, 2) == number[14]


def _s10_check(number: str) -> bool:
    return s10_check(number[2:10]) == number[10] and number[11:] in S10_MEMBERS


def _tail_check(algo: Callable[[str], str], start: int = 0) -> Checker:
    """Checker for formats whose check digit is the last character over characters [start:-1]."""
    return lambda number: algo(number[start:-1]) == number[-1]


def _fmt(
    courier: str,
    fid: str,
    regex: str,
    check: Checker | None,
    make: Maker | None,
    groups: tuple[int, ...] = (),
) -> Format:
    return Format(courier, fid, re.compile(regex), check, make, groups)


FORMATS: tuple[Format, ...] = (
    _fmt(
        "ups",
        "ups_1z",
        r"1Z[A-Z0-9]{15}[0-9]",
        _tail_check(lambda s: mod10_check(s, 1, 2), 2),
        make_ups,
        (2, 3, 3, 2, 4, 4),
    ),
    _fmt(
        "ups",
        "ups_waybill",
        r"[AHJKTV][0-9]{10}",
        _tail_check(lambda s: mod10_check(s, 1, 2), 1),
        make_waybill,
        (1, 3, 3, 4),
    ),
    _fmt("usps", "usps_impb_c", r"[0-9]{22}|[0-9]{26}|420[0-9]{27}|420[0-9]{31}", _impb_c_check, None),
    _fmt(
        "usps", "usps_impb_n", r"[0-9]{22}|[0-9]{26}|[0-9]{30}|420[0-9]{27}|420[0-9]{31}", _impb_n_check, None
    ),
    _fmt("usps", "usps_20", r"[0-9]{20}", _tail_check(lambda s: mod10_check(s, 3, 1)), make_usps_20),
    _fmt("usps", "usps_legacy", r"(420[0-9]{5}([0-9]{4})?)?(91)?[0-9]{20}", _legacy_check, make_legacy),
    _fmt(
        "fedex",
        "fedex_12",
        r"[0-9]{12}",
        _tail_check(lambda s: sum_product_check(s, FEDEX_12_WEIGHTS)),
        make_fedex12,
        (4, 4, 4),
    ),
    _fmt(
        "fedex",
        "fedex_15",
        r"[0-9]{15}",
        _tail_check(lambda s: mod10_check(s, 1, 3)),
        make_fedex15,
        (4, 4, 4, 3),
    ),
    _fmt(
        "fedex",
        "fedex_sscc_18",
        r"[0-9]{18}",
        _tail_check(lambda s: mod10_check(s, 3, 1), 2),
        make_sscc,
        (2, 4, 4, 4, 4),
    ),
    _fmt(
        "fedex", "fedex_96_22", r"96[0-9]{20}", _tail_check(lambda s: mod10_check(s, 1, 3), 7), make_fedex96
    ),
    _fmt(
        "fedex",
        "fedex_astra_32",
        r"3[0-9]{31}",
        lambda n: sum_product_check(n[16:27], FEDEX_12_WEIGHTS) == n[27],
        make_astra,
    ),
    _fmt(
        "fedex",
        "fedex_34",
        r"[0-9]{34}",
        lambda n: sum_product_check(n[20:33], FEDEX_34_WEIGHTS) == n[33],
        make_fedex34,
    ),
    _fmt("dhl", "dhl_express", r"[0-9]{10,11}", _tail_check(mod7_check), make_dhl_express, (2, 4, 4)),
    _fmt("dhl", "dhl_piece_id", r"J[A-Z]{2,3}[0-9]{9,10}", None, make_dhl_piece),
    _fmt(
        "dhl",
        "dhl_ecommerce",
        r"(GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)(?=[A-Z]*[0-9])[0-9A-Z]{10,39}",
        None,
        make_dhl_ecom,
    ),
    _fmt("dhl", "dhl_ecommerce_14", r"[0-9]{14}", None, None),
    _fmt(
        "amazon",
        "amazon_tba",
        r"TB[ACM][0-9]{12}",
        None,
        lambda rng: "TB" + rng.choice("AAAC") + digits(rng, 9) + rng.choice(("000", "000", digits(rng, 3))),
        (3, 4, 4, 4),
    ),
    _fmt("amazon", "amazon_intl", r"[AFC][0-9]{10}", None, None),
    _fmt("ontrac", "ontrac", r"[CD][0-9]{14}", _ontrac_check, make_ontrac, (1, 3, 2, 3, 5, 1)),
    _fmt(
        "lasership",
        "lasership_lx",
        r"L[AIEHNX][1-3][0-9]{7}",
        None,
        lambda rng: "L" + rng.choice("XIA") + rng.choice("123") + digits(rng, 7),
        (2, 3, 5),
    ),
    _fmt(
        "lasership",
        "lasership_1ls7",
        r"1LS7[12][0-9]{10}",
        None,
        lambda rng: "1LS7" + rng.choice("12") + digits(rng, 10),
    ),
    _fmt("lasership", "lasership_1ls7_18", r"1LS7[12][0-9]{2}01[1-4][0-9]{6}1", None, None),
    _fmt("lasership", "lasership_1lscx", r"1LSCX[0-9A-Z]{10}", None, None),
    _fmt(
        "canada_post",
        "canada_post",
        r"[0-9]{16}",
        _tail_check(lambda s: mod10_check(s, 3, 1)),
        make_canada_post,
    ),
    _fmt(
        "purolator", "purolator_12", r"[0-5][0-9]{11}", _tail_check(luhn_check), make_purolator, (3, 3, 3, 3)
    ),
    _fmt("purolator", "purolator_alpha", r"[A-Z]{3}[0-9]{9}", None, None),
    _fmt("dpd", "dpd", r"[0-9]{27}[0-9A-Z]|[0-9]{14}[0-9A-Z]", _tail_check(mod37_36_check), make_dpd),
    _fmt("s10", "s10", r"[A-Z]{2}[0-9]{9}[A-Z]{2}", _s10_check, make_s10, (2, 3, 3, 3, 2)),
    _fmt(
        "old_dominion",
        "old_dominion",
        r"(77[78]|072|780)[0-9]{8}|80[0-9]{9}",
        _tail_check(luhn_check),
        make_old_dominion,
        (3, 4, 4),
    ),
    _fmt("yodel", "yodel", r"JJ?D[0-9]{16}", None, lambda rng: "JJD000" + digits(rng, 13), (3, 4, 4, 4, 4)),
    _fmt(
        "yunexpress",
        "yunexpress",
        r"YT[0-9]{16}",
        None,
        lambda rng: "YT22" + digits(rng, 14),
        (2, 4, 4, 4, 4),
    ),
    _fmt(
        "canpar",
        "canpar",
        r"[CDKLSUXZ][0-9]{21}",
        None,
        lambda rng: rng.choice("DL") + "576002440" + digits(rng, 12),
    ),
    _fmt(
        "landmark", "landmark", r"LTN[0-9]{8}N1", None, lambda rng: "LTN" + digits(rng, 8) + "N1", (3, 8, 2)
    ),
    _fmt("speedee", "speedee", r"SP[0-9]{18}", None, lambda rng: "SP0296925" + digits(rng, 11)),
    _fmt("gofo", "gofo", r"GFUS[0-9]{14}", None, lambda rng: "GFUS0101" + digits(rng, 10)),
)
