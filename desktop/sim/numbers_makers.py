"""Generators of VALID tracking numbers, one per format (used by `numbers.generate`).

Each `make_*` draws the variable parts from `rng` and computes the check digit with `numbers_check`.
"""

from __future__ import annotations

import random
from collections.abc import Callable

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

Maker = Callable[[random.Random], str]

_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


S10_COUNTRIES = ("US", "GB", "CN", "DE", "FR", "NL", "CA", "AU", "JP", "SE", "CH", "HK", "SG", "IT", "ES")


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_DIGITS) for _ in range(count))


def letters(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_UPPER) for _ in range(count))


def _alnum(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_DIGITS + _UPPER) for _ in range(count))


_UPS_SERVICES = ("01", "02", "03", "03", "03", "12", "13", "42", "66", "YW")


def make_ups(rng: random.Random) -> str:
    shipper = digits(rng, 3) + rng.choice(_UPPER) + digits(rng, 2) if rng.random() < 0.6 else _alnum(rng, 6)
    serial = shipper + rng.choice(_UPS_SERVICES) + digits(rng, 7)
    return "1Z" + serial + mod10_check(serial, 1, 2)


def make_waybill(rng: random.Random) -> str:
    serial = digits(rng, 9)
    return rng.choice("JKV") + serial + mod10_check(serial, 1, 2)


def make_impb(rng: random.Random, ident: str, length: int) -> str:
    """A USPS IMpb core of 22 or 26 digits; "93" takes a 6-digit mailer id (0-8...), the others 9 digits (9...)."""
    if ident == "93":
        shipper = rng.choice("12345678") + digits(rng, 5)
    else:
        shipper = "9" + digits(rng, 8)
    head = ident + rng.choice(("001", "055", "612", "405", "361")) + shipper
    serial = head + digits(rng, length - 1 - len(head))
    return serial + mod10_check(serial, 3, 1, reverse=ident == "94")


def _usps_routed(rng: random.Random, core: str) -> str:
    return "420" + digits(rng, 5) + core


FORMAT_MAKERS_USPS: dict[str, Maker] = {
    "usps_22": lambda rng: make_impb(rng, rng.choice(("92", "93", "94", "95", "94")), 22),
    "usps_26": lambda rng: make_impb(rng, rng.choice(("92", "95")), 26),
    "usps_30": lambda rng: _usps_routed(rng, make_impb(rng, rng.choice(("92", "94", "95")), 22)),
    "usps_34": lambda rng: _usps_routed(rng, make_impb(rng, rng.choice(("92", "95")), 26)),
}


def make_usps_20(rng: random.Random) -> str:
    serial = rng.choice(("71", "03", "23")) + digits(rng, 17)
    return serial + mod10_check(serial, 3, 1)


def make_legacy(rng: random.Random) -> str:
    serial = "91" + rng.choice(("01", "10", "12")) + digits(rng, 17)
    return serial + mod10_check(serial, 3, 1)


def make_fedex12(rng: random.Random) -> str:
    serial = rng.choice("4567") + digits(rng, 10)
    return serial + sum_product_check(serial, FEDEX_12_WEIGHTS)


def make_fedex15(rng: random.Random) -> str:
    serial = digits(rng, 14)
    return serial + mod10_check(serial, 1, 3)


def make_sscc(rng: random.Random) -> str:
    serial = digits(rng, 15)
    return rng.choice(("00", "01", "02", "04")) + serial + mod10_check(serial, 3, 1)


def make_fedex96(rng: random.Random) -> str:
    serial = digits(rng, 14)
    return "96" + digits(rng, 2) + rng.choice(("019", "119", "322")) + serial + mod10_check(serial, 1, 3)


def make_astra(rng: random.Random) -> str:
    serial = digits(rng, 11)
    return "3" + digits(rng, 15) + serial + sum_product_check(serial, FEDEX_12_WEIGHTS) + digits(rng, 4)


def make_fedex34(rng: random.Random) -> str:
    serial = digits(rng, 13)
    head = "100" + digits(rng, 12) + digits(rng, 5)
    return head + serial + sum_product_check(serial, FEDEX_34_WEIGHTS)


def make_dhl_express(rng: random.Random) -> str:
    serial = rng.choice("123456789") + digits(rng, rng.choice((8, 9)))
    return serial + mod7_check(serial)


def make_dhl_piece(rng: random.Random) -> str:
    return "JJD" + digits(rng, 10) if rng.random() < 0.7 else "JVGL" + digits(rng, 10)


def make_dhl_ecom(rng: random.Random) -> str:
    return rng.choice(("GM", "GM", "LX", "RX")) + digits(rng, rng.choice((16, 18)))


def make_ontrac(rng: random.Random) -> str:
    lead = rng.choice("CD")
    serial = "1" + digits(rng, 12)
    prefix = "4" if lead == "C" else "5"
    return lead + serial + mod10_check(prefix + serial, 1, 2)


def make_canada_post(rng: random.Random) -> str:
    serial = digits(rng, 15)
    return serial + mod10_check(serial, 3, 1)


def make_purolator(rng: random.Random) -> str:
    serial = rng.choice("0123") + digits(rng, 10)
    return serial + luhn_check(serial)


def make_dpd(rng: random.Random) -> str:
    if rng.random() < 0.5:
        serial = digits(rng, 14)
    else:
        service = rng.choice(("101", "136", "154", "327", "350"))
        serial = digits(rng, 7) + digits(rng, 14) + service + rng.choice(("276", "826", "250", "528"))
    return serial + mod37_36_check(serial)


def make_s10(rng: random.Random) -> str:
    serial = digits(rng, 8)
    kind = rng.choice(("RR", "RB", "LZ", "EE", "CP", "UA", "RT"))  # not LX: DHL eCommerce prefix
    return kind + serial + s10_check(serial) + rng.choice(S10_COUNTRIES)


def make_old_dominion(rng: random.Random) -> str:
    serial = rng.choice(("777", "778", "072", "780", "80"))
    serial += digits(rng, 10 - len(serial))
    return serial + luhn_check(serial)
