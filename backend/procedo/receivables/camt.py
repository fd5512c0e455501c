"""ISO 20022 CAMT.053 bank statements in: the booked credits, as payments to match.

A statement comes from outside (a bank portal download, an upload), so it is
read the one hardened way untrusted XML is read (``procedo/untrusted_xml.py``, as
UBL invoices are): a size limit first, any DOCTYPE or ENTITY declaration refused
unread, then lxml with entities, DTDs, the network and huge trees off. Statements are larger than
invoices (10,000 entries are some 15 MB), hence a limit of their own.

Versions camt.053.001.02 and later are read: the elements used here kept their
names, apart from two that moved in later versions (``Sts`` became ``Sts/Cd``, a
party's ``Nm`` went under ``Pty``, as in .08); both places are read. Every problem found is
collected with its line and element, and a statement with any problem is
refused whole: nothing of it is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from lxml import etree

from procedo.db.receivables import CENT
from procedo.flow.problems import Problem
from procedo.receivables.references import compact
from procedo.untrusted_xml import Wording, XmlRefused, parse_untrusted

MAX_BYTES: Final = 50 * 1024 * 1024
NAMESPACE: Final = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})$")
# ISO 20022 ActiveOrHistoricCurrencyAndAmount: at most 18 digits, 5 of them decimals.
_AMOUNT: Final = re.compile(r"^\d{1,13}(\.\d{1,5})?$")
_CURRENCY: Final = re.compile(r"^[A-Z]{3}$")
_WORDING: Final = Wording(
    document="the statement",
    needs_no_doctype="a bank statement needs none",
    encoding_hint="(or another ASCII-compatible encoding)",
    empty="the file is empty",
)


class CamtError(ValueError):
    """A statement that cannot be taken in: every problem, each with line and element."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.where()}: {p.message}" for p in problems))

    @property
    def status(self) -> int:
        """413 too large, 400 not readable XML, 422 not a usable statement."""
        codes = {p.code for p in self.problems}
        if "camt.too_large" in codes:
            return 413
        if codes & {"camt.not_xml", "camt.doctype", "camt.malformed"}:
            return 400
        return 422


@dataclass(frozen=True, slots=True)
class BankPayment:
    """One booked credit: money a debtor paid in."""

    bank_reference: str
    amount: Decimal
    currency: str
    booked_on: dt.date
    debtor_name: str = ""
    debtor_iban: str = ""
    creditor_reference: str = ""
    remittance: str = ""
    line: int | None = None


@dataclass
class Statement:
    version: str
    payments: list[BankPayment] = field(default_factory=list)
    # Entries that are not payments in: debits, entries not booked, reversals, zero.
    skipped: int = 0


def read_statement(data: bytes) -> Statement:
    """The booked credits of a CAMT.053 statement, or CamtError with every problem."""
    root = _parse(data)
    qname = etree.QName(root)
    namespace, local = qname.namespace or "", qname.localname
    version = NAMESPACE.match(namespace)
    if local != "Document" or version is None or int(version.group(1)) < 2:
        shown = local
        raise CamtError(
            [
                Problem(
                    code="camt.root",
                    message=f"the root element is {shown}"
                    + (f" in {namespace}" if namespace else " without a namespace")
                    + "; expected an ISO 20022 camt.053 Document (camt.053.001.02 or later)",
                    line=root.sourceline,
                    path=shown,
                )
            ]
        )
    reader = _Reader(namespace)
    statement = reader.read(root, f"camt.053.001.{version.group(1)}")
    if reader.problems:
        raise CamtError(reader.problems)
    return statement


def _parse(data: bytes) -> etree._Element:
    try:
        return parse_untrusted(data, MAX_BYTES, _WORDING)
    except XmlRefused as refused:
        problem = Problem(
            code=f"camt.{refused.kind}",
            message=refused.message,
            line=refused.line,
            column=refused.column,
        )
        raise CamtError([problem]) from None


class _Reader:
    """One walk over the statement; problems are collected, not raised, to report them all."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.problems: list[Problem] = []
        # Paths as tag tuples in Clark notation ({namespace}Amt), walked with lxml's C-level
        # iterchildren: ElementPath's find costs ten times as much per call.
        self._paths: dict[str, tuple[str, ...]] = {}

    def _steps(self, path: str) -> tuple[str, ...]:
        found = self._paths.get(path)
        if found is None:
            found = self._paths[path] = tuple(
                f"{{{self.namespace}}}{step}" for step in path.split("/")
            )
        return found

    def _find(self, element: etree._Element, path: str) -> etree._Element | None:
        current = element
        for tag in self._steps(path):
            child = next(current.iterchildren(tag), None)
            if child is None:
                return None
            current = child
        return current

    def _all(self, element: etree._Element, path: str) -> list[etree._Element]:
        found = [element]
        for tag in self._steps(path):
            found = [child for parent in found for child in parent.iterchildren(tag)]
        return found

    def _text(self, element: etree._Element, *paths: str) -> str:
        """The first of ``paths`` present with text, stripped; "" when none is."""
        for path in paths:
            found = self._find(element, path)
            if found is not None and (found.text or "").strip():
                return (found.text or "").strip()
        return ""

    def _problem(self, code: str, message: str, line: int | None, path: str) -> None:
        self.problems.append(Problem(code=code, message=message, line=line, path=path))

    def read(self, root: etree._Element, version: str) -> Statement:
        statement = Statement(version=version)
        body = self._find(root, "BkToCstmrStmt")
        if body is None:
            self._problem("camt.missing", "missing", root.sourceline, "Document/BkToCstmrStmt")
            return statement
        statements = self._all(body, "Stmt")
        if not statements:
            self._problem("camt.missing", "missing", body.sourceline, "BkToCstmrStmt/Stmt")
        for number, stmt in enumerate(statements, 1):
            self._statement(stmt, f"Stmt[{number}]", statement)
        return statement

    def _statement(self, stmt: etree._Element, where: str, out: Statement) -> None:
        account = self._text(stmt, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
        if not account:
            self._problem("camt.missing", "missing", stmt.sourceline, f"{where}/Acct/Id/IBAN")
        stmt_id = self._text(stmt, "Id")
        for number, entry in enumerate(self._all(stmt, "Ntry"), 1):
            place = f"{where}/Ntry[{number}]"
            self._entry(entry, place, compact(account), stmt_id, number, out)

    def _entry(
        self,
        entry: etree._Element,
        where: str,
        account: str,
        stmt_id: str,
        number: int,
        out: Statement,
    ) -> None:
        amount, currency = self._amount(entry, where)
        direction = self._text(entry, "CdtDbtInd")
        if direction not in ("CRDT", "DBIT"):
            found = self._find(entry, "CdtDbtInd")
            line = entry.sourceline if found is None else found.sourceline
            shown = f"'{direction}'" if direction else "missing"
            self._problem(
                "camt.invalid",
                f"{shown}: the credit/debit indicator must be CRDT or DBIT",
                line,
                f"{where}/CdtDbtInd",
            )
            return
        status = self._text(entry, "Sts/Cd", "Sts/Prtry", "Sts")
        reversal = self._text(entry, "RvslInd").lower() in ("true", "1")
        booked_on = self._booking_date(entry, where)
        if amount is None or booked_on is None:
            return
        if direction != "CRDT" or status != "BOOK" or reversal or amount == 0:
            out.skipped += 1
            return
        transactions = self._all(entry, "NtryDtls/TxDtls")
        entry_ref = self._text(entry, "AcctSvcrRef", "NtryRef")
        if len(transactions) <= 1:
            details = transactions[0] if transactions else None
            reference = self._reference(details, entry_ref, stmt_id, number, 0)
            payment = self._payment(entry, details, account, reference, amount, currency, booked_on)
            out.payments.append(payment)
            return
        # A batch booked as one entry: each transaction is a payment of its own amount.
        for index, details in enumerate(transactions, 1):
            place = f"{where}/NtryDtls/TxDtls[{index}]"
            if self._text(details, "CdtDbtInd") == "DBIT":
                out.skipped += 1
                continue
            tx_amount, tx_currency = self._amount(details, place, "Amt", "AmtDtls/TxAmt/Amt")
            if tx_amount is None:
                continue
            reference = self._reference(details, entry_ref, stmt_id, number, index)
            out.payments.append(
                self._payment(entry, details, account, reference, tx_amount, tx_currency, booked_on)
            )

    def _amount(
        self, element: etree._Element, where: str, *paths: str
    ) -> tuple[Decimal | None, str]:
        paths = paths or ("Amt",)
        found = next((f for f in (self._find(element, p) for p in paths) if f is not None), None)
        if found is None:
            self._problem("camt.missing", "missing", element.sourceline, f"{where}/{paths[0]}")
            return None, ""
        place = f"{where}/{paths[0]}"
        text = (found.text or "").strip()
        currency = (found.get("Ccy") or "").strip()
        if not _CURRENCY.match(currency):
            self._problem(
                "camt.invalid",
                f"the currency (attribute Ccy) '{currency}' is not an ISO 4217 code such as EUR",
                found.sourceline,
                place,
            )
            return None, ""
        if not _AMOUNT.match(text):
            self._problem(
                "camt.invalid",
                f"'{text}' is not an amount: digits with a decimal point, such as 1250.00",
                found.sourceline,
                place,
            )
            return None, ""
        amount = Decimal(text)
        if amount != amount.quantize(CENT):
            self._problem(
                "camt.invalid",
                f"'{text}' has more than two decimals; payments are kept to the cent",
                found.sourceline,
                place,
            )
            return None, ""
        return amount.quantize(CENT), currency

    def _booking_date(self, entry: etree._Element, where: str) -> dt.date | None:
        for path in ("BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt", "ValDt/DtTm"):
            found = self._find(entry, path)
            if found is None:
                continue
            text = (found.text or "").strip()
            try:
                # A date-time is taken as the bank wrote it: its date, in its own offset.
                return dt.date.fromisoformat(text[:10])
            except ValueError:
                self._problem(
                    "camt.invalid",
                    f"'{text}' is not a date (YYYY-MM-DD)",
                    found.sourceline,
                    f"{where}/{path}",
                )
                return None
        self._problem("camt.missing", "missing", entry.sourceline, f"{where}/BookgDt")
        return None

    def _reference(
        self,
        details: etree._Element | None,
        entry_ref: str,
        stmt_id: str,
        number: int,
        index: int,
    ) -> str:
        """The bank's own reference for the payment: the same in a statement sent twice."""
        tx_ref = self._text(details, "Refs/AcctSvcrRef") if details is not None else ""
        if tx_ref:
            return tx_ref
        if entry_ref:
            return entry_ref if index == 0 else f"{entry_ref}/{index}"
        return f"{stmt_id}/{number}/{index}"

    def _payment(
        self,
        entry: etree._Element,
        details: etree._Element | None,
        account: str,
        reference: str,
        amount: Decimal,
        currency: str,
        booked_on: dt.date,
    ) -> BankPayment:
        name = iban = creditor_reference = remittance = ""
        if details is not None:
            name = self._text(
                details,
                "RltdPties/Dbtr/Nm",
                "RltdPties/Dbtr/Pty/Nm",
                "RltdPties/UltmtDbtr/Nm",
                "RltdPties/UltmtDbtr/Pty/Nm",
            )
            iban = self._text(details, "RltdPties/DbtrAcct/Id/IBAN")
            refs = (
                (ref.text or "").strip() for ref in self._all(details, "RmtInf/Strd/CdtrRefInf/Ref")
            )
            creditor_reference = next((ref for ref in refs if ref), "")
            lines = ((line.text or "").strip() for line in self._all(details, "RmtInf/Ustrd"))
            remittance = " ".join(line for line in lines if line)
            remittance = remittance or self._text(details, "AddtlTxInf")
        remittance = remittance or self._text(entry, "AddtlNtryInf")
        bank_reference = f"{account}/{reference}"
        if len(bank_reference) > 200:  # the column's width; a digest is as unique
            bank_reference = f"{account}/sha256:{hashlib.sha256(reference.encode()).hexdigest()}"
        return BankPayment(
            bank_reference=bank_reference,
            amount=amount,
            currency=currency,
            booked_on=booked_on,
            debtor_name=name[:140],
            debtor_iban=compact(iban)[:34],
            creditor_reference=compact(creditor_reference)[:35],
            remittance=remittance,
            line=entry.sourceline,
        )
