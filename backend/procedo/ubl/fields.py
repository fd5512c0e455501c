"""An ``Invoice`` as the fields of an ``invoice`` subject (subject_types/invoice.json).

Every declared field is always present, so a template never trips over a missing
one: texts absent from the document are "", dates and amounts absent are null,
and the optional monetary totals UBL defines as zero when absent are "0.00".
Money is a decimal string with the digits of the document; the currency is
``currency``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from procedo.ubl.checks import CHECK_NAMES, Checks
from procedo.ubl.model import Invoice, Party


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def money(value: Decimal) -> str:
    """The digits of the document: "1319.00" stays "1319.00", a quantity "2" stays "2"."""
    return format(value, "f")


def _money(value: Decimal | None) -> str | None:
    return money(value) if value is not None else None


def percent(value: Decimal) -> str:
    """21.00 -> "21", 9.5 -> "9.5": the way people write a rate in a rule."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def _party(party: Party) -> dict[str, Any]:
    return {
        "name": party.name,
        "trading_name": party.trading_name,
        "kvk": party.kvk,
        "vat": party.vat,
        "company_id": party.company_id,
        "company_id_scheme": party.company_id_scheme,
        "endpoint_id": party.endpoint_id,
        "endpoint_scheme": party.endpoint_scheme,
        "email": party.email,
        "country": party.country,
    }


def supplier_reference(invoice: Invoice) -> str:
    """Who sent it, as stably as the document allows: KvK, else VAT, else endpoint, else name."""
    supplier = invoice.supplier
    if supplier.kvk:
        return supplier.kvk
    if supplier.vat:
        return supplier.vat
    if supplier.endpoint_id:
        return f"{supplier.endpoint_scheme}:{supplier.endpoint_id}"
    return supplier.name


def subject_key(invoice: Invoice) -> str:
    """Supplier and number; a credit note numbered like an invoice is another subject."""
    kind = "/credit-note" if invoice.document_type == "credit_note" else ""
    # At most 80 + 13 + 100 characters: the key column holds 200.
    return f"{supplier_reference(invoice)[:80]}{kind}/{invoice.invoice_number}"


def to_fields(invoice: Invoice, checks: Checks) -> dict[str, Any]:
    totals = invoice.totals
    supplier = _party(invoice.supplier)
    supplier["trusted"] = False  # not in UBL: ingest() takes it from the supplier's record
    return {
        "document_type": invoice.document_type,
        "type_code": invoice.type_code,
        "customization_id": invoice.customization_id,
        "profile_id": invoice.profile_id,
        "invoice_number": invoice.invoice_number,
        "issue_date": _date(invoice.issue_date),
        "due_date": _date(invoice.due_date),
        "currency": invoice.currency,
        "tax_currency": invoice.tax_currency,
        "order_reference": invoice.order_reference,
        "buyer_reference": invoice.buyer_reference,
        "billing_reference": invoice.billing_reference,
        "contract_reference": invoice.contract_reference,
        "note": invoice.note,
        "invoice_period": {
            "start": _date(invoice.period_start),
            "end": _date(invoice.period_end),
        },
        "supplier": supplier,
        "customer": _party(invoice.customer),
        "payment": {
            "means_code": invoice.payment_means_code,
            "id": invoice.payment_id,
            "iban": invoice.iban,
        },
        "line_extension_amount": money(totals.line_extension_amount),
        "allowance_total_amount": money(totals.allowance_total_amount),
        "charge_total_amount": money(totals.charge_total_amount),
        "tax_exclusive_amount": money(totals.tax_exclusive_amount),
        "tax_total": money(invoice.tax_total),
        "tax_total_in_tax_currency": _money(invoice.tax_total_in_tax_currency),
        "tax_inclusive_amount": money(totals.tax_inclusive_amount),
        "prepaid_amount": money(totals.prepaid_amount),
        "payable_rounding_amount": money(totals.payable_rounding_amount),
        "payable_amount": money(totals.payable_amount),
        "tax_categories": [
            {
                "id": c.id,
                "percent": percent(c.percent),
                "taxable_amount": money(c.taxable_amount),
                "tax_amount": money(c.tax_amount),
                "exemption_reason": c.exemption_reason,
            }
            for c in invoice.tax_categories
        ],
        "tax_category_ids": sorted({c.id for c in invoice.tax_categories}),
        "tax_percents": sorted({percent(c.percent) for c in invoice.tax_categories}),
        "lines": [
            {
                "id": line.id,
                "quantity": money(line.quantity),
                "unit": line.unit,
                "amount": money(line.amount),
                "name": line.name,
                "description": line.description or line.name,
                "price": _money(line.price),
                "tax_category": line.tax_category,
                "tax_percent": percent(line.tax_percent) if line.tax_percent is not None else "",
            }
            for line in invoice.lines
        ],
        "line_count": len(invoice.lines),
        "checks": {
            "lines_sum_ok": checks.lines_sum_ok,
            "tax_categories_ok": checks.tax_categories_ok,
            "tax_total_ok": checks.tax_total_ok,
            "tax_ok": checks.tax_ok,
            "totals_ok": checks.totals_ok,
            "payable_ok": checks.payable_ok,
            "period_ok": checks.period_ok,
            "currency_ok": checks.currency_ok,
            "all_ok": checks.all_ok,
            "failed": checks.failed(),
        },
        "conversion_problem": "; ".join(checks.problems),
    }


NOT_AN_INVOICE = "not_an_invoice"


def not_an_invoice_fields(problem: str, note: str) -> dict[str, Any]:
    """The fields of a document received instead of an invoice (E6: "a logo instead of ...").

    Every declared field is present, as for an invoice: texts "", dates and amounts
    null, the optional totals "0.00"; ``document_type`` is ``not_an_invoice`` and no
    check passes, so ``checks.all_ok == false`` routes it to the conversion check.
    """
    supplier = {**_party(Party()), "trusted": False}
    zero = "0.00"
    return {
        "document_type": NOT_AN_INVOICE,
        **dict.fromkeys(
            (
                "type_code",
                "customization_id",
                "profile_id",
                "invoice_number",
                "currency",
                "tax_currency",
                "order_reference",
                "buyer_reference",
                "billing_reference",
                "contract_reference",
            ),
            "",
        ),
        "issue_date": None,
        "due_date": None,
        "note": note,
        "invoice_period": {"start": None, "end": None},
        "supplier": supplier,
        "customer": _party(Party()),
        "payment": {"means_code": "", "id": "", "iban": ""},
        "line_extension_amount": None,
        "allowance_total_amount": zero,
        "charge_total_amount": zero,
        "tax_exclusive_amount": None,
        "tax_total": None,
        "tax_total_in_tax_currency": None,
        "tax_inclusive_amount": None,
        "prepaid_amount": zero,
        "payable_rounding_amount": zero,
        "payable_amount": None,
        "tax_categories": [],
        "tax_category_ids": [],
        "tax_percents": [],
        "lines": [],
        "line_count": 0,
        "checks": {
            **dict.fromkeys(CHECK_NAMES, False),
            "all_ok": False,
            "failed": list(CHECK_NAMES),
        },
        "conversion_problem": problem,
    }
