"""EPC QR codes ("GiroCode"): a SEPA credit transfer the debtor pays by scanning.

The payload follows EPC069-12 (version 002: the BIC is optional inside the EEA),
UTF-8, at most 331 bytes; a structured ISO 11649 (RF) reference goes in its own
line, anything else as remittance text. segno draws the code (error level M, as
the standard asks).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

import segno
from PIL import Image

from procedo.receivables.references import compact, is_rf

MAX_BYTES: Final = 331
MAX_AMOUNT: Final = Decimal("999999999.99")
_IBAN: Final = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_BIC: Final = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


class EpcError(ValueError):
    """A payment that cannot be put in an EPC QR code; the message says which part."""


def iban_is_valid(iban: str) -> bool:
    """ISO 13616: country, check digits, account; mod 97 of the rearranged number is 1."""
    value = compact(iban)
    if not _IBAN.match(value):
        return False
    moved = value[4:] + value[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def payload(
    name: str,
    iban: str,
    amount: Decimal,
    reference: str = "",
    text: str = "",
    bic: str = "",
) -> str:
    """The EPC069-12 text for a transfer of `amount` euro to `name` at `iban`."""
    iban, bic = compact(iban), compact(bic)
    name = " ".join(name.split())
    if not iban_is_valid(iban):
        raise EpcError(f"IBAN {iban!r} is not valid: check the tenant's bank details")
    if bic and not _BIC.match(bic):
        raise EpcError(f"BIC {bic!r} is not valid: 8 or 11 letters and digits")
    if not 1 <= len(name) <= 70:
        raise EpcError("the beneficiary's name must have 1 to 70 characters")
    amount = amount.quantize(Decimal("0.01"))
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        raise EpcError(f"amount {amount} is outside 0.01 to {MAX_AMOUNT} euro")
    structured = compact(reference) if reference and is_rf(reference) else ""
    remittance = "" if structured else " ".join((text or reference).split())[:140]
    lines = ["BCD", "002", "1", "SCT", bic, name, iban, f"EUR{amount}", "", structured]
    lines.append(remittance)
    data = "\n".join(lines).rstrip("\n")
    if len(data.encode()) > MAX_BYTES:
        raise EpcError(f"the payment text is longer than the {MAX_BYTES} bytes a code holds")
    return data


def qr_image(data: str, border: int = 4) -> Image.Image:
    """The code as a one-bit image, one pixel per module, with the quiet zone around it.

    Built from segno's matrix with Pillow: a tenth of the time of segno's own PNG writer,
    which counts when a print batch draws thousands; the PDF scales it without blurring.
    """
    matrix = segno.make_qr(data, error="m", encoding="utf-8", boost_error=False).matrix
    return qr_matrix_image(matrix, border)


def qr_matrix_image(matrix: Any, border: int = 4) -> Image.Image:
    """segno's matrix as a one-bit image, one pixel per module, with the quiet zone."""
    size = len(matrix) + 2 * border
    image = Image.new("1", (size, size), 1)
    pixels = image.load()
    assert pixels is not None
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark & 1:
                pixels[x + border, y + border] = 0
    return image
