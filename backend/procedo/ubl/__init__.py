"""UBL 2.1 invoices and credit notes (PEPPOL BIS Billing 3.0) in, invoice subjects out.

``parse(xml_bytes)`` gives the subject key and fields, or raises ``UblError``
naming each problem's line and element; ``ingest`` stores the subject and posts
``invoice.received``. See docs/ubl.md for every field and check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procedo.ubl.checks import check
from procedo.ubl.fields import subject_key, supplier_reference, to_fields
from procedo.ubl.model import Invoice
from procedo.ubl.read import read_invoice
from procedo.ubl.xml import MAX_BYTES, UblError, parse_xml

__all__ = ["MAX_BYTES", "Parsed", "UblError", "parse"]


@dataclass(frozen=True, slots=True)
class Parsed:
    key: str
    supplier: str
    fields: dict[str, Any]
    invoice: Invoice


def parse(data: bytes) -> Parsed:
    """Read one UBL document; UblError (nothing to store) if it cannot be taken in."""
    root = parse_xml(data)
    invoice = read_invoice(root)
    return Parsed(
        key=subject_key(invoice),
        supplier=supplier_reference(invoice),
        fields=to_fields(invoice, check(root)),
        invoice=invoice,
    )
