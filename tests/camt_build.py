"""CAMT.053 statements built for tests and the benchmark: one entry per ``Entry``."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

ACCOUNT = "NL91ABNA0417164300"


@dataclass
class Entry:
    amount: str
    direction: str = "CRDT"
    status: str = "BOOK"
    booked: str = "2026-11-30"
    debtor: str = ""
    iban: str = ""
    creditor_reference: str = ""
    remittance: str = ""
    bank_reference: str = ""
    currency: str = "EUR"
    # A batch: several transactions under one entry, each (amount, remittance).
    batch: list[tuple[str, str]] = field(default_factory=list)


def _details(entry: Entry, version: int, amount: str = "", remittance: str = "") -> str:
    parties = ""
    if entry.debtor or entry.iban:
        name = f"<Nm>{escape(entry.debtor)}</Nm>" if entry.debtor else ""
        party = f"<Pty>{name}</Pty>" if version >= 4 else name
        account = f"<DbtrAcct><Id><IBAN>{entry.iban}</IBAN></Id></DbtrAcct>" if entry.iban else ""
        parties = f"<RltdPties><Dbtr>{party}</Dbtr>{account}</RltdPties>"
    remittance = remittance or entry.remittance
    info = ""
    if remittance or entry.creditor_reference:
        strd = (
            "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
            f"<Ref>{escape(entry.creditor_reference)}</Ref></CdtrRefInf></Strd>"
            if entry.creditor_reference
            else ""
        )
        ustrd = f"<Ustrd>{escape(remittance)}</Ustrd>" if remittance else ""
        info = f"<RmtInf>{ustrd}{strd}</RmtInf>"
    tx_amount = (
        f'<AmtDtls><TxAmt><Amt Ccy="{entry.currency}">{amount}</Amt></TxAmt></AmtDtls>'
        if amount
        else ""
    )
    return f"<TxDtls>{tx_amount}{parties}{info}</TxDtls>"


def entry_xml(entry: Entry, version: int = 2) -> str:
    status = f"<Sts><Cd>{entry.status}</Cd></Sts>" if version >= 6 else f"<Sts>{entry.status}</Sts>"
    reference = f"<AcctSvcrRef>{entry.bank_reference}</AcctSvcrRef>" if entry.bank_reference else ""
    if entry.batch:
        details = "".join(_details(entry, version, a, r) for a, r in entry.batch)
    else:
        details = _details(entry, version)
    return (
        f'<Ntry>\n<Amt Ccy="{entry.currency}">{entry.amount}</Amt>\n'
        f"<CdtDbtInd>{entry.direction}</CdtDbtInd>\n{status}\n"
        f"<BookgDt><Dt>{entry.booked}</Dt></BookgDt>\n{reference}\n"
        f"<NtryDtls>{details}</NtryDtls>\n</Ntry>\n"
    )


def statement(entries: list[Entry], version: int = 2, statement_id: str = "STMT-1") -> bytes:
    body = "".join(entry_xml(entry, version) for entry in entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version:02d}">\n'
        "<BkToCstmrStmt>\n<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-12-01T06:00:00</CreDtTm></GrpHdr>\n"
        f"<Stmt>\n<Id>{statement_id}</Id>\n<CreDtTm>2026-12-01T06:00:00</CreDtTm>\n"
        f"<Acct><Id><IBAN>{ACCOUNT}</IBAN></Id></Acct>\n"
        f"{body}</Stmt>\n</BkToCstmrStmt>\n</Document>\n"
    ).encode()
