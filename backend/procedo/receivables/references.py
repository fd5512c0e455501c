"""Structured payment references: ISO 11649 (RF) and the Dutch betalingskenmerk.

A debtor who pays with the creditor's structured reference names the open item
exactly, so matching trusts it first; the check digits make sure a mistyped
reference names nothing rather than the wrong invoice.
"""

from __future__ import annotations

import re
from typing import Final

_RF: Final = re.compile(r"^RF\d{2}[0-9A-Z]{1,21}$")
_DIGITS: Final = re.compile(r"^\d+$")
# Betaalvereniging: weights from the rightmost digit leftwards, repeated past ten digits.
_KENMERK_WEIGHTS: Final = (2, 4, 8, 5, 10, 9, 7, 3, 6, 1)


def compact(reference: str) -> str:
    """``rf18 5390 0754 7034`` -> ``RF18539007547034``: as printed, without spaces."""
    return "".join(reference.split()).upper()


def is_rf(reference: str) -> bool:
    """An ISO 11649 creditor reference: RF, two check digits, up to 21 letters or digits.

    The check is ISO 7064 mod 97-10, as for an IBAN: move ``RF`` and the check digits
    to the end, letters as numbers (A = 10 ... Z = 35), and the remainder must be 1.
    """
    ref = compact(reference)
    if not _RF.match(ref):
        return False
    rearranged = ref[4:] + ref[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def kenmerk_check_digit(digits: str) -> int:
    """The weighted modulus-11 check digit of a betalingskenmerk's other digits."""
    total = sum(
        int(digit) * _KENMERK_WEIGHTS[position % len(_KENMERK_WEIGHTS)]
        for position, digit in enumerate(reversed(digits))
    )
    check = 11 - total % 11
    return {10: 1, 11: 0}.get(check, check)


def is_betalingskenmerk(reference: str) -> bool:
    """A 16-digit Dutch betalingskenmerk: its check digit first, then 15 digits."""
    ref = compact(reference)
    if len(ref) != 16 or not _DIGITS.match(ref):
        return False
    return int(ref[0]) == kenmerk_check_digit(ref[1:])


def structured(reference: str) -> str:
    """The compact reference when it is a valid RF or betalingskenmerk, else ""."""
    ref = compact(reference)
    return ref if is_rf(ref) or is_betalingskenmerk(ref) else ""
