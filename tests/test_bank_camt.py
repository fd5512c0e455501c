"""Reading CAMT.053 bank statements: reference statements, every version, hostile input."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from procedo.db.receivables import Payment
from procedo.receivables import camt
from procedo.receivables.bank_cli import import_bank_command
from procedo.receivables.camt import CamtError, read_statement
from procedo.runtime import setup
from procedo.runtime.local import LocalRunner
from tests.camt_build import ACCOUNT, Entry, statement

OFFICIAL = Path(__file__).parent / "bank" / "official"
SAMPLES = sorted(OFFICIAL.glob("*.xml"))


def test_the_reference_statements_are_there() -> None:
    assert len(SAMPLES) == 6, "tests/bank/official holds the genkgo/camt statements"


def _expected_entry(path: Path) -> dict[str, Any]:
    """The first entry as genkgo/camt's own parser read it (its test's expected JSON)."""
    entry = json.loads(path.with_suffix(".json").read_text())["getEntries"][0]
    details = entry["getTransactionDetail"] or {}
    debtors = [
        party
        for party in details.get("getRelatedParties") or []
        if party["getRelatedPartyType"]["__CLASS__"].endswith("\\Debtor")
    ]
    remittance = details.get("getRemittanceInformation") or {}
    creditor = remittance.get("getCreditorReferenceInformation") or {}
    # The dump writes a repeated object once: the first unstructured block stands alone.
    unstructured = remittance.get("getUnstructuredBlock") or {}
    return {
        "credit": entry["getCreditDebitIndicator"] == "CRDT"
        and entry["getStatus"] == "BOOK"
        and not entry["getReversalIndicator"],
        "amount": Decimal(entry["getAmount"]["getAmount"]).scaleb(-2),
        "currency": entry["getAmount"]["getCurrency"]["getCode"],
        "booked_on": entry["getBookingDate"]["0"][:10],
        "debtor_name": debtors[0]["getRelatedPartyType"]["getName"] if debtors else None,
        "debtor_iban": (debtors[0]["getAccount"] or {}).get("getIdentification")
        if debtors
        else None,
        "creditor_reference": creditor.get("getRef"),
        "remittance": unstructured.get("getMessage"),
    }


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_reads_what_the_reference_parser_reads(path: Path) -> None:
    read = read_statement(path.read_bytes())
    assert read.version == "camt.053.001." + path.stem.split(".")[1].lstrip("v").zfill(2)
    expected = _expected_entry(path)
    found = [
        p
        for p in read.payments
        if p.amount == expected["amount"] and p.booked_on.isoformat() == expected["booked_on"]
    ]
    if not expected["credit"]:
        assert not found
        assert read.skipped >= 1
        return
    assert len(found) == 1, read.payments
    payment = found[0]
    assert payment.currency == expected["currency"]
    assert payment.debtor_name == (expected["debtor_name"] or "")
    assert payment.debtor_iban == (expected["debtor_iban"] or "")
    assert payment.creditor_reference == (expected["creditor_reference"] or "")
    assert payment.remittance == (expected["remittance"] or "")
    assert payment.bank_reference.startswith("NL26VAYB8060476890/")


def test_each_reference_statement_has_its_credits_and_no_debits() -> None:
    credits = {path.stem: len(read_statement(path.read_bytes()).payments) for path in SAMPLES}
    assert set(credits.values()) == {1}, credits
    multi = read_statement((OFFICIAL / "camt053.v2.multi.statement.xml").read_bytes())
    assert multi.skipped == 1  # the second statement's debit of 7.00


@pytest.mark.parametrize("version", [2, 4, 6, 8, 10, 13])
def test_every_version_from_02_reads_the_same(version: int) -> None:
    data = statement(
        [
            Entry(
                "1250.00",
                debtor="Bakkerij De Gouden Korst",
                iban="NL02RABO0123456789",
                creditor_reference="RF18 5390 0754 7034",
                remittance="Factuur 2026-0042",
                bank_reference="B-1",
            ),
            Entry("40.00", direction="DBIT", bank_reference="B-2"),
            Entry("10.00", status="PDNG", bank_reference="B-3"),
        ],
        version=version,
    )
    read = read_statement(data)
    assert read.version == f"camt.053.001.{version:02d}"
    assert read.skipped == 2
    [payment] = read.payments
    assert payment == camt.BankPayment(
        bank_reference=f"{ACCOUNT}/B-1",
        amount=Decimal("1250.00"),
        currency="EUR",
        booked_on=dt.date(2026, 11, 30),
        debtor_name="Bakkerij De Gouden Korst",
        debtor_iban="NL02RABO0123456789",
        creditor_reference="RF18539007547034",
        remittance="Factuur 2026-0042",
        line=payment.line,
    )
    assert payment.line == 9  # the Ntry's line: after the header and the account


def test_a_batch_entry_becomes_one_payment_per_transaction() -> None:
    data = statement([Entry("300.00", batch=[("100.00", "INV-1"), ("200.00", "INV-2")])])
    payments = read_statement(data).payments
    assert [(p.amount, p.remittance) for p in payments] == [
        (Decimal("100.00"), "INV-1"),
        (Decimal("200.00"), "INV-2"),
    ]
    # Without the bank's references, the statement id and positions keep them apart.
    assert [p.bank_reference for p in payments] == [
        f"{ACCOUNT}/STMT-1/1/1",
        f"{ACCOUNT}/STMT-1/1/2",
    ]


# --- Hostile and broken statements: refused with line and element, nothing stored -------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt>&x;</BkToCstmrStmt></Document>
"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol3;</Document>
"""


def _problems(data: bytes) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(CamtError) as refused:
        read_statement(data)
    return [(p.code, p.line, p.path, p.message) for p in refused.value.problems]


def test_external_entities_are_refused_unread() -> None:
    [(code, line, _path, message)] = _problems(XXE)
    assert (code, line) == ("camt.doctype", 2)
    assert "refused unread" in message


def test_billion_laughs_are_refused_unread() -> None:
    [(code, line, _path, _message)] = _problems(LAUGHS)
    assert (code, line) == ("camt.doctype", 2)


def test_an_oversized_statement_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(camt, "MAX_BYTES", 1000)
    [(code, _line, _path, message)] = _problems(statement([Entry("1.00")] * 20))
    assert code == "camt.too_large"
    assert "at most 1,000 are accepted" in message


def test_the_wrong_root_is_refused_with_its_name() -> None:
    data = statement([Entry("1.00")]).replace(b"camt.053.001.02", b"camt.052.001.02")
    [(code, line, path, message)] = _problems(data)
    assert (code, line, path) == ("camt.root", 2, "Document")
    assert "urn:iso:std:iso:20022:tech:xsd:camt.052.001.02" in message
    invoice = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    [(code, line, path, _message)] = _problems(invoice)
    assert (code, line, path) == ("camt.root", 1, "Invoice")


def test_bad_amounts_and_indicators_are_each_named_with_line_and_element() -> None:
    data = statement(
        [
            Entry("1.000,00"),
            Entry("12.345"),
            Entry("5.00", currency="euro"),
            Entry("5.00", direction="CREDIT"),
        ]
    )
    problems = _problems(data)
    assert problems == [
        (
            "camt.invalid",
            10,
            "Stmt[1]/Ntry[1]/Amt",
            "'1.000,00' is not an amount: digits with a decimal point, such as 1250.00",
        ),
        (
            "camt.invalid",
            18,
            "Stmt[1]/Ntry[2]/Amt",
            "'12.345' has more than two decimals; payments are kept to the cent",
        ),
        (
            "camt.invalid",
            26,
            "Stmt[1]/Ntry[3]/Amt",
            "the currency (attribute Ccy) 'euro' is not an ISO 4217 code such as EUR",
        ),
        (
            "camt.invalid",
            35,
            "Stmt[1]/Ntry[4]/CdtDbtInd",
            "'CREDIT': the credit/debit indicator must be CRDT or DBIT",
        ),
    ]


def test_a_missing_booking_date_and_malformed_xml_are_placed() -> None:
    data = statement([Entry("5.00")]).replace(b"<BookgDt><Dt>2026-11-30</Dt></BookgDt>", b"")
    assert _problems(data) == [("camt.missing", 9, "Stmt[1]/Ntry[1]/BookgDt", "missing")]
    data = statement([Entry("5.00")]).replace(b"</CdtDbtInd>", b"</CdtDbt>")
    [(code, line, _path, message)] = _problems(data)
    assert (code, line) == ("camt.malformed", 11)
    assert "CdtDbtInd" in message


# --- procedo import bank -------------------------------------------------------------------


@pytest.fixture
def tenant_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'procedo.db'}"
    runner = LocalRunner(url)
    setup.create_tenant(runner.rt, "Acme Finance", "acme")
    runner.rt.db.dispose()
    return url


def _import(url: str, path: Path, *args: str) -> Any:
    env = {"PROCEDO_DATABASE_URL": url, "PROCEDO_BROKER_URL": ""}
    return CliRunner().invoke(import_bank_command, [str(path), *args], env=env)


def _payments(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(sa.select(sa.func.count()).select_from(Payment))
    engine.dispose()
    return int(count or 0)


def test_import_bank_stores_each_payment_once(tenant_db: str, tmp_path: Path) -> None:
    path = tmp_path / "statement.xml"
    path.write_bytes(
        statement([Entry("10.00", bank_reference="A"), Entry("20.00", remittance="hello")])
    )
    first = _import(tenant_db, path)
    assert first.exit_code == 0, first.output
    assert "2 payments stored (0 matched, 2 unmatched), 0 already stored" in first.output
    again = _import(tenant_db, path)
    assert "0 payments stored (0 matched, 0 unmatched), 2 already stored" in again.output
    assert _payments(tenant_db) == 2
    official = _import(tenant_db, OFFICIAL / "camt053.v8.xml", "--tenant", "acme")
    assert "1 payments stored" in official.output
    assert _payments(tenant_db) == 3


@pytest.mark.parametrize(
    "hostile",
    [XXE, LAUGHS, statement([Entry("10.00"), Entry("ten")]), b"<Document/>"],
    ids=["xxe", "laughs", "bad-amount", "wrong-root"],
)
def test_import_bank_refuses_hostile_statements_and_stores_nothing(
    tenant_db: str, tmp_path: Path, hostile: bytes
) -> None:
    path = tmp_path / "statement.xml"
    path.write_bytes(hostile)
    result = _import(tenant_db, path)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == f"{path}: refused, nothing stored"
    assert f"{path}: line " in result.output
    assert _payments(tenant_db) == 0


def test_import_bank_refuses_an_oversized_file_unread(tenant_db: str, tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    with path.open("wb") as out:
        out.truncate(camt.MAX_BYTES + 1)  # sparse: only its size says it is too big
    result = _import(tenant_db, path)
    assert result.exit_code == 1
    assert "52,428,801 bytes; at most 52,428,800 are accepted" in result.output
    assert _payments(tenant_db) == 0


def test_dry_run_stores_nothing(tenant_db: str, tmp_path: Path) -> None:
    path = tmp_path / "statement.xml"
    path.write_bytes(statement([Entry("10.00"), Entry("2.50"), Entry("1.00", direction="DBIT")]))
    result = _import(tenant_db, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "camt.053.001.02, 2 payments in (12.50 in all); 1 entries skipped" in result.output
    assert _payments(tenant_db) == 0
    assert os.path.exists(tenant_db.removeprefix("sqlite:///"))


def test_procedo_import_bank_is_a_command_of_the_cli() -> None:
    from procedo.cli import main

    result = CliRunner().invoke(main, ["import", "bank", "--help"])
    assert result.exit_code == 0, result.output
    assert "CAMT.053" in result.output
