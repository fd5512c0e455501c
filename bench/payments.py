"""Matching a bank statement: seconds for 1,000 to 50,000 credits, and how it grows.

``python -m bench.payments [--sizes 1000,10000,50000] [--runs 3]`` prints a
markdown table for docs/benchmarks.md. For N credits the tenant holds N/2
debtors with 2N open items (half of them never paid: noise the queries must
not read), and the statement's credits name their item the ways debtors do:

- 40 % the item's RF creditor reference (``Strd/CdtrRefInf/Ref``);
- 30 % the invoice number in the free text (``Ustrd``);
- 20 % only the debtor's name and the exact amount;
- 10 % nothing usable: they stay unmatched.

Timed separately: reading the XML (``read_statement``), and storing, matching
and raising the events (``record_payments``: one transaction). The flows'
reactions are not part of it (the events' messages are dropped). SQLite is a
file, as embedded; PostgreSQL is the local test server (PROCEDO_BENCH_POSTGRES).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from bench.distributed import bench_schema
from procedo.db import models as m
from procedo.db.bulk import insert_rows
from procedo.db.session import Database
from procedo.receivables.camt import read_statement
from procedo.receivables.payments import from_statement, record_payments
from procedo.runtime import setup
from procedo.runtime.context import MessageKind, Runtime

POSTGRES = os.environ.get(
    "PROCEDO_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


class _Drop:
    """The events' messages go nowhere: the flows' work is not what is measured."""

    def send(self, kind: MessageKind, idents: Sequence[uuid.UUID]) -> None:
        return None


def rf(body: str) -> str:
    """An ISO 11649 reference for ``body``: check digits so the whole is 1 mod 97."""
    number = int("".join(str(int(char, 36)) for char in body + "RF00"))
    return f"RF{98 - number % 97:02d}{body}"


def _amount(n: int) -> Decimal:
    return Decimal(100 + n % 9000) + Decimal(n % 100).scaleb(-2)


def _entry(n: int, text: str, reference: str, debtor: str, amount: Decimal) -> str:
    strd = f"<Strd><CdtrRefInf><Ref>{reference}</Ref></CdtrRefInf></Strd>" if reference else ""
    ustrd = f"<Ustrd>{text}</Ustrd>" if text else ""
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>2026-11-30</Dt></BookgDt><AcctSvcrRef>R{n}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>{debtor}</Nm></Dbtr></RltdPties>"
        f"<RmtInf>{ustrd}{strd}</RmtInf></TxDtls></NtryDtls></Ntry>\n"
    )


def statement(size: int) -> bytes:
    entries = []
    for n in range(size):
        kind = n % 10
        debtor = f"Debtor {n // 2}"
        if kind < 4:
            entries.append(_entry(n, "", rf(f"P{n}"), debtor, _amount(n)))
        elif kind < 7:
            entries.append(_entry(n, f"Invoice INV-{n} thank you", "", debtor, _amount(n)))
        elif kind < 9:
            entries.append(_entry(n, "payment", "", debtor, _amount(n)))
        else:
            entries.append(_entry(n, "misc", "", "Unknown Payer", Decimal("12.34")))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>M</MsgId><CreDtTm>2026-12-01T06:00:00</CreDtTm></GrpHdr><Stmt><Id>S</Id>"
        "<CreDtTm>2026-12-01T06:00:00</CreDtTm><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id>"
        "</Acct>\n" + "".join(entries) + "</Stmt></BkToCstmrStmt></Document>\n"
    ).encode()


def _books(rt: Runtime, size: int) -> uuid.UUID:
    """A tenant with size/2 debtors and 2 x size open items (items P/INV-n and noise)."""
    tenant = setup.create_tenant(rt, "Bench", f"bench{uuid.uuid4().hex[:8]}").id
    now = dt.datetime.now(dt.UTC)
    debtors = [uuid.uuid4() for _ in range(size // 2)]
    subjects = [
        {
            "id": ident,
            "tenant_id": tenant,
            "type": "debtor",
            "key": f"D{index}",
            "status": "active",
            "fields": {"name": f"Debtor {index}"},
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for index, ident in enumerate(debtors)
    ]
    items = []
    for n in range(2 * size):
        amount = _amount(n)
        items.append(
            {
                "id": uuid.uuid4(),
                "tenant_id": tenant,
                "debtor_id": debtors[(n // 2) % len(debtors)],
                "kind": "invoice",
                "number": f"INV-{n}",
                "payment_reference": rf(f"P{n}"),
                "issue_date": dt.date(2026, 9, 1),
                "due_date": dt.date(2026, 10, 1) + dt.timedelta(days=n % 60),
                "amount": amount,
                "open_amount": amount,
                "currency": "EUR",
                "status": "open",
                "created_at": now,
                "updated_at": now,
            }
        )
    with rt.db.transaction() as session:
        insert_rows(session, m.Base.metadata.tables["subjects"], subjects)
        insert_rows(session, m.Base.metadata.tables["open_items"], items)
    return tenant


def one_run(url: str, size: int, data: bytes) -> tuple[float, float, float, int]:
    """Seconds to read the statement, to store and match it (wall, and this process's CPU
    time: the machine is shared, and CPU time moves less with others' load), matched."""
    db = Database(url)
    db.create_all()
    rt = Runtime(db=db, dispatcher=_Drop())
    try:
        tenant = _books(rt, size)
        started = time.perf_counter()
        read = read_statement(data)
        parsed = time.perf_counter()
        cpu = time.process_time()
        incoming = from_statement(read)
        recorded = record_payments(rt, tenant, incoming, "bench")
        done = time.perf_counter()
        cpu = time.process_time() - cpu
        assert len(recorded.payments) == size
        return parsed - started, done - parsed, cpu, recorded.matched
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        "| database | credits | read the XML | store, match, events | its CPU time here "
        "| all, per 1,000 credits | matched |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in ("SQLite", "PostgreSQL"):
        for size in sizes:
            data = statement(size)
            reads, matches, cpus, matched = [], [], [], 0
            for _ in range(args.runs):
                if name == "SQLite":
                    with tempfile.TemporaryDirectory() as folder:
                        url = f"sqlite:///{Path(folder) / 'bench.db'}"
                        read, match, cpu, matched = one_run(url, size, data)
                else:
                    with bench_schema(POSTGRES) as url:
                        read, match, cpu, matched = one_run(url, size, data)
                reads.append(read)
                matches.append(match)
                cpus.append(cpu)
            total = statistics.median(matches) + statistics.median(reads)
            print(
                f"| {name} | {size:,} ({len(data) / 1e6:.1f} MB) "
                f"| {statistics.median(reads):.2f} s "
                f"| {statistics.median(matches):.2f} s (min {min(matches):.2f}, "
                f"max {max(matches):.2f}) | {statistics.median(cpus):.2f} s "
                f"| {total / size * 1000:.2f} s | {matched:,} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
