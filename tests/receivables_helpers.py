"""Open items and payments for a debtor in a runtime test (fact waits, golden traces)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

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


def overdue_debtor(
    rt: Runtime,
    tenant_id: uuid.UUID,
    key: str,
    fields: dict[str, Any],
    overdue_days: int,
    on: dt.date,
) -> uuid.UUID:
    """A debtor whose one open invoice (100.00) is ``overdue_days`` overdue ``on`` that day.

    Schedules select on the computed ``oldest_overdue_days``, so a debtor is made overdue
    by an invoice, not by storing the number.
    """
    from procedo.runtime import setup

    subject = setup.upsert_subject(rt, tenant_id, "debtor", key, fields)
    due = on - dt.timedelta(days=overdue_days)
    add_open_items(rt, tenant_id, subject.id, [(f"{key}-1", due, "100.00")])
    return subject.id
