"""Payments in (a bank statement, an ERP, a person), matched to open items, told to flows.

``record_payments`` takes a batch in one transaction: payments whose bank
reference is stored already are skipped (a statement imported twice stores
each payment once), the rest are matched (``matching.py``) against the open
items and debtors read for the whole batch in a few queries, the items paid
are updated, and the events go out with the commit:

- ``payment.received`` on the debtor, for every payment whose debtor is known;
- ``open_item.paid`` or ``open_item.partially_paid`` on the debtor, per item paid;
- ``subject.changed`` on the debtor once per batch when its items changed, so
  flows waiting on a condition over its computed facts look again.

An unmatched payment whose debtor is not known has no subject to raise an
event on; its ``payment.received`` is raised when a person matches it
(``match_payment``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.bulk import insert_rows
from procedo.db.receivables import OpenItem, Payment
from procedo.gcpause import gc_paused
from procedo.ids import new_id
from procedo.portal import plans
from procedo.receivables import matching
from procedo.receivables.camt import Statement
from procedo.receivables.matching import Candidate, Candidates, Incoming
from procedo.runtime.buffer import buffer
from procedo.runtime.context import NotFound, Outgoing, Refusal, Runtime

PAYMENT_RECEIVED: Final = "payment.received"
ITEM_PAID: Final = "open_item.paid"
ITEM_PARTIALLY_PAID: Final = "open_item.partially_paid"
_CHUNK: Final = 500
_PAYMENTS: Final = m.Base.metadata.tables["payments"]
# The bulk insert talks to the driver directly (COPY on PostgreSQL): its errors are the driver's.
_DUPLICATE: Final = (sa.exc.IntegrityError, sqlite3.IntegrityError, psycopg.errors.IntegrityError)


@dataclass(frozen=True, slots=True)
class NewPayment:
    """A payment to record. ``bank_reference`` (the bank's or the ERP's id) makes it idempotent."""

    amount: Decimal
    currency: str
    paid_on: dt.date
    bank_reference: str | None = None
    debtor_name: str = ""
    debtor_iban: str = ""
    creditor_reference: str = ""
    remittance: str = ""
    source: str = "api"


def from_statement(statement: Statement) -> list[NewPayment]:
    """A bank statement's booked credits as payments to record (idempotent by bank reference)."""
    return [
        NewPayment(
            amount=p.amount,
            currency=p.currency,
            paid_on=p.booked_on,
            bank_reference=p.bank_reference,
            debtor_name=p.debtor_name,
            debtor_iban=p.debtor_iban,
            creditor_reference=p.creditor_reference,
            remittance=p.remittance,
            source="camt053",
        )
        for p in statement.payments
    ]


@dataclass
class Recorded:
    """What a batch did: the payments stored (new), and how many were there already."""

    payments: list[dict[str, Any]] = field(default_factory=list)
    already: int = 0

    @property
    def matched(self) -> int:
        return sum(1 for p in self.payments if p["status"] == "matched")


def record_payments(
    rt: Runtime, tenant_id: uuid.UUID, incoming: Sequence[NewPayment], actor: str
) -> Recorded:
    """Store, match and announce a batch of payments in one transaction."""
    # A statement's tens of thousands of rows, candidates and events are short-lived and
    # form no cycles: full collections scanning them all cost some 15 % (bench/payments.py).
    with gc_paused():
        try:
            return _record(rt, tenant_id, incoming, actor)
        except _DUPLICATE:
            # The same statement imported at the same moment: its payments are stored now,
            # and this attempt skips them.
            return _record(rt, tenant_id, incoming, actor)


def _record(
    rt: Runtime, tenant_id: uuid.UUID, incoming: Sequence[NewPayment], actor: str
) -> Recorded:
    result = Recorded()
    with rt.transaction() as (session, out):
        known = _known_references(session, tenant_id, incoming)
        fresh: list[NewPayment] = []
        for payment in incoming:
            if payment.bank_reference is not None:
                if payment.bank_reference in known:
                    result.already += 1
                    continue
                known.add(payment.bank_reference)
            fresh.append(payment)
        if not fresh:
            return result
        candidates = _candidates(session, tenant_id, fresh)
        now = rt.clock.now()
        events = _Events(session, out, tenant_id, now)
        changed: dict[uuid.UUID, Candidate] = {}
        for payment in fresh:
            row = _payment_row(tenant_id, payment, now)
            found = matching.match(_incoming(payment), candidates)
            row["debtor_id"] = found.debtor_id
            if found.item is not None:
                _settle(row, found.item, found.how)
                changed[found.item.id] = found.item
            events.received(row, found.item)
            if found.item is not None:
                events.item_paid(found.item, row)
            result.payments.append(row)
        insert_rows(session, _PAYMENTS, result.payments)
        _write_items(session, changed.values(), now)
        # A debtor's payment arrangement and promise follow its paid items (portal/plans.py).
        plans.after_payments(session, out, tenant_id, events.changed_debtors, now)
        events.flush()
    return result


def match_payment(
    rt: Runtime, tenant_id: uuid.UUID, payment_id: uuid.UUID, open_item: str, actor: str
) -> dict[str, Any]:
    """A person places an unmatched payment on an open item (its id or number)."""
    with rt.transaction() as (session, out):
        payment = session.get(Payment, payment_id, with_for_update=True)
        if payment is None or payment.tenant_id != tenant_id:
            raise NotFound(f"no payment {payment_id} in this tenant")
        if payment.status != "unmatched":
            raise Refusal(
                f"the payment is {payment.status} already (to item {payment.open_item_id})"
            )
        item = _item_for(session, tenant_id, open_item)
        candidate = _candidate(item)
        if not candidate.payable(payment.currency):
            raise Refusal(
                f"open item {item.number} cannot take this payment: it is {item.status}, "
                f"{item.open_amount} {item.currency} open; the payment is in {payment.currency}"
            )
        now = rt.clock.now()
        events = _Events(session, out, tenant_id, now)
        row = {c.key: getattr(payment, c.key) for c in Payment.__table__.columns}
        row["debtor_id"] = item.debtor_id
        _settle(row, candidate, matching.BY_PERSON)
        events.received(row, candidate, by=actor)
        events.item_paid(candidate, row)
        for key in ("debtor_id", "open_item_id", "status", "matched_by", "unapplied"):
            setattr(payment, key, row[key])
        _write_items(session, [candidate], now)
        plans.after_payments(session, out, tenant_id, events.changed_debtors, now)
        events.flush()
        return row


def _settle(row: dict[str, Any], item: Candidate, how: str) -> None:
    _applied, left = matching.apply(item, row["amount"])
    row.update(
        open_item_id=item.id,
        debtor_id=item.debtor_id,
        status="matched",
        matched_by=how,
        unapplied=left,
    )


def _incoming(payment: NewPayment) -> Incoming:
    return Incoming(
        amount=payment.amount,
        currency=payment.currency,
        debtor_name=payment.debtor_name,
        debtor_iban=payment.debtor_iban,
        creditor_reference=payment.creditor_reference,
        remittance=payment.remittance,
    )


def _payment_row(tenant_id: uuid.UUID, payment: NewPayment, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": new_id(),
        "tenant_id": tenant_id,
        "debtor_id": None,
        "open_item_id": None,
        "amount": payment.amount,
        "currency": payment.currency,
        "paid_on": payment.paid_on,
        # The short form lists show: the structured reference, else the text's start.
        "reference": (payment.creditor_reference or payment.remittance)[:140],
        "status": "unmatched",
        "created_at": now,
        "bank_reference": payment.bank_reference,
        "source": payment.source,
        "debtor_name": payment.debtor_name[:140],
        "debtor_iban": payment.debtor_iban[:34],
        "creditor_reference": payment.creditor_reference[:35],
        "remittance": payment.remittance,
        "matched_by": "",
        "unapplied": Decimal("0.00"),
    }


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    ordered = sorted(set(values))
    for first in range(0, len(ordered), _CHUNK):
        yield ordered[first : first + _CHUNK]


def _known_references(
    session: Session, tenant_id: uuid.UUID, incoming: Sequence[NewPayment]
) -> set[str]:
    known: set[str] = set()
    wanted = (p.bank_reference for p in incoming if p.bank_reference is not None)
    for chunk in _chunks(wanted):
        known.update(
            session.scalars(
                sa.select(Payment.bank_reference).where(
                    Payment.tenant_id == tenant_id, Payment.bank_reference.in_(chunk)
                )
            )
        )
    return known


_ITEM_COLUMNS = (
    OpenItem.id,
    OpenItem.debtor_id,
    OpenItem.number,
    OpenItem.payment_reference,
    OpenItem.open_amount,
    OpenItem.currency,
    OpenItem.status,
    OpenItem.due_date,
)


def _candidate(row: Any) -> Candidate:
    return Candidate(
        id=row.id,
        debtor_id=row.debtor_id,
        number=row.number,
        payment_reference=row.payment_reference or "",
        open_amount=row.open_amount,
        currency=row.currency,
        status=row.status,
        due_date=row.due_date,
    )


def _candidates(session: Session, tenant_id: uuid.UUID, batch: Sequence[NewPayment]) -> Candidates:
    """The open items and debtors the batch could name, in a few queries per 500 values.

    Items are locked (PostgreSQL) so two imports cannot both pay the same open amount.
    """
    payable = (OpenItem.status != "paid", OpenItem.open_amount > 0)
    items: dict[uuid.UUID, Candidate] = {}

    def read(condition: sa.ColumnElement[bool], *tenant: sa.ColumnElement[bool]) -> None:
        query = sa.select(*_ITEM_COLUMNS).where(*tenant, *payable, condition).with_for_update()
        # Core rows on the session's connection: the ORM's row processing cost more than
        # the query for a statement's thousands of candidates.
        for row in session.connection().execute(query):
            items.setdefault(row.id, _candidate(row))

    references: set[str] = set()
    words: set[str] = set()
    for payment in batch:
        incoming = _incoming(payment)
        references.update(matching.references_in(incoming))
        words.update(matching.tokens_in(incoming))
    # Each query is one index's ranges. An OR of two, or the tenant beside a debtor's id
    # (the debtors are this tenant's already), made SQLite read every item of the tenant
    # per chunk instead: quadratic in the statement's size.
    own = OpenItem.tenant_id == tenant_id
    for chunk in _chunks(references):
        read(OpenItem.payment_reference.in_(chunk), own)
        read(OpenItem.number.in_(chunk), own)
    # Numbers are compared upper-cased; ERPs write them so, and the index is on the number.
    for chunk in _chunks(words):
        read(OpenItem.number.in_(chunk), own)
    by_iban = _debtors_by_iban(session, tenant_id, {p.debtor_iban for p in batch if p.debtor_iban})
    names = {matching.name_key(p.debtor_name) for p in batch if p.debtor_name}
    by_name = _debtors_by_name(session, tenant_id, names)
    debtors = set(by_iban.values()) | set(by_name.values())
    for chunk in _chunks(debtors):
        read(OpenItem.debtor_id.in_(chunk))
    return matching.index_candidates(items.values(), by_iban, by_name)


def _debtors_by_iban(session: Session, tenant_id: uuid.UUID, ibans: set[str]) -> dict[str, Any]:
    """A debtor is known by an IBAN it paid from before (a matched payment), else none."""
    found: dict[str, set[uuid.UUID]] = {}
    for chunk in _chunks(ibans):
        rows = session.execute(
            sa.select(Payment.debtor_iban, Payment.debtor_id)
            .where(
                Payment.tenant_id == tenant_id,
                Payment.debtor_iban.in_(chunk),
                Payment.debtor_id.is_not(None),
                Payment.status == "matched",
            )
            .distinct()
        )
        for iban, debtor in rows:
            if debtor is not None:
                found.setdefault(iban, set()).add(debtor)
    # An account several debtors paid from (a parent company, a bookkeeper) names none.
    return {iban: next(iter(ids)) for iban, ids in found.items() if len(ids) == 1}


def _debtors_by_name(session: Session, tenant_id: uuid.UUID, names: set[str]) -> dict[str, Any]:
    """Debtors whose name is one of ``names`` (compared by ``name_key``), when unique."""
    if not names:
        return {}
    found: dict[str, set[uuid.UUID]] = {}
    rows = session.execute(
        sa.select(m.Subject.id, m.Subject.fields["name"].as_string()).where(
            m.Subject.tenant_id == tenant_id, m.Subject.type == "debtor"
        )
    )
    for debtor, name in rows:
        key = matching.name_key(name or "")
        if key in names:
            found.setdefault(key, set()).add(debtor)
    return {key: next(iter(ids)) for key, ids in found.items() if len(ids) == 1}


def _item_for(session: Session, tenant_id: uuid.UUID, open_item: str) -> Any:
    condition = OpenItem.number == open_item
    with contextlib.suppress(ValueError):  # a number, not an id
        condition = condition | (OpenItem.id == uuid.UUID(open_item))
    item = session.execute(
        sa.select(*_ITEM_COLUMNS)
        .where(OpenItem.tenant_id == tenant_id, condition)
        .with_for_update()
    ).first()
    if item is None:
        raise NotFound(f"open_item: no open item '{open_item}' (its id or number) in this tenant")
    return item


def _write_items(session: Session, items: Iterable[Candidate], now: dt.datetime) -> None:
    rows = [
        {"b_id": i.id, "open_amount": i.open_amount, "status": i.status, "updated_at": now}
        for i in items
    ]
    if rows:
        session.connection().execute(_UPDATE_ITEM, rows)


_UPDATE_ITEM = (
    sa.update(OpenItem)
    .where(OpenItem.id == sa.bindparam("b_id"))
    .values(
        open_amount=sa.bindparam("open_amount"),
        status=sa.bindparam("status"),
        updated_at=sa.bindparam("updated_at"),
    )
)


class _Events:
    """The batch's events, written with the transaction's buffer and sent after commit."""

    def __init__(
        self, session: Session, out: Outgoing, tenant_id: uuid.UUID, now: dt.datetime
    ) -> None:
        self.session = session
        self.out = out
        self.tenant_id = tenant_id
        self.now = now
        self.changed_debtors: dict[uuid.UUID, None] = {}

    def _raise(self, debtor_id: uuid.UUID, name: str, data: dict[str, Any]) -> None:
        event_id = new_id()
        buffer(self.session).insert(
            m.Event,
            {
                "id": event_id,
                "tenant_id": self.tenant_id,
                "subject_id": debtor_id,
                "name": name,
                "data": data,
                "status": "pending",
                "created_at": self.now,
                "processed_at": None,
            },
        )
        self.out.add("event", event_id)

    def received(self, row: dict[str, Any], item: Candidate | None, by: str = "") -> None:
        if row["debtor_id"] is None:
            return
        data = {
            "payment": str(row["id"]),
            "amount": str(row["amount"]),
            "currency": row["currency"],
            "paid_on": row["paid_on"].isoformat(),
            "open_item": item.number if item is not None else None,
            "matched_by": row["matched_by"],
        }
        if by:
            data["by"] = by
        self._raise(row["debtor_id"], PAYMENT_RECEIVED, data)

    def item_paid(self, item: Candidate, row: dict[str, Any]) -> None:
        name = ITEM_PAID if item.status == "paid" else ITEM_PARTIALLY_PAID
        data = {
            "open_item": item.number,
            "open_item_id": str(item.id),
            "open_amount": str(item.open_amount),
            "payment": str(row["id"]),
        }
        self._raise(item.debtor_id, name, data)
        self.changed_debtors[item.debtor_id] = None

    def flush(self) -> None:
        """``subject.changed`` once per debtor whose items changed: its facts did."""
        for chunk in _chunks(self.changed_debtors):
            rows = self.session.execute(
                sa.select(m.Subject.id, m.Subject.status).where(m.Subject.id.in_(chunk))
            )
            for debtor_id, status in rows:
                data = {"from": status, "to": status, "cause": "open_items"}
                self._raise(debtor_id, "subject.changed", data)
