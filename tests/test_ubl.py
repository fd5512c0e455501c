"""UBL parsing: every field, every check, every refusal with its place (tests/ubl/*)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from procedo.subjects import builtin_subject_types
from procedo.ubl import MAX_BYTES, Parsed, UblError, parse
from procedo.untrusted_xml import _PARSER

UBL = Path(__file__).parent / "ubl"


def sample(name: str) -> bytes:
    return (UBL / name).read_bytes()


def variant(name: str, *replacements: tuple[str, str]) -> bytes:
    """A sample file with text replaced; each replacement must apply exactly once."""
    text = sample(name).decode()
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode()


def refusal(data: bytes) -> UblError:
    with pytest.raises(UblError) as caught:
        parse(data)
    return caught.value


def leaf_paths(value: dict[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for key, item in value.items():
        if isinstance(item, dict):
            paths |= leaf_paths(item, f"{prefix}{key}.")
        else:
            paths.add(f"{prefix}{key}")
    return paths


PARTY_X = {
    "name": "Acme Kantoorartikelen B.V.",
    "trading_name": "Acme Kantoorartikelen B.V.",
    "kvk": "12345678",
    "vat": "NL123456789B01",
    "company_id": "12345678",
    "company_id_scheme": "0106",
    "endpoint_id": "12345678",
    "endpoint_scheme": "0106",
    "email": "billing@acme.example",
    "country": "NL",
}
CUSTOMER = {
    "name": "Klant Holding B.V.",
    "trading_name": "Klant Holding B.V.",
    "kvk": "99887766",
    "vat": "NL998877665B01",
    "company_id": "99887766",
    "company_id_scheme": "0106",
    "endpoint_id": "99887766",
    "endpoint_scheme": "0106",
    "email": "crediteuren@klant.example",
    "country": "NL",
}
ALL_OK = {
    "lines_sum_ok": True,
    "tax_categories_ok": True,
    "tax_total_ok": True,
    "tax_ok": True,
    "totals_ok": True,
    "payable_ok": True,
    "period_ok": True,
    "currency_ok": True,
    "all_ok": True,
    "failed": [],
}


def test_every_field_of_an_invoice_is_read() -> None:
    parsed = parse(sample("invoice-kvk-x.xml"))
    assert parsed.key == "12345678/INV-2026-0042"
    assert parsed.fields == {
        "document_type": "invoice",
        "type_code": "380",
        "customization_id": (
            "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
        ),
        "profile_id": "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
        "invoice_number": "INV-2026-0042",
        "issue_date": "2026-01-02",
        "due_date": "2026-02-01",
        "currency": "EUR",
        "tax_currency": "",
        "order_reference": "PO-7781",
        "buyer_reference": "AFD-INKOOP",
        "billing_reference": "",
        "contract_reference": "",
        "note": "Levering december",
        "invoice_period": {"start": "2026-01-01", "end": "2026-01-31"},
        "supplier": {**PARTY_X, "trusted": False},
        "customer": CUSTOMER,
        "payment": {"means_code": "30", "id": "INV-2026-0042", "iban": "NL91ABNA0417164300"},
        "line_extension_amount": "1100.00",
        "allowance_total_amount": "0.00",
        "charge_total_amount": "0.00",
        "tax_exclusive_amount": "1100.00",
        "tax_total": "219.00",
        "tax_total_in_tax_currency": None,
        "tax_inclusive_amount": "1319.00",
        "prepaid_amount": "0.00",
        "payable_rounding_amount": "0.00",
        "payable_amount": "1319.00",
        "tax_categories": [
            {
                "id": "S",
                "percent": "21",
                "taxable_amount": "1000.00",
                "tax_amount": "210.00",
                "exemption_reason": "",
            },
            {
                "id": "S",
                "percent": "9",
                "taxable_amount": "100.00",
                "tax_amount": "9.00",
                "exemption_reason": "",
            },
        ],
        "tax_category_ids": ["S"],
        "tax_percents": ["21", "9"],
        "lines": [
            {
                "id": "1",
                "quantity": "10",
                "unit": "C62",
                "amount": "250.00",
                "name": "Printpapier A4",
                "description": "Printpapier A4, 80 g/m2, doos van 5 pakken",
                "price": "25.00",
                "tax_category": "S",
                "tax_percent": "21",
            },
            {
                "id": "2",
                "quantity": "5",
                "unit": "C62",
                "amount": "750.00",
                "name": "Toner zwart",
                "description": "Toner zwart",
                "price": "150.00",
                "tax_category": "S",
                "tax_percent": "21",
            },
            {
                "id": "3",
                "quantity": "4",
                "unit": "C62",
                "amount": "100.00",
                "name": "Handboek boekhouden",
                "description": "Handboek boekhouden",
                "price": "25.00",
                "tax_category": "S",
                "tax_percent": "9",
            },
        ],
        "line_count": 3,
        "checks": ALL_OK,
        "conversion_problem": "",
    }


def test_the_fields_are_exactly_the_declared_ones() -> None:
    """Rules and templates are checked against invoice.json: it must name what is stored."""
    declared = builtin_subject_types()["invoice"].field_names() - {"status"}
    for name in ("invoice-kvk-x.xml", "credit-note.xml", "invoice-no-order.xml"):
        assert leaf_paths(parse(sample(name)).fields) == declared, name


def test_fields_are_plain_json() -> None:
    fields = parse(sample("invoice-kvk-y.xml")).fields
    assert json.loads(json.dumps(fields)) == fields


def test_allowances_charges_and_prepaid_amounts() -> None:
    fields = parse(sample("invoice-kvk-y.xml")).fields
    assert fields["supplier"]["kvk"] == "87654321"
    assert (fields["allowance_total_amount"], fields["charge_total_amount"]) == ("50.00", "10.00")
    assert (fields["tax_exclusive_amount"], fields["tax_total"]) == ("1960.00", "411.60")
    assert (fields["prepaid_amount"], fields["payable_amount"]) == ("371.60", "2000.00")
    assert fields["lines"][0]["unit"] == "HUR"
    assert fields["checks"] == ALL_OK


def test_a_credit_note() -> None:
    parsed = parse(sample("credit-note.xml"))
    fields = parsed.fields
    assert parsed.key == "12345678/credit-note/CN-2026-0007"
    assert fields["document_type"] == "credit_note"
    assert fields["type_code"] == "381"
    assert fields["billing_reference"] == "INV-2026-0042"
    assert fields["due_date"] == "2026-02-19"  # cac:PaymentMeans/cbc:PaymentDueDate
    assert fields["lines"][0]["quantity"] == "2"  # cbc:CreditedQuantity
    assert fields["payable_amount"] == "60.50"
    assert fields["checks"] == ALL_OK


def test_an_invoice_without_order_reference_or_period() -> None:
    fields = parse(sample("invoice-no-order.xml")).fields
    assert fields["order_reference"] == ""
    assert fields["invoice_period"] == {"start": None, "end": None}
    assert fields["checks"]["period_ok"] is True


def test_the_kvk_number_comes_from_another_0106_identifier_when_the_legal_id_is_not_one() -> None:
    data = variant(
        "invoice-kvk-x.xml",
        (
            '<cbc:CompanyID schemeID="0106">12345678</cbc:CompanyID>\n'
            "      </cac:PartyLegalEntity>\n"
            "      <cac:Contact>\n        <cbc:ElectronicMail>billing",
            '<cbc:CompanyID schemeID="0190">000012345678</cbc:CompanyID>\n'
            "      </cac:PartyLegalEntity>\n"
            "      <cac:Contact>\n        <cbc:ElectronicMail>billing",
        ),
    )
    supplier = parse(data).fields["supplier"]
    assert (supplier["company_id"], supplier["company_id_scheme"]) == ("000012345678", "0190")
    assert supplier["kvk"] == "12345678"  # cac:PartyIdentification/cbc:ID schemeID=0106


def test_without_kvk_the_key_uses_the_vat_number() -> None:
    data = sample("invoice-kvk-x.xml").decode()
    data = data.replace('schemeID="0106">12345678', 'schemeID="0088">12345678')
    parsed = parse(data.encode())
    assert parsed.fields["supplier"]["kvk"] == ""
    assert parsed.key == "NL123456789B01/INV-2026-0042"


def test_a_second_tax_total_in_the_tax_currency() -> None:
    data = variant(
        "invoice-kvk-x.xml",
        (
            "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>",
            "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>\n"
            "  <cbc:TaxCurrencyCode>GBP</cbc:TaxCurrencyCode>",
        ),
        (
            "  <cac:LegalMonetaryTotal>",
            '  <cac:TaxTotal>\n    <cbc:TaxAmount currencyID="GBP">186.15</cbc:TaxAmount>\n'
            "  </cac:TaxTotal>\n  <cac:LegalMonetaryTotal>",
        ),
    )
    fields = parse(data).fields
    assert (fields["tax_currency"], fields["tax_total_in_tax_currency"]) == ("GBP", "186.15")
    assert fields["tax_total"] == "219.00"
    assert fields["checks"] == ALL_OK


# --- The checks -------------------------------------------------------------------------


def failed(parsed: Parsed) -> list[str]:
    return list(parsed.fields["checks"]["failed"])


def test_a_wrong_tax_amount_fails_the_tax_check() -> None:
    parsed = parse(sample("invoice-wrong-tax.xml"))
    assert failed(parsed) == ["tax_categories_ok", "tax_ok"]
    assert parsed.fields["checks"]["all_ok"] is False
    assert parsed.fields["conversion_problem"] == (
        "BR-CO-17, BR-S-09: tax category S 21%: 1000.00 x 21% = 210.00, but the invoice says "
        "212.00 (differences under 1.00 are accepted)"
    )


def test_a_period_ending_before_it_starts_fails_the_period_check() -> None:
    parsed = parse(sample("invoice-bad-period.xml"))
    assert failed(parsed) == ["period_ok"]
    assert parsed.fields["conversion_problem"] == (
        "BR-29: the invoice period starts on 2026-02-01, after its end on 2026-01-31"
    )


def test_lines_that_do_not_add_up() -> None:
    parsed = parse(
        variant(
            "invoice-kvk-x.xml",
            (
                '<cbc:LineExtensionAmount currencyID="EUR">750.00</cbc:LineExtensionAmount>',
                '<cbc:LineExtensionAmount currencyID="EUR">740.00</cbc:LineExtensionAmount>',
            ),
        )
    )
    # The 21% category's taxable amount is no longer its lines' sum either (BR-S-08).
    assert failed(parsed) == ["lines_sum_ok", "tax_categories_ok", "tax_ok"]
    problem = parsed.fields["conversion_problem"]
    assert "BR-CO-10: the lines add up to 1090.00, but the line extension amount is 1100.00" in (
        problem
    )
    assert (
        "BR-S-08: tax category S 21%: the taxable amount is 1000.00, but the lines, charges and "
        "allowances at that rate add up to 990.00"
    ) in problem


def test_a_tax_total_that_is_not_the_sum_of_the_categories() -> None:
    parsed = parse(
        variant(
            "invoice-kvk-x.xml",
            (
                '<cbc:TaxAmount currencyID="EUR">219.00</cbc:TaxAmount>',
                '<cbc:TaxAmount currencyID="EUR">229.00</cbc:TaxAmount>',
            ),
            ("1319.00</cbc:TaxInclusiveAmount>", "1329.00</cbc:TaxInclusiveAmount>"),
            ("1319.00</cbc:PayableAmount>", "1329.00</cbc:PayableAmount>"),
        )
    )
    assert failed(parsed) == ["tax_total_ok", "tax_ok"]
    assert parsed.fields["checks"]["tax_categories_ok"] is True


def test_a_wrong_total_including_tax_and_a_wrong_payable_amount() -> None:
    parsed = parse(
        variant(
            "invoice-kvk-x.xml",
            ("1319.00</cbc:TaxInclusiveAmount>", "1320.00</cbc:TaxInclusiveAmount>"),
            ("1319.00</cbc:PayableAmount>", "1310.00</cbc:PayableAmount>"),
        )
    )
    assert failed(parsed) == ["totals_ok", "payable_ok"]
    problem = parsed.fields["conversion_problem"]
    assert "the total including tax is 1320.00, but 1100.00 + tax 219.00 = 1319.00" in problem
    assert (
        "the payable amount is 1310.00, but total including tax 1320.00 - prepaid 0.00 "
        "+ rounding 0.00 = 1320.00"
    ) in problem


def test_payable_counts_prepaid_and_rounding() -> None:
    parsed = parse(
        variant(
            "invoice-kvk-x.xml",
            (
                '<cbc:PayableAmount currencyID="EUR">1319.00</cbc:PayableAmount>',
                '<cbc:PrepaidAmount currencyID="EUR">300.00</cbc:PrepaidAmount>\n'
                '    <cbc:PayableRoundingAmount currencyID="EUR">0.05</cbc:PayableRoundingAmount>\n'
                '    <cbc:PayableAmount currencyID="EUR">1019.05</cbc:PayableAmount>',
            ),
        )
    )
    assert failed(parsed) == []
    assert parsed.fields["payable_rounding_amount"] == "0.05"


def test_allowances_that_do_not_match_their_total() -> None:
    parsed = parse(
        variant(
            "invoice-kvk-y.xml",
            (
                '<cbc:AllowanceTotalAmount currencyID="EUR">50.00</cbc:AllowanceTotalAmount>',
                '<cbc:AllowanceTotalAmount currencyID="EUR">40.00</cbc:AllowanceTotalAmount>',
            ),
        )
    )
    assert failed(parsed) == ["totals_ok"]
    assert (
        "the allowances add up to 50.00, but the allowance total is 40.00"
        in (parsed.fields["conversion_problem"])
    )


def test_an_amount_in_another_currency() -> None:
    parsed = parse(
        variant(
            "invoice-kvk-x.xml",
            (
                '<cbc:LineExtensionAmount currencyID="EUR">750.00</cbc:LineExtensionAmount>',
                '<cbc:LineExtensionAmount currencyID="USD">750.00</cbc:LineExtensionAmount>',
            ),
        )
    )
    assert failed(parsed) == ["currency_ok"]
    assert "cac:InvoiceLine[2]/cbc:LineExtensionAmount=USD" in parsed.fields["conversion_problem"]


SECOND_TAX_TOTAL = (
    "  <cac:LegalMonetaryTotal>",
    '  <cac:TaxTotal>\n    <cbc:TaxAmount currencyID="EUR">219.00</cbc:TaxAmount>\n'
    "  </cac:TaxTotal>\n  <cac:LegalMonetaryTotal>",
)


def test_two_tax_totals_in_the_document_currency_fail_the_checks() -> None:
    """BR-CO-15: one tax total in the document currency; PEPPOL R054: no other without cause."""
    parsed = parse(variant("invoice-kvk-x.xml", SECOND_TAX_TOTAL))
    assert failed(parsed) == ["tax_total_ok", "tax_ok", "totals_ok"]
    assert parsed.fields["tax_total_in_tax_currency"] is None
    problem = parsed.fields["conversion_problem"]
    assert "BR-CO-15: the invoice has 2 tax totals in its currency EUR; it must have one" in problem
    assert "PEPPOL-EN16931-R054: the invoice has 1 tax totals without a breakdown" in problem


def test_the_peppol_rules_apply_to_documents_that_declare_peppol() -> None:
    """A plain EN 16931 invoice is held to BR-CO-15, not to PEPPOL's R054."""
    plain = (
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0<",
        "urn:cen.eu:en16931:2017<",
    )
    parsed = parse(variant("invoice-kvk-x.xml", plain, SECOND_TAX_TOTAL))
    assert failed(parsed) == ["totals_ok"]
    assert parsed.fields["conversion_problem"].startswith("BR-CO-15: the invoice has 2 tax totals")


def test_only_a_total_in_the_tax_currency_may_come_second() -> None:
    tax_currency = (
        "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>",
        "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>\n"
        "  <cbc:TaxCurrencyCode>GBP</cbc:TaxCurrencyCode>",
    )
    parsed = parse(variant("invoice-kvk-x.xml", tax_currency, SECOND_TAX_TOTAL))
    assert failed(parsed) == ["tax_total_ok", "tax_ok", "totals_ok"]
    assert (
        "BR-53: the tax currency is GBP, but no tax total is given in it"
        in (parsed.fields["conversion_problem"])
    )


@pytest.mark.parametrize(
    ("allowance", "charge"), [("0", "1"), (" false ", "\n 1\n"), ("0", "true")]
)
def test_the_charge_indicator_is_any_xsd_boolean(allowance: str, charge: str) -> None:
    parsed = parse(
        variant(
            "invoice-kvk-y.xml",
            ("<cbc:ChargeIndicator>false<", f"<cbc:ChargeIndicator>{allowance}<"),
            ("<cbc:ChargeIndicator>true<", f"<cbc:ChargeIndicator>{charge}<"),
        )
    )
    fields = parsed.fields
    assert (fields["allowance_total_amount"], fields["charge_total_amount"]) == ("50.00", "10.00")
    assert fields["checks"] == ALL_OK


@pytest.mark.parametrize("value", ["yes", "TRUE", "2", ""])
def test_a_charge_indicator_that_is_no_boolean_is_refused(value: str) -> None:
    data = variant(
        "invoice-kvk-y.xml", ("<cbc:ChargeIndicator>true<", f"<cbc:ChargeIndicator>{value}<")
    )
    (problem,) = refusal(data).problems
    assert (problem.code, problem.path) == (
        "ubl.invalid",
        "cac:AllowanceCharge[2]/cbc:ChargeIndicator",
    )
    assert problem.message == "not a boolean (true, false, 1 or 0)"


def test_a_taxable_amount_that_is_not_its_lines_fails_the_tax_check() -> None:
    """BR-S-08: the taxable amount per rate is its lines + charges - allowances (under 1.00 off)."""
    parsed = parse(
        variant(
            "invoice-kvk-x.xml",
            ("1000.00</cbc:TaxableAmount>", "1002.00</cbc:TaxableAmount>"),
            ("210.00</cbc:TaxAmount>", "210.42</cbc:TaxAmount>"),
            ("219.00</cbc:TaxAmount>", "219.42</cbc:TaxAmount>"),
            ("1319.00</cbc:TaxInclusiveAmount>", "1319.42</cbc:TaxInclusiveAmount>"),
            ("1319.00</cbc:PayableAmount>", "1319.42</cbc:PayableAmount>"),
        )
    )
    assert failed(parsed) == ["tax_categories_ok", "tax_ok"]
    assert parsed.fields["conversion_problem"] == (
        "BR-S-08: tax category S 21%: the taxable amount is 1002.00, but the lines, charges "
        "and allowances at that rate add up to 1000.00 (differences under 1.00 are accepted)"
    )


@pytest.mark.parametrize(
    ("tax", "ok"),
    [
        ("15.45", True),  # 73.55 x 21% = 15.4455, 15.45 in cents
        ("15.44", True),  # the official rules (BR-CO-17, BR-S-09) accept under 1.00 off
        ("14.46", True),
        ("16.44", True),
        ("14.45", False),  # 1.00 off is not under 1.00
        ("16.45", False),
        ("-15.45", True),  # compared as the absolute amount, as the official rules do
    ],
)
def test_tax_per_category_allows_the_official_rounding_difference(tax: str, ok: bool) -> None:
    data = variant(
        "invoice-no-order.xml",
        (
            '<cbc:TaxAmount currencyID="EUR">15.45</cbc:TaxAmount>\n      <cac:TaxCategory>',
            f'<cbc:TaxAmount currencyID="EUR">{Decimal(tax)}</cbc:TaxAmount>\n'
            "      <cac:TaxCategory>",
        ),
    )
    assert parse(data).fields["checks"]["tax_categories_ok"] is ok


# --- Refusals ---------------------------------------------------------------------------


def test_a_missing_payable_amount_names_the_line_and_element() -> None:
    error = refusal(sample("missing-payable-amount.xml"))
    (problem,) = error.problems
    assert (problem.code, problem.path) == (
        "ubl.missing",
        "cac:LegalMonetaryTotal/cbc:PayableAmount",
    )
    lines = sample("missing-payable-amount.xml").decode().splitlines()
    assert problem.line is not None
    assert "<cac:LegalMonetaryTotal>" in lines[problem.line - 1]
    assert str(error) == f"line {problem.line}, cac:LegalMonetaryTotal/cbc:PayableAmount: missing"


def test_every_missing_or_unreadable_element_is_listed() -> None:
    data = variant(
        "invoice-kvk-x.xml",
        ("  <cbc:ID>INV-2026-0042</cbc:ID>\n", ""),
        ("<cbc:IssueDate>2026-01-02</cbc:IssueDate>", "<cbc:IssueDate>02-01-2026</cbc:IssueDate>"),
        ("      <cbc:Name>Toner zwart</cbc:Name>\n", ""),
        ("1319.00</cbc:PayableAmount>", "1.319,00</cbc:PayableAmount>"),
    )
    found = [(p.code, p.path, p.message) for p in refusal(data).problems]
    assert found == [
        ("ubl.missing", "cbc:ID", "missing"),
        ("ubl.invalid", "cbc:IssueDate", "'02-01-2026' is not a date (YYYY-MM-DD)"),
        ("ubl.invalid", "cac:LegalMonetaryTotal/cbc:PayableAmount", "'1.319,00' is not a number"),
        ("ubl.missing", "cac:InvoiceLine[2]/cac:Item/cbc:Name", "missing"),
    ]
    assert all(p.line for p in refusal(data).problems)


def test_a_document_without_lines_or_totals_is_refused() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>1</cbc:ID>
</Invoice>
"""
    paths = [p.path for p in refusal(data).problems]
    assert paths == [
        "cbc:DocumentCurrencyCode",
        "cbc:IssueDate",
        "cac:LegalMonetaryTotal",
        "cac:AccountingSupplierParty",
        "cac:TaxTotal",
        "cac:InvoiceLine",
    ]


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe-file.xml"])
def test_a_doctype_is_refused_unread(name: str) -> None:
    (problem,) = refusal(sample(name)).problems
    assert (problem.code, problem.line) == ("ubl.doctype", 2)
    assert "DOCTYPE" in problem.message


def test_the_parser_itself_expands_no_entity_and_reads_no_file() -> None:
    """Behind the DOCTYPE refusal, the parser is safe on its own (defence in depth)."""
    root = etree.fromstring(sample("xxe-file.xml"), _PARSER)
    assert b"root:" not in etree.tostring(root)  # /etc/passwd was not read
    with pytest.raises(etree.XMLSyntaxError, match="amplification"):
        etree.fromstring(sample("billion-laughs.xml"), _PARSER)


def test_a_doctype_without_entities_is_refused_too() -> None:
    data = variant(
        "invoice-kvk-x.xml",
        ('<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0"?>\n<!DOCTYPE Invoice>\n'),
    )
    assert refusal(data).problems[0].code == "ubl.doctype"


def test_malformed_xml_names_line_and_column() -> None:
    (problem,) = refusal(sample("malformed.xml")).problems
    assert (problem.code, problem.line, problem.column) == ("ubl.malformed", 13, 48)
    assert problem.message == (
        "not well-formed XML: Opening and ending tag mismatch: BuyerReference line 13 and BuyerRef"
    )


def test_a_truncated_document() -> None:
    (problem,) = refusal(sample("truncated.xml")).problems
    assert problem.code == "ubl.malformed"
    assert "Premature end of data" in problem.message
    assert problem.line == len(sample("truncated.xml").splitlines()) + 1


def test_an_oversized_document_is_refused_before_parsing() -> None:
    data = sample("invoice-kvk-x.xml").replace(b"<cbc:Note>", b"<cbc:Note>" + b"x" * MAX_BYTES)
    (problem,) = refusal(data).problems
    assert problem.code == "ubl.too_large"
    assert f"at most {MAX_BYTES:,}" in problem.message


def test_the_wrong_root_element() -> None:
    (problem,) = refusal(sample("wrong-root.xml")).problems
    assert (problem.code, problem.path) == ("ubl.root", "Order")
    assert "expected a UBL 2.1 Invoice or CreditNote" in problem.message


def test_an_invoice_without_the_ubl_namespace_is_the_wrong_root() -> None:
    data = sample("invoice-kvk-x.xml").replace(
        b'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"', b""
    )
    assert refusal(data).problems[0].code == "ubl.root"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((UBL / "logo.png").read_bytes(), "this is a PNG image, not a UBL invoice"),
        (b"%PDF-1.7\n...", "this is a PDF document, not a UBL invoice"),
        (b"", "the document is empty"),
        ("<Invoice/>".encode("utf-16"), "the document is not UTF-8 text (PEPPOL requires UTF-8)"),
    ],
)
def test_what_is_not_xml_at_all(data: bytes, message: str) -> None:
    (problem,) = refusal(data).problems
    assert (problem.code, problem.message, problem.line) == ("ubl.not_xml", message, 1)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ((UBL / "logo.png").read_bytes(), "a PNG image"),
        (b"%PDF-1.7\n...", "a PDF document"),
        (b"II*\x00\x08\x00", "a TIFF image"),
        (sample("wrong-root.xml"), "an XML document of another kind (Order)"),
        (b"", ""),  # nothing was sent
        ("<Invoice/>".encode("utf-16"), ""),  # unreadable here, whatever it is
        (sample("xxe-file.xml"), ""),  # hostile
        (sample("malformed.xml"), ""),
        (sample("missing-payable-amount.xml"), ""),  # an invoice, incomplete
    ],
)
def test_a_document_of_another_kind_says_what_it_is(data: bytes, kind: str) -> None:
    """``UblError.kind``: what ingest records as a conversion problem instead of refusing."""
    assert refusal(data).kind == kind


def test_an_undeclared_entity_is_malformed() -> None:
    data = variant("invoice-kvk-x.xml", ("Levering december", "&secret;"))
    (problem,) = refusal(data).problems
    assert problem.code == "ubl.malformed"
    assert "Entity 'secret' not defined" in problem.message


def test_docs_name_every_field_check_and_refusal() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "ubl.md").read_text()
    for name in builtin_subject_types()["invoice"].field_names() - {"status"}:
        assert f"`{name}`" in docs, name
    codes = ["too_large", "not_xml", "doctype", "malformed", "root", "missing", "invalid"]
    for code in codes:
        assert f"`ubl.{code}`" in docs, code


def test_deep_nesting_is_refused_by_the_parser() -> None:
    root = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
    (problem,) = refusal(root + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</Invoice>").problems
    assert problem.code == "ubl.malformed"
    assert "Excessive depth in document: 256" in problem.message


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("malformed.xml", 400),
        ("xxe-file.xml", 400),
        ("logo.png", 400),
        ("wrong-root.xml", 422),
        ("missing-payable-amount.xml", 422),
    ],
)
def test_each_refusal_has_an_http_status(name: str, status: int) -> None:
    assert refusal(sample(name)).status == status


def test_an_oversized_document_answers_413() -> None:
    assert refusal(b" " * (MAX_BYTES + 1)).status == 413


def test_the_key_fits_its_column_whatever_the_lengths() -> None:
    long_name = "Leverancier " + "x" * 300
    data = sample("credit-note.xml").decode()
    data = data.replace("CN-2026-0007", "N" * 100).replace("Acme Kantoorartikelen B.V.", long_name)
    data = data.replace('schemeID="0106">12345678', 'schemeID="0088">12345678')
    data = data.replace("NL123456789B01", "")
    data = data.replace('<cbc:EndpointID schemeID="0088">12345678</cbc:EndpointID>', "", 1)
    parsed = parse(data.encode())
    assert parsed.key.startswith("Leverancier xxx")
    assert parsed.key.endswith("/credit-note/" + "N" * 100)
    assert len(parsed.key) <= 200


def test_an_invoice_number_over_100_characters_is_refused() -> None:
    data = variant(
        "invoice-kvk-x.xml", ("<cbc:ID>INV-2026-0042</cbc:ID>", f"<cbc:ID>{'N' * 101}</cbc:ID>")
    )
    (problem,) = refusal(data).problems
    assert (problem.code, problem.path, problem.message) == (
        "ubl.invalid",
        "cbc:ID",
        "longer than 100 characters",
    )
