"""Open items and payments for a debtor in a runtime test (fact waits, golden traces)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal

from procedo.db.receivables import OpenItem
from procedo.receivables.payments import NewPayment, record_payments
from procedo.runtime.context import Runtime

# An open invoice: its number, due date and amount (all of it still open).
Invoice = tuple[str, dt.date, str]


def add_open_items(
    rt: Runtime, tenant_id: uuid.UUID, debtor_id: uuid.UUID, items: Sequence[Invoice]
) -> None:
    with rt.db.transaction() as session:
        for number, due, amount in items:
            session.add(
                OpenItem(
                    tenant_id=tenant_id,
                    debtor_id=debtor_id,
                    number=number,
                    issue_date=due - dt.timedelta(days=30),
                    due_date=due,
                    amount=Decimal(amount),
                    open_amount=Decimal(amount),
                )
            )


def pay(rt: Runtime, tenant_id: uuid.UUID, number: str, amount: str) -> None:
    """A bank payment naming the invoice in its remittance text (matched by number)."""
    payment = NewPayment(
        amount=Decimal(amount),
        currency="EUR",
        paid_on=rt.clock.now().date(),
        remittance=f"invoice {number}",
    )
    record_payments(rt, tenant_id, [payment], "bank")
