"""Check-digit algorithms used by parcel tracking numbers (pure functions, no I/O).

Every function takes the payload characters (upper-case A-Z0-9, the part the check digit protects) and the
check character as printed, and returns True when they agree. Written from the published descriptions of
each scheme (GS1/USPS mod 10, DHL mod 7, Luhn, UPU S10, ISO 7064 MOD 37,36 as used by DPD, and FedEx's
weighted sums); see `formats.py` for which format uses which constants.
"""

from __future__ import annotations

from collections.abc import Sequence

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def char_value(char: str) -> int:
    """The value of one character in the mod 10 schemes: digits as themselves, letters as (code - 3) mod 10.

    That letter mapping is how UPS folds the alphanumeric shipper ids of 1Z numbers into digits (A=2, B=3, ...).
    """
    if char.isdigit():
        return ord(char) - 48
    return (ord(char) - 3) % 10


def mod10(payload: str, check: str, *, odd_weight: int, even_weight: int, from_right: bool = False) -> bool:
    """Weighted mod 10: position 1, 3, 5... (counted from the left, or from the right when `from_right`)
    is multiplied by `odd_weight`, positions 2, 4, 6... by `even_weight`; check = (10 - sum mod 10) mod 10.
    """
    if not check.isdigit():
        return False
    chars = payload[::-1] if from_right else payload
    total = 0
    for index, char in enumerate(chars):
        total += char_value(char) * (odd_weight if index % 2 == 0 else even_weight)
    return (10 - total % 10) % 10 == int(check)


def mod7(payload: str, check: str) -> bool:
    """DHL Express: the payload read as one integer, modulo 7."""
    return payload.isdigit() and check.isdigit() and int(payload) % 7 == int(check)


def luhn(payload: str, check: str) -> bool:
    """The Luhn algorithm (every second digit from the right of the payload doubled, digits of products summed)."""
    if not (payload.isdigit() and check.isdigit()):
        return False
    total = 0
    for index, char in enumerate(reversed(payload)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10 == int(check)


S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10(serial: str, check: str) -> bool:
    """UPU S10: weights 8 6 4 2 3 5 9 7 over the 8 serial digits; 11 - sum mod 11, where 10 -> 0 and 11 -> 5."""
    if len(serial) != 8 or not (serial.isdigit() and check.isdigit()):
        return False
    value = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    if value == 10:
        value = 0
    elif value == 11:
        value = 5
    return value == int(check)


def mod37_36(payload: str, check: str) -> bool:
    """ISO/IEC 7064 MOD 37,36 (hybrid system over 0-9A-Z), as printed on DPD parcel labels."""
    modulus = 36
    product = modulus
    for char in payload:
        position = ALPHANUMERIC.find(char)
        if position < 0:
            return False
        total = (product + position) % modulus or modulus
        product = (total * 2) % (modulus + 1)
    expected = (modulus + 1 - product) % modulus
    return ALPHANUMERIC[expected] == check


def weighted_sum(payload: str, check: str, weights: Sequence[int], first_modulus: int = 11,
                 second_modulus: int = 10) -> bool:
    """FedEx: sum of digit x weight (weights aligned from the left), then mod 11, then mod 10."""
    if len(payload) != len(weights) or not (payload.isdigit() and check.isdigit()):
        return False
    total = sum(int(d) * w for d, w in zip(payload, weights, strict=True))
    return total % first_modulus % second_modulus == int(check)
