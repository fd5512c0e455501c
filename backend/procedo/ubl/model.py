"""A UBL invoice or credit note as read: typed values, before they become subject fields."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

DocumentType = Literal["invoice", "credit_note"]


@dataclass(slots=True)
class Party:
    name: str = ""
    trading_name: str = ""
    kvk: str = ""
    company_id: str = ""
    company_id_scheme: str = ""
    vat: str = ""
    endpoint_id: str = ""
    endpoint_scheme: str = ""
    email: str = ""
    country: str = ""


@dataclass(slots=True)
class TaxCategory:
    id: str
    percent: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str
    line: int | None


@dataclass(slots=True)
class Line:
    id: str
    quantity: Decimal
    unit: str
    amount: Decimal
    name: str
    description: str
    price: Decimal | None
    tax_category: str
    tax_percent: Decimal | None
    line: int | None


@dataclass(slots=True)
class Totals:
    line_extension_amount: Decimal
    tax_exclusive_amount: Decimal
    tax_inclusive_amount: Decimal
    payable_amount: Decimal
    allowance_total_amount: Decimal = Decimal("0.00")
    charge_total_amount: Decimal = Decimal("0.00")
    prepaid_amount: Decimal = Decimal("0.00")
    payable_rounding_amount: Decimal = Decimal("0.00")
    line: int | None = None


@dataclass(slots=True)
class Invoice:
    document_type: DocumentType
    invoice_number: str
    issue_date: dt.date
    currency: str
    totals: Totals
    tax_total: Decimal
    type_code: str = ""
    customization_id: str = ""
    profile_id: str = ""
    due_date: dt.date | None = None
    tax_currency: str = ""
    tax_total_in_tax_currency: Decimal | None = None
    order_reference: str = ""
    buyer_reference: str = ""
    billing_reference: str = ""
    contract_reference: str = ""
    note: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    supplier: Party = field(default_factory=Party)
    customer: Party = field(default_factory=Party)
    payment_means_code: str = ""
    payment_id: str = ""
    iban: str = ""
    # Sums of the document-level cac:AllowanceCharge elements, and the element's line.
    allowances: Decimal = Decimal("0.00")
    charges: Decimal = Decimal("0.00")
    tax_categories: list[TaxCategory] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    tax_total_line: int | None = None
