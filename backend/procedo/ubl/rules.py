"""EN 16931 and PEPPOL BIS 3.0 business rules, computed the way the official validators do.

Each rule is the schematron assertion of the same id (EN16931-UBL-model.sch of
ConnectingEurope/eInvoicing-EN16931, PEPPOL-EN16931-UBL.sch of
OpenPEPPOL/peppol-bis-invoice-3) read on the XML tree, with its rounding and its
tolerance: amounts are rounded to cents as XPath ``round(x * 100) div 100``
does (halves upwards), and the tax per category may be off by less than one
unit of currency (BR-CO-17, BR-S-09) and the taxable amount per rate too
(BR-S-08), as the official rules allow. An absent element counts the way the
assertion counts it, so a rule gives the same verdict on a fragment as the
official unit tests expect (tests/ubl/official).

The PEPPOL rules (``PEPPOL-EN16931-R...``) apply to documents that declare the
PEPPOL BIS 3.0 specification in ``cbc:CustomizationID``, as an access point's
validator picks its rule set by that id; the EN 16931 rules apply to every
document. ``evaluate(root)`` gives the failures; ``checks.py`` turns them into
the invoice's ``checks`` fields and sentences.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from lxml import etree

from procedo.ubl.xml import CAC, CBC, short_name, xsd_boolean

Element = etree._Element

# The rules implemented here, and the check (``subject.checks.NAME``) each one feeds.
CHECK_OF_RULE: dict[str, str] = {
    "BR-CO-10": "lines_sum_ok",
    "BR-CO-17": "tax_categories_ok",
    "BR-S-08": "tax_categories_ok",
    "BR-S-09": "tax_categories_ok",
    "BR-CO-14": "tax_total_ok",
    "BR-53": "tax_total_ok",
    "PEPPOL-EN16931-R053": "tax_total_ok",
    "PEPPOL-EN16931-R054": "tax_total_ok",
    "PEPPOL-EN16931-R055": "tax_total_ok",
    "BR-CO-11": "totals_ok",
    "BR-CO-12": "totals_ok",
    "BR-CO-13": "totals_ok",
    "BR-CO-15": "totals_ok",
    "BR-CO-16": "payable_ok",
    "BR-29": "period_ok",
    "PEPPOL-EN16931-R005": "currency_ok",
    "PEPPOL-EN16931-R051": "currency_ok",
}

PEPPOL_BIS3 = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^-?\d{4,}-\d{2}-\d{2}$")
_HALF = Decimal("0.5")
_CENT = Decimal("0.01")
_ZERO = Decimal(0)
# The amounts whose currencyID must be the document currency (PEPPOL-EN16931-R051).
_AMOUNTS = frozenset(
    f"{{{CBC}}}{name}"
    for name in (
        "Amount",
        "BaseAmount",
        "PriceAmount",
        "TaxableAmount",
        "LineExtensionAmount",
        "TaxExclusiveAmount",
        "TaxInclusiveAmount",
        "AllowanceTotalAmount",
        "ChargeTotalAmount",
        "PrepaidAmount",
        "PayableRoundingAmount",
        "PayableAmount",
    )
)
_MAX_LISTED = 20


def _cac(name: str) -> str:
    return f"{{{CAC}}}{name}"


def _cbc(name: str) -> str:
    return f"{{{CBC}}}{name}"


TAX_TOTAL, TAX_SUBTOTAL, TAX_CATEGORY = _cac("TaxTotal"), _cac("TaxSubtotal"), _cac("TaxCategory")
TAX_SCHEME, ALLOWANCE_CHARGE = _cac("TaxScheme"), _cac("AllowanceCharge")
MONETARY_TOTAL, INVOICE_PERIOD = _cac("LegalMonetaryTotal"), _cac("InvoicePeriod")
INVOICE_LINE, CREDIT_NOTE_LINE = _cac("InvoiceLine"), _cac("CreditNoteLine")
ITEM, CLASSIFIED = _cac("Item"), _cac("ClassifiedTaxCategory")
ID, PERCENT, AMOUNT = _cbc("ID"), _cbc("Percent"), _cbc("Amount")
TAX_AMOUNT, TAXABLE_AMOUNT = _cbc("TaxAmount"), _cbc("TaxableAmount")
CHARGE_INDICATOR, LINE_AMOUNT = _cbc("ChargeIndicator"), _cbc("LineExtensionAmount")
DOCUMENT_CURRENCY, TAX_CURRENCY = _cbc("DocumentCurrencyCode"), _cbc("TaxCurrencyCode")


@dataclass(frozen=True, slots=True)
class Failure:
    """One rule that does not hold, where (the element's line), and why in a sentence."""

    rule: str
    message: str
    line: int | None


class _Unreadable(Exception):
    """A value the assertion would cast and cannot: the official validator fails the rule."""

    def __init__(self, element: Element, kind: str) -> None:
        super().__init__(f"{path_of(element)} '{(element.text or '').strip()[:40]}' is not {kind}")
        self.element = element


def round2(value: Decimal) -> Decimal:
    """XPath ``round(value * 10 * 10) div 100``: to cents, halves towards positive infinity."""
    return (value * 100 + _HALF).to_integral_value(rounding=ROUND_FLOOR) / 100


def round0(value: Decimal) -> Decimal:
    """XPath ``round(value)``."""
    return (value + _HALF).to_integral_value(rounding=ROUND_FLOOR)


def money(value: Decimal) -> str:
    """An amount with (at least) cents, as people read it: 210 -> "210.00"."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(_CENT)
    return format(value, "f")


def _decimal(element: Element) -> Decimal:
    text = (element.text or "").strip()
    if not _DECIMAL.match(text):
        raise _Unreadable(element, "a number")
    return Decimal(text)


def _date(element: Element) -> dt.date:
    text = (element.text or "").strip()
    try:
        if _DATE.match(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise _Unreadable(element, "a date")


# Children by tag through iterchildren: a C-level filter, several times cheaper than find().
def _kids(parent: Element | None, tag: str) -> list[Element]:
    return [] if parent is None else list(parent.iterchildren(tag))


def _kid(parent: Element | None, tag: str) -> Element | None:
    return None if parent is None else next(parent.iterchildren(tag), None)


def _value(parent: Element | None, tag: str) -> Decimal | None:
    """``xs:decimal(tag)``: the first such child's number, None when absent."""
    found = _kid(parent, tag)
    return None if found is None else _decimal(found)


def _values(parents: Iterable[Element], tag: str) -> list[Decimal]:
    return [_decimal(child) for parent in parents for child in _kids(parent, tag)]


def _normalized(element: Element) -> str:
    """XPath ``normalize-space(.)``."""
    return " ".join("".join(element.itertext()).split())


def _is_vat(category: Element) -> bool:
    """``[cac:TaxScheme/normalize-space(upper-case(cbc:ID))='VAT']``."""
    return any(
        _normalized(ident).upper() == "VAT"
        for scheme in _kids(category, TAX_SCHEME)
        for ident in _kids(scheme, ID)
    )


def _is_charge(allowance_charge: Element, charge: bool) -> bool:
    """``cbc:ChargeIndicator = true()`` (or ``false()``): the xsd:boolean, 0 and 1 included."""
    return any(xsd_boolean(e.text) is charge for e in _kids(allowance_charge, CHARGE_INDICATOR))


def path_of(element: Element) -> str:
    """``cac:InvoiceLine[2]/cbc:LineExtensionAmount``: the way from the root, for messages."""
    steps: list[str] = []
    node: Element | None = element
    while node is not None and node.getparent() is not None:
        parent = node.getparent()
        assert parent is not None
        step = short_name(str(node.tag))
        same = [child for child in parent if child.tag == node.tag]
        if len(same) > 1:
            step += f"[{same.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/".join(reversed(steps))


class _Document:
    """The root and what several rules read from it, found once."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self.tax_totals = _kids(root, TAX_TOTAL)
        self.allowance_charges = _kids(root, ALLOWANCE_CHARGE)
        self.monetary_totals = _kids(root, MONETARY_TOTAL)
        currency = _kid(root, DOCUMENT_CURRENCY)
        # The string value as the assertions compare it: @currencyID = cbc:DocumentCurrencyCode.
        self.currency = None if currency is None else "".join(currency.itertext())
        self.tax_currency = _kid(root, TAX_CURRENCY)

    def charges(self, charge: bool) -> list[Element]:
        return [ac for ac in self.allowance_charges if _is_charge(ac, charge)]

    def tax_amounts(self, currency: str) -> list[Element]:
        """``cac:TaxTotal/cbc:TaxAmount[@currencyID = currency]``."""
        return [
            amount
            for total in self.tax_totals
            for amount in _kids(total, TAX_AMOUNT)
            if amount.get("currencyID") == currency
        ]

    def vat_categories(self, code: str) -> Iterator[tuple[Element, Element]]:
        """(subtotal, category) for each breakdown category of this code in the VAT scheme."""
        for total in self.tax_totals:
            for subtotal in _kids(total, TAX_SUBTOTAL):
                for category in _kids(subtotal, TAX_CATEGORY):
                    if _is_vat(category) and any(
                        _normalized(i) == code for i in _kids(category, ID)
                    ):
                        yield subtotal, category


Rule = Callable[[_Document], Iterator[Failure]]
RULES: list[tuple[str, Rule]] = []


def _rule(rule_id: str) -> Callable[[Rule], Rule]:
    def register(function: Rule) -> Rule:
        RULES.append((rule_id, function))
        return function

    return register


def is_peppol(root: Element) -> bool:
    """Whether the document says it is PEPPOL BIS Billing 3.0 (the test of PEPPOL-EN16931-R004)."""
    customization = _kid(root, _cbc("CustomizationID"))
    return customization is not None and _normalized(customization).startswith(PEPPOL_BIS3)


def evaluate(root: Element, peppol: bool | None = None) -> list[Failure]:
    """Every failure of the rules in ``CHECK_OF_RULE`` on a UBL Invoice or CreditNote root.

    ``peppol``: whether the PEPPOL rules apply; by default when the document declares
    PEPPOL BIS 3.0 (an EN 16931 invoice is not held to PEPPOL's restrictions).
    """
    document = _Document(root)
    with_peppol = is_peppol(root) if peppol is None else peppol
    failures: list[Failure] = []
    for rule_id, rule in RULES:
        if rule_id.startswith("PEPPOL-") and not with_peppol:
            continue
        try:
            failures.extend(rule(document))
        except _Unreadable as exc:
            failures.append(Failure(rule_id, str(exc), exc.element.sourceline))
    return failures


def _off(stated: Decimal | None, expected: Decimal) -> bool:
    return stated is None or stated != expected


def _shown(value: Decimal | None) -> str:
    return "missing" if value is None else money(value)


@_rule("BR-CO-10")
def _lines_sum(doc: _Document) -> Iterator[Failure]:
    lines = doc.root.iter(INVOICE_LINE, CREDIT_NOTE_LINE)
    total = round2(sum(_values(lines, LINE_AMOUNT), _ZERO))
    for totals in doc.monetary_totals:
        stated = _value(totals, LINE_AMOUNT)
        if _off(stated, total):
            yield Failure(
                "BR-CO-10",
                f"the lines add up to {money(total)}, but the line extension amount is "
                f"{_shown(stated)}",
                totals.sourceline,
            )


def _document_level(doc: _Document, charge: bool) -> Iterator[Failure]:
    rule, kind = ("BR-CO-12", "charge") if charge else ("BR-CO-11", "allowance")
    elements = doc.charges(charge)
    total = round2(sum(_values(elements, AMOUNT), _ZERO))
    for totals in doc.monetary_totals:
        stated = _value(totals, _cbc(f"{kind.capitalize()}TotalAmount"))
        if stated is None and not elements:
            continue
        if _off(stated, total):
            yield Failure(
                rule,
                f"the {kind}s add up to {money(total)}, but the {kind} total is {_shown(stated)}",
                totals.sourceline,
            )


@_rule("BR-CO-11")
def _allowances(doc: _Document) -> Iterator[Failure]:
    return _document_level(doc, charge=False)


@_rule("BR-CO-12")
def _charges(doc: _Document) -> Iterator[Failure]:
    return _document_level(doc, charge=True)


@_rule("BR-CO-13")
def _tax_exclusive(doc: _Document) -> Iterator[Failure]:
    for totals in doc.monetary_totals:
        lines = _value(totals, LINE_AMOUNT)
        charges = _value(totals, _cbc("ChargeTotalAmount"))
        allowances = _value(totals, _cbc("AllowanceTotalAmount"))
        stated = _value(totals, _cbc("TaxExclusiveAmount"))
        if lines is None:
            expected = None
        elif charges is None and allowances is None:
            expected = lines  # compared unrounded, as the assertion does
        else:
            expected = round2(lines + (charges or _ZERO) - (allowances or _ZERO))
        if expected is None or stated != expected:
            yield Failure(
                "BR-CO-13",
                f"the total excluding tax is {_shown(stated)}, but lines {_shown(lines)} - "
                f"allowances {money(allowances or _ZERO)} + charges {money(charges or _ZERO)} = "
                f"{_shown(expected)}",
                totals.sourceline,
            )


@_rule("BR-CO-14")
def _tax_total(doc: _Document) -> Iterator[Failure]:
    for total in doc.tax_totals:
        subtotals = _kids(total, TAX_SUBTOTAL)
        if not subtotals:
            continue
        expected = round2(sum(_values(subtotals, TAX_AMOUNT), _ZERO))
        stated = _value(total, TAX_AMOUNT)
        if _off(stated, expected):
            yield Failure(
                "BR-CO-14",
                f"the tax categories add up to {money(expected)}, but the tax total is "
                f"{_shown(stated)}",
                total.sourceline,
            )


@_rule("BR-CO-15")
def _tax_inclusive(doc: _Document) -> Iterator[Failure]:
    if doc.currency is None:
        return
    amounts = doc.tax_amounts(doc.currency)
    if len(amounts) != 1:
        yield Failure(
            "BR-CO-15",
            f"the invoice has {len(amounts)} tax totals in its currency {doc.currency}; it must "
            "have one (a second tax total is only for the tax currency, cbc:TaxCurrencyCode)",
            amounts[1].sourceline if len(amounts) > 1 else doc.root.sourceline,
        )
        return
    tax = _decimal(amounts[0])
    totals = _kid(doc.root, MONETARY_TOTAL)
    exclusive = _value(totals, _cbc("TaxExclusiveAmount"))
    inclusive = _value(totals, _cbc("TaxInclusiveAmount"))
    expected = None if exclusive is None else round2(exclusive + tax)
    if expected is None or inclusive != expected:
        yield Failure(
            "BR-CO-15",
            f"the total including tax is {_shown(inclusive)}, but {_shown(exclusive)} + tax "
            f"{money(tax)} = {_shown(expected)}",
            doc.root.sourceline if totals is None else totals.sourceline,
        )


@_rule("BR-CO-16")
def _payable(doc: _Document) -> Iterator[Failure]:
    for totals in doc.monetary_totals:
        payable = _value(totals, _cbc("PayableAmount"))
        inclusive = _value(totals, _cbc("TaxInclusiveAmount"))
        prepaid = _value(totals, _cbc("PrepaidAmount"))
        rounding = _value(totals, _cbc("PayableRoundingAmount"))
        if payable is None or inclusive is None:
            holds = False
        else:
            due = inclusive if prepaid is None else round2(inclusive - prepaid)
            paid = payable if rounding is None else round2(payable - rounding)
            holds = paid == due
        if not holds:
            expected = (
                None if inclusive is None else inclusive - (prepaid or _ZERO) + (rounding or _ZERO)
            )
            yield Failure(
                "BR-CO-16",
                f"the payable amount is {_shown(payable)}, but total including tax "
                f"{_shown(inclusive)} - prepaid {money(prepaid or _ZERO)} + rounding "
                f"{money(rounding or _ZERO)} = {_shown(expected)}",
                totals.sourceline,
            )


def _within_one(stated: Decimal, expected: Decimal) -> bool:
    """``abs(stated) - 1 < expected and abs(stated) + 1 > expected``: the official tolerance."""
    return abs(stated) - 1 < expected < abs(stated) + 1


def rate(value: Decimal) -> str:
    """21.00 -> "21", 9.5 -> "9.5": a rate as people write it."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def _tax_message(category: str, percent: Decimal, taxable: Decimal, tax: Decimal) -> str:
    exact = round2(abs(taxable) * percent / 100)
    return (
        f"tax category {category} {rate(percent)}%: {money(taxable)} x {rate(percent)}% = "
        f"{money(exact)}, but the invoice says {money(tax)} (differences under 1.00 are "
        "accepted)"
    )


@_rule("BR-CO-17")
def _tax_per_category(doc: _Document) -> Iterator[Failure]:
    for total in doc.tax_totals:
        for subtotal in _kids(total, TAX_SUBTOTAL):
            categories = [c for c in _kids(subtotal, TAX_CATEGORY) if _is_vat(c)]
            percents = _values(categories, PERCENT)
            tax = _value(subtotal, TAX_AMOUNT)
            taxable = _value(subtotal, TAXABLE_AMOUNT)
            if tax is None:
                holds = False
            elif not percents or round0(percents[0]) == 0:  # outside VAT, or a zero rate
                holds = round0(tax) == 0
            else:
                holds = taxable is not None and _within_one(
                    tax, round2(abs(taxable) * percents[0] / 100)
                )
            if holds:
                continue
            code = " ".join(_normalized(i) for c in categories for i in _kids(c, ID))
            percent = percents[0] if percents else _ZERO
            yield Failure(
                "BR-CO-17",
                _tax_message(code or "?", percent, taxable or _ZERO, tax or _ZERO)
                if taxable is not None and tax is not None
                else f"tax category {code or '?'}: the taxable or tax amount is missing",
                subtotal.sourceline,
            )


def _tax_codes(element: Element, *path: str) -> tuple[set[str], list[Decimal]]:
    """The category codes and rates at ``path`` below ``element`` (``cac:TaxCategory``)."""
    categories = [element]
    for tag in path:
        categories = [child for parent in categories for child in _kids(parent, tag)]
    return {_normalized(i) for c in categories for i in _kids(c, ID)}, _values(categories, PERCENT)


@_rule("BR-S-08")
def _taxable_per_rate(doc: _Document) -> Iterator[Failure]:
    standard = list(doc.vat_categories("S"))
    if not standard:
        return
    root = doc.root
    # Each line and allowance/charge with its tax codes and rates, read once: the assertion
    # asks per rate whether one exists anywhere (//) and sums those directly under the root.
    lines = {
        tag: [(line, *_tax_codes(line, ITEM, CLASSIFIED)) for line in root.iter(tag)]
        for tag in (INVOICE_LINE, CREDIT_NOTE_LINE)
    }
    allowance_charges = [(ac, *_tax_codes(ac, TAX_CATEGORY)) for ac in root.iter(ALLOWANCE_CHARGE)]
    for subtotal, category in standard:
        taxable = _value(subtotal, TAXABLE_AMOUNT)
        for percent in _values([category], PERCENT):
            at_rate = [
                ac for ac, codes, rates in allowance_charges if "S" in codes and percent in rates
            ]
            on_document = [ac for ac in at_rate if ac.getparent() is root]
            adjustment = sum(
                _values([ac for ac in on_document if _is_charge(ac, True)], AMOUNT), _ZERO
            ) - sum(_values([ac for ac in on_document if _is_charge(ac, False)], AMOUNT), _ZERO)
            sums: list[Decimal] = []
            for found in lines.values():
                rated = [line for line, codes, rates in found if "S" in codes and percent in rates]
                if at_rate or rated:
                    direct = [line for line in rated if line.getparent() is root]
                    sums.append(sum(_values(direct, LINE_AMOUNT), _ZERO) + adjustment)
            if taxable is not None and any(abs(taxable - total) < 1 for total in sums):
                continue
            what = (
                f"the lines, charges and allowances at that rate add up to {money(sums[0])}"
                if sums
                else "no line, charge or allowance has that rate"
            )
            yield Failure(
                "BR-S-08",
                f"tax category S {rate(percent)}%: the taxable amount is {_shown(taxable)}, "
                f"but {what} (differences under 1.00 are accepted)",
                subtotal.sourceline,
            )


@_rule("BR-S-09")
def _standard_rated_tax(doc: _Document) -> Iterator[Failure]:
    for subtotal, category in doc.vat_categories("S"):
        percent = _value(category, PERCENT)
        tax = _value(subtotal, TAX_AMOUNT)
        taxable = _value(subtotal, TAXABLE_AMOUNT)
        if percent is None or tax is None or taxable is None:
            yield Failure(
                "BR-S-09",
                "tax category S: the rate, taxable amount or tax amount is missing",
                subtotal.sourceline,
            )
        elif not _within_one(tax, round2(abs(taxable) * percent / 100)):
            yield Failure("BR-S-09", _tax_message("S", percent, taxable, tax), subtotal.sourceline)


@_rule("BR-29")
def _period(doc: _Document) -> Iterator[Failure]:
    for period in _kids(doc.root, INVOICE_PERIOD):
        start, end = _kid(period, _cbc("StartDate")), _kid(period, _cbc("EndDate"))
        if start is None or end is None:
            continue
        first, last = _date(start), _date(end)
        if last < first:
            yield Failure(
                "BR-29",
                f"the invoice period starts on {first}, after its end on {last}",
                period.sourceline,
            )


@_rule("BR-53")
def _tax_currency_total(doc: _Document) -> Iterator[Failure]:
    for code in _kids(doc.root, TAX_CURRENCY):
        wanted = "".join(code.itertext())
        present = any(
            amount.get("currencyID") == wanted
            for total in doc.root.iter(TAX_TOTAL)
            for amount in _kids(total, TAX_AMOUNT)
        )
        if not present:
            yield Failure(
                "BR-53",
                f"the tax currency is {wanted}, but no tax total is given in it",
                code.sourceline,
            )


@_rule("PEPPOL-EN16931-R053")
def _one_breakdown(doc: _Document) -> Iterator[Failure]:
    with_breakdown = [t for t in doc.tax_totals if _kid(t, TAX_SUBTOTAL) is not None]
    if len(with_breakdown) != 1:
        yield Failure(
            "PEPPOL-EN16931-R053",
            f"the invoice has {len(with_breakdown)} tax totals with a breakdown per category; "
            "it must have one",
            with_breakdown[1].sourceline if len(with_breakdown) > 1 else doc.root.sourceline,
        )


@_rule("PEPPOL-EN16931-R054")
def _one_in_tax_currency(doc: _Document) -> Iterator[Failure]:
    without = [t for t in doc.tax_totals if _kid(t, TAX_SUBTOTAL) is None]
    wanted = 0 if doc.tax_currency is None else 1
    if len(without) != wanted:
        why = (
            "one, in the tax currency, as cbc:TaxCurrencyCode is given"
            if wanted
            else "none, as no tax currency (cbc:TaxCurrencyCode) is given"
        )
        yield Failure(
            "PEPPOL-EN16931-R054",
            f"the invoice has {len(without)} tax totals without a breakdown; it must have {why}",
            without[0].sourceline if without else doc.root.sourceline,
        )


@_rule("PEPPOL-EN16931-R055")
def _same_sign(doc: _Document) -> Iterator[Failure]:
    if doc.tax_currency is None:
        return
    in_tax = [_decimal(a) for a in doc.tax_amounts(_normalized(doc.tax_currency))]
    currency = _kid(doc.root, DOCUMENT_CURRENCY)
    in_document = (
        [_decimal(a) for a in doc.tax_amounts(_normalized(currency))]
        if (currency is not None)
        else []
    )
    negative = any(a <= 0 for a in in_tax) and any(a <= 0 for a in in_document)
    positive = any(a >= 0 for a in in_tax) and any(a >= 0 for a in in_document)
    if not (negative or positive):
        yield Failure(
            "PEPPOL-EN16931-R055",
            "the tax total in the tax currency and the one in the document currency have "
            "opposite signs",
            doc.tax_currency.sourceline,
        )


@_rule("PEPPOL-EN16931-R005")
def _tax_currency_differs(doc: _Document) -> Iterator[Failure]:
    currency = _kid(doc.root, DOCUMENT_CURRENCY)
    document = "" if currency is None else _normalized(currency)
    for code in _kids(doc.root, TAX_CURRENCY):
        if _normalized(code) == document:
            yield Failure(
                "PEPPOL-EN16931-R005",
                f"the tax currency {document} is the document currency; give it only when "
                "tax is accounted in another currency",
                code.sourceline,
            )


def _in_document_currency(element: Element) -> bool:
    """Whether PEPPOL-EN16931-R051 asks this element's currencyID to be the document's."""
    if element.tag in _AMOUNTS:
        return True
    if element.tag != TAX_AMOUNT:
        return False
    parent = element.getparent()
    if parent is None:
        return False
    # Only the tax total without breakdown (in the tax currency, BT-111) is excepted.
    return parent.tag == TAX_SUBTOTAL or (
        parent.tag == TAX_TOTAL and _kid(parent, TAX_SUBTOTAL) is not None
    )


@_rule("PEPPOL-EN16931-R051")
def _currency(doc: _Document) -> Iterator[Failure]:
    wrong = [
        element
        for element in doc.root.iter(*_AMOUNTS, TAX_AMOUNT)
        if _in_document_currency(element) and element.get("currencyID") != doc.currency
    ]
    if wrong:
        listed = ", ".join(
            f"{path_of(e)}={e.get('currencyID') or '(none)'}" for e in wrong[:_MAX_LISTED]
        )
        more = f" and {len(wrong) - _MAX_LISTED} more" if len(wrong) > _MAX_LISTED else ""
        yield Failure(
            "PEPPOL-EN16931-R051",
            f"amounts not in the document currency {doc.currency or '(none)'}: {listed}{more}",
            wrong[0].sourceline,
        )
