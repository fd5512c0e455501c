"""The arithmetic an invoice must satisfy (EN 16931 / BIS 3.0 business rules), as booleans.

A failed check does not refuse the invoice: it is stored with the check false
and a sentence in ``conversion_problem``, so a flow decides what happens (reject
it, or give the conversion group a task). Rules read ``subject.checks.tax_ok``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from procedo.ubl.model import Invoice

# Tax per category is taxable x percent / 100 rounded to cents; a stated amount within
# half a cent of the exact product is that rounding, whichever way a tie was rounded.
HALF_CENT = Decimal("0.005")
CHECK_NAMES = (
    "lines_sum_ok",
    "tax_categories_ok",
    "tax_total_ok",
    "tax_ok",
    "totals_ok",
    "payable_ok",
    "period_ok",
    "currency_ok",
)


@dataclass(slots=True)
class Checks:
    lines_sum_ok: bool = True
    tax_categories_ok: bool = True
    tax_total_ok: bool = True
    totals_ok: bool = True
    payable_ok: bool = True
    period_ok: bool = True
    currency_ok: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def tax_ok(self) -> bool:
        return self.tax_categories_ok and self.tax_total_ok

    @property
    def all_ok(self) -> bool:
        return not self.problems

    def failed(self) -> list[str]:
        return [name for name in CHECK_NAMES if not getattr(self, name)]


def money(value: Decimal) -> str:
    return format(value, "f")


def check(invoice: Invoice) -> Checks:
    found = Checks()
    totals = invoice.totals
    lines_sum = sum((line.amount for line in invoice.lines), Decimal("0.00"))
    if lines_sum != totals.line_extension_amount:
        found.lines_sum_ok = False
        found.problems.append(
            f"the lines add up to {money(lines_sum)}, but the line extension amount is "
            f"{money(totals.line_extension_amount)}"
        )
    for category in invoice.tax_categories:
        exact = category.taxable_amount * category.percent / 100
        if abs(category.tax_amount - exact) > HALF_CENT:
            found.tax_categories_ok = False
            expected = exact.quantize(Decimal("0.01"))
            found.problems.append(
                f"tax category {category.id} {money(category.percent)}%: "
                f"{money(category.taxable_amount)} x {money(category.percent)}% = "
                f"{money(expected)}, but the invoice says {money(category.tax_amount)}"
            )
    categories_sum = sum((c.tax_amount for c in invoice.tax_categories), Decimal("0.00"))
    if categories_sum != invoice.tax_total:
        found.tax_total_ok = False
        found.problems.append(
            f"the tax categories add up to {money(categories_sum)}, but the tax total is "
            f"{money(invoice.tax_total)}"
        )
    _check_totals(invoice, found)
    expected_payable = (
        totals.tax_inclusive_amount - totals.prepaid_amount + totals.payable_rounding_amount
    )
    if expected_payable != totals.payable_amount:
        found.payable_ok = False
        found.problems.append(
            f"the payable amount is {money(totals.payable_amount)}, but total including tax "
            f"{money(totals.tax_inclusive_amount)} - prepaid {money(totals.prepaid_amount)} "
            f"+ rounding {money(totals.payable_rounding_amount)} = {money(expected_payable)}"
        )
    start, end = invoice.period_start, invoice.period_end
    if start is not None and end is not None and start > end:
        found.period_ok = False
        found.problems.append(f"the invoice period starts on {start}, after its end on {end}")
    if invoice.currency_mismatches:
        found.currency_ok = False
        found.problems.append(
            f"amounts not in the document currency {invoice.currency}: "
            + ", ".join(invoice.currency_mismatches)
        )
    return found


def _check_totals(invoice: Invoice, found: Checks) -> None:
    """Net = lines - allowances + charges; gross = net + tax; the document sums agree."""
    totals = invoice.totals
    wrong: list[str] = []
    if invoice.allowances != totals.allowance_total_amount:
        wrong.append(
            f"the allowances add up to {money(invoice.allowances)}, but the allowance total "
            f"is {money(totals.allowance_total_amount)}"
        )
    if invoice.charges != totals.charge_total_amount:
        wrong.append(
            f"the charges add up to {money(invoice.charges)}, but the charge total is "
            f"{money(totals.charge_total_amount)}"
        )
    net = totals.line_extension_amount - totals.allowance_total_amount + totals.charge_total_amount
    if net != totals.tax_exclusive_amount:
        wrong.append(
            f"the total excluding tax is {money(totals.tax_exclusive_amount)}, but lines "
            f"{money(totals.line_extension_amount)} - allowances "
            f"{money(totals.allowance_total_amount)} + charges "
            f"{money(totals.charge_total_amount)} = {money(net)}"
        )
    gross = totals.tax_exclusive_amount + invoice.tax_total
    if gross != totals.tax_inclusive_amount:
        wrong.append(
            f"the total including tax is {money(totals.tax_inclusive_amount)}, but "
            f"{money(totals.tax_exclusive_amount)} + tax {money(invoice.tax_total)} = "
            f"{money(gross)}"
        )
    if wrong:
        found.totals_ok = False
        found.problems.extend(wrong)
