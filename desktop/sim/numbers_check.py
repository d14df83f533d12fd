"""Check-digit algorithms of parcel tracking numbers (the simulator's own, independent of the product).

Each `*_check(...)` returns the expected check character for a serial; validators compare it with the
number's last (or designated) character. Facts: ../shared/tracking-notes.md §1.3 (six algorithms: mod10,
mod7, luhn, s10, mod 37/36, weighted sum-product).
"""

from __future__ import annotations

ALNUM36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _mod10_value(char: str) -> int:
    # Letters (UPS 1Z serials) count as (ord - 3) % 10, the carriers' reference mapping.
    return int(char) if char.isdigit() else (ord(char) - 3) % 10


def mod10_check(serial: str, evens: int, odds: int, reverse: bool = False) -> str:
    """Weighted mod 10: characters at even 0-based index times `evens`, the others times `odds`."""
    seq = serial[::-1] if reverse else serial
    total = 0
    for index, char in enumerate(seq):
        total += _mod10_value(char) * (odds if index % 2 else evens)
    return str((10 - total % 10) % 10)


def mod7_check(serial: str) -> str:
    """DHL Express: the serial's value modulo 7."""
    return str(int(serial) % 7)


def luhn_check(serial: str) -> str:
    """Standard Luhn check digit (doubling every second digit from the right of the serial)."""
    total = 0
    for index, char in enumerate(reversed(serial)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return str((10 - total % 10) % 10)


_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check(serial: str) -> str:
    """UPU S10: weights 8,6,4,2,3,5,9,7 over the 8 digits; 11 - sum % 11 with 10 -> 0 and 11 -> 5."""
    total = sum(int(c) * w for c, w in zip(serial, _S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "0" if check == 10 else "5" if check == 11 else str(check)


def mod37_36_check(serial: str) -> str:
    """ISO 7064 MOD 37,36 (hybrid) over alphanumerics, as DPD uses it."""
    modulus = 36
    product = modulus
    for char in serial:
        total = (product + ALNUM36.index(char)) % modulus
        total = total or modulus
        product = (total * 2) % (modulus + 1)
    return ALNUM36[(modulus + 1 - product) % modulus]


def sum_product_check(serial: str, weights: tuple[int, ...], mod1: int = 11, mod2: int = 10) -> str:
    """FedEx style: sum(digit * weight) % mod1 % mod2, weights aligned from the serial's start."""
    total = sum(int(c) * w for c, w in zip(serial, weights, strict=True))
    return str(total % mod1 % mod2)


FEDEX_12_WEIGHTS = (3, 1, 7) * 3 + (3, 1)
FEDEX_34_WEIGHTS = (1, 7, 3) * 4 + (1,)
