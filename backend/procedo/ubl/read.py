"""UBL 2.1 Invoice and CreditNote (PEPPOL BIS Billing 3.0) to an ``Invoice``, in one walk.

Every lookup is a direct child ``find`` from an element already in hand, so the
tree is walked once; no XPath is evaluated per field. Problems are collected,
not raised one by one, so a refused document lists everything that is wrong.
Only what routing and the arithmetic checks need is mandatory; the rest of BIS
3.0 is read when present (a missing buyer name is for a person to notice, not
a reason to refuse the invoice).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from procedo.flow.problems import Problem
from procedo.ubl.model import DocumentType, Invoice, Line, Party, TaxCategory, Totals
from procedo.ubl.xml import (
    CAC,
    CBC,
    CREDIT_NOTE,
    INVOICE,
    Node,
    UblError,
    problem,
    short_name,
    xsd_boolean,
)

KVK_SCHEME = "0106"  # ISO 6523 ICD of the Dutch Chamber of Commerce number
MAX_ID_LENGTH = 100
_NUMBER = re.compile(r"^[+-]?(\d{1,18}(\.\d{0,8})?|\.\d{1,8})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZERO = Decimal("0.00")


def _zero(value: Decimal | None) -> Decimal:
    """Absent (or unreadable, already reported) amounts count as zero, as UBL means it."""
    return _ZERO if value is None else value


_TAGS: dict[str, str] = {}


def _tag(name: str) -> str:
    """``cbc:ID`` -> ``{urn:...CommonBasicComponents-2}ID``, remembered."""
    tag = _TAGS.get(name)
    if tag is None:
        prefix, _, local = name.partition(":")
        tag = _TAGS[name] = f"{{{CAC if prefix == 'cac' else CBC}}}{local}"
    return tag


class _Reader:
    """Lookups that record what is missing or unreadable, with line and path."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def missing(self, parent: Node, name: str) -> None:
        self.problems.append(problem("ubl.missing", "missing", parent.line, parent.below(name)))

    def bad(self, node: Node, message: str) -> None:
        self.problems.append(problem("ubl.invalid", message, node.line, node.path))

    def find(self, parent: Node | None, name: str, required: bool = False) -> Node | None:
        if parent is None:
            return None
        found = parent.children(_tag(name))
        if not found:
            if required:
                self.missing(parent, name)
            return None
        return Node(found[0], parent, name)

    def find_all(self, parent: Node | None, name: str) -> list[Node]:
        if parent is None:
            return []
        found = parent.children(_tag(name))
        if len(found) == 1:
            return [Node(found[0], parent, name)]
        return [Node(e, parent, f"{name}[{i}]") for i, e in enumerate(found, 1)]

    def text(self, parent: Node | None, name: str, required: bool = False) -> str:
        node = self.find(parent, name, required)
        if node is None:
            return ""
        value = (node.element.text or "").strip()
        if not value and required:
            self.bad(node, "empty")
        return value

    def identifier(self, parent: Node | None, name: str, required: bool = False) -> str:
        value = self.text(parent, name, required)
        if len(value) > MAX_ID_LENGTH and parent is not None:
            self.bad(Node(parent.element, parent, name), f"longer than {MAX_ID_LENGTH} characters")
            return value[:MAX_ID_LENGTH]
        return value

    def number(self, node: Node) -> Decimal | None:
        raw = (node.element.text or "").strip()
        if not _NUMBER.match(raw):
            self.bad(node, f"'{raw[:40]}' is not a number")
            return None
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            self.bad(node, f"'{raw[:40]}' is not a number")
            return None

    def amount(self, parent: Node | None, name: str, required: bool = False) -> Decimal | None:
        """A money amount (its currencyID is a business rule: rules.py, PEPPOL-EN16931-R051)."""
        node = self.find(parent, name, required)
        if node is None:
            return None
        return self.number(node)

    def quantity(self, parent: Node | None, name: str, required: bool) -> tuple[Decimal, str]:
        node = self.find(parent, name, required)
        if node is None:
            return _ZERO, ""
        return _zero(self.number(node)), node.element.get("unitCode", "")

    def date(self, parent: Node | None, name: str, required: bool = False) -> dt.date | None:
        node = self.find(parent, name, required)
        if node is None:
            return None
        raw = (node.element.text or "").strip()
        try:
            if _DATE.match(raw):
                return dt.date.fromisoformat(raw)
        except ValueError:
            pass
        self.bad(node, f"'{raw[:40]}' is not a date (YYYY-MM-DD)")
        return None


def read_invoice(root: etree._Element) -> Invoice:
    """The invoice in a parsed document, or UblError listing every problem."""
    document_type: DocumentType
    if root.tag == INVOICE:
        document_type, line_tag, quantity_tag = "invoice", "cac:InvoiceLine", "cbc:InvoicedQuantity"
        type_tag = "cbc:InvoiceTypeCode"
    elif root.tag == CREDIT_NOTE:
        document_type, line_tag, quantity_tag = (
            "credit_note",
            "cac:CreditNoteLine",
            "cbc:CreditedQuantity",
        )
        type_tag = "cbc:CreditNoteTypeCode"
    else:
        raise UblError(
            [
                problem(
                    "ubl.root",
                    f"the root element is {short_name(str(root.tag))}; expected a UBL 2.1 Invoice "
                    "or CreditNote (namespace urn:oasis:names:specification:ubl:schema:xsd:"
                    "Invoice-2 or CreditNote-2)",
                    root.sourceline,
                    short_name(str(root.tag)),
                )
            ],
            kind=f"an XML document of another kind ({short_name(str(root.tag))})",
        )
    top = Node(root)
    r = _Reader()
    currency = r.text(top, "cbc:DocumentCurrencyCode", required=True)
    payment = r.find(top, "cac:PaymentMeans")
    period = r.find(top, "cac:InvoicePeriod")
    invoice = Invoice(
        document_type=document_type,
        invoice_number=r.identifier(top, "cbc:ID", required=True),
        issue_date=r.date(top, "cbc:IssueDate", required=True) or dt.date.min,
        currency=currency,
        type_code=r.text(top, type_tag),
        customization_id=r.text(top, "cbc:CustomizationID"),
        profile_id=r.text(top, "cbc:ProfileID"),
        due_date=r.date(top, "cbc:DueDate") or r.date(payment, "cbc:PaymentDueDate"),
        tax_currency=r.text(top, "cbc:TaxCurrencyCode"),
        order_reference=r.identifier(r.find(top, "cac:OrderReference"), "cbc:ID"),
        buyer_reference=r.text(top, "cbc:BuyerReference"),
        billing_reference=r.identifier(
            r.find(r.find(top, "cac:BillingReference"), "cac:InvoiceDocumentReference"), "cbc:ID"
        ),
        contract_reference=r.identifier(r.find(top, "cac:ContractDocumentReference"), "cbc:ID"),
        note="\n".join((n.element.text or "").strip() for n in r.find_all(top, "cbc:Note")),
        period_start=r.date(period, "cbc:StartDate"),
        period_end=r.date(period, "cbc:EndDate"),
        payment_means_code=r.text(payment, "cbc:PaymentMeansCode"),
        payment_id=r.text(payment, "cbc:PaymentID"),
        iban=r.text(r.find(payment, "cac:PayeeFinancialAccount"), "cbc:ID"),
        totals=_totals(r, top),
        tax_total=_ZERO,
    )
    supplier = r.find(r.find(top, "cac:AccountingSupplierParty", required=True), "cac:Party", True)
    invoice.supplier = _party(r, supplier, name_required=True)
    invoice.customer = _party(r, r.find(r.find(top, "cac:AccountingCustomerParty"), "cac:Party"))
    _allowances_charges(r, top, invoice)
    _taxes(r, top, invoice)
    invoice.lines = [_line(r, node, quantity_tag) for node in r.find_all(top, line_tag)]
    if not invoice.lines:
        r.missing(top, line_tag)
    if r.problems:
        raise UblError(r.problems)
    return invoice


def _party(r: _Reader, party: Node | None, name_required: bool = False) -> Party:
    if party is None:
        return Party()
    legal = r.find(party, "cac:PartyLegalEntity", required=name_required)
    found = Party(
        name=r.text(legal, "cbc:RegistrationName", required=name_required),
        trading_name=r.text(r.find(party, "cac:PartyName"), "cbc:Name"),
        email=r.text(r.find(party, "cac:Contact"), "cbc:ElectronicMail"),
        country=r.text(
            r.find(r.find(party, "cac:PostalAddress"), "cac:Country"), "cbc:IdentificationCode"
        ),
    )
    endpoint = r.find(party, "cbc:EndpointID")
    if endpoint is not None:
        found.endpoint_id = (endpoint.element.text or "").strip()
        found.endpoint_scheme = endpoint.element.get("schemeID", "")
    company = r.find(legal, "cbc:CompanyID")
    if company is not None:
        found.company_id = (company.element.text or "").strip()
        found.company_id_scheme = company.element.get("schemeID", "")
    # KvK: the legal entity's id when it is a KvK number, else a party id or endpoint that is.
    candidates = [(found.company_id_scheme, found.company_id)]
    for ident in r.find_all(party, "cac:PartyIdentification"):
        id_node = r.find(ident, "cbc:ID")
        if id_node is not None:
            value = (id_node.element.text or "").strip()
            candidates.append((id_node.element.get("schemeID", ""), value))
    candidates.append((found.endpoint_scheme, found.endpoint_id))
    found.kvk = next((value for scheme, value in candidates if scheme == KVK_SCHEME), "")
    for tax_scheme in r.find_all(party, "cac:PartyTaxScheme"):
        scheme = r.text(r.find(tax_scheme, "cac:TaxScheme"), "cbc:ID")
        if scheme.upper() == "VAT" and not found.vat:
            found.vat = r.text(tax_scheme, "cbc:CompanyID")
    return found


def _totals(r: _Reader, top: Node) -> Totals:
    node = r.find(top, "cac:LegalMonetaryTotal", required=True)
    return Totals(
        line_extension_amount=_zero(r.amount(node, "cbc:LineExtensionAmount", True)),
        tax_exclusive_amount=_zero(r.amount(node, "cbc:TaxExclusiveAmount", True)),
        tax_inclusive_amount=_zero(r.amount(node, "cbc:TaxInclusiveAmount", True)),
        payable_amount=_zero(r.amount(node, "cbc:PayableAmount", True)),
        allowance_total_amount=_zero(r.amount(node, "cbc:AllowanceTotalAmount")),
        charge_total_amount=_zero(r.amount(node, "cbc:ChargeTotalAmount")),
        prepaid_amount=_zero(r.amount(node, "cbc:PrepaidAmount")),
        payable_rounding_amount=_zero(r.amount(node, "cbc:PayableRoundingAmount")),
        line=node.line if node is not None else None,
    )


def _allowances_charges(r: _Reader, top: Node, invoice: Invoice) -> None:
    for node in r.find_all(top, "cac:AllowanceCharge"):
        indicator = r.find(node, "cbc:ChargeIndicator", required=True)
        amount = _zero(r.amount(node, "cbc:Amount", required=True))
        if indicator is None:
            continue
        charge = xsd_boolean(indicator.element.text)
        if charge is True:
            invoice.charges += amount
        elif charge is False:
            invoice.allowances += amount
        else:  # the xsd:boolean lexical space: true, false, 1, 0
            r.bad(indicator, "not a boolean (true, false, 1 or 0)")


def _taxes(r: _Reader, top: Node, invoice: Invoice) -> None:
    """The TaxTotal in the document currency, with its breakdown per category.

    BIS 3.0 allows a second TaxTotal, without breakdown, in the tax currency
    (cbc:TaxCurrencyCode) when that differs: it is kept as its own field. How many
    tax totals there may be is a business rule (rules.py: BR-CO-15, PEPPOL R053/R054).
    """
    totals = r.find_all(top, "cac:TaxTotal")
    if not totals:
        r.missing(top, "cac:TaxTotal")
        return
    main = next((t for t in totals if r.find(t, "cac:TaxSubtotal") is not None), None)
    if main is None:
        r.missing(totals[0], "cac:TaxSubtotal")
        return
    invoice.tax_total = _zero(r.amount(main, "cbc:TaxAmount", required=True))
    invoice.tax_total_line = main.line
    for other in totals:
        node = r.find(other, "cbc:TaxAmount", required=True) if other is not main else None
        in_tax_currency = (
            node is not None and node.element.get("currencyID") == invoice.tax_currency
        )
        if node is not None and invoice.tax_currency and in_tax_currency:
            invoice.tax_total_in_tax_currency = r.number(node)
    for sub in r.find_all(main, "cac:TaxSubtotal"):
        category = r.find(sub, "cac:TaxCategory", required=True)
        percent = r.find(category, "cbc:Percent")
        invoice.tax_categories.append(
            TaxCategory(
                id=r.text(category, "cbc:ID", required=True),
                # Categories outside VAT (O) carry no percent: their tax is zero.
                percent=_zero(r.number(percent)) if percent is not None else _ZERO,
                taxable_amount=_zero(r.amount(sub, "cbc:TaxableAmount", required=True)),
                tax_amount=_zero(r.amount(sub, "cbc:TaxAmount", required=True)),
                exemption_reason=r.text(category, "cbc:TaxExemptionReason"),
                line=sub.line,
            )
        )


def _line(r: _Reader, node: Node, quantity_tag: str) -> Line:
    quantity, unit = r.quantity(node, quantity_tag, required=True)
    item = r.find(node, "cac:Item", required=True)
    tax = r.find(item, "cac:ClassifiedTaxCategory")
    percent = r.find(tax, "cbc:Percent")
    return Line(
        id=r.identifier(node, "cbc:ID", required=True),
        quantity=quantity,
        unit=unit,
        amount=_zero(r.amount(node, "cbc:LineExtensionAmount", required=True)),
        name=r.text(item, "cbc:Name", required=True),
        description=r.text(item, "cbc:Description"),
        price=r.amount(r.find(node, "cac:Price"), "cbc:PriceAmount"),
        tax_category=r.text(tax, "cbc:ID"),
        tax_percent=r.number(percent) if percent is not None else None,
        line=node.line,
    )
