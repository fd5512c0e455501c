"""Payments: record one (by hand, from an ERP), upload a bank statement, list, match by hand.

Matching and events are ``procedo.receivables.payments``'s; a payment no rule
placed waits on ``GET /payments?status=unmatched`` until a person posts
``/payments/{id}/match`` with the open item it pays.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, RawBody

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.db.receivables import CENT, PAYMENT_STATUSES, OpenItem, Payment
from procedo.receivables.camt import MAX_BYTES as CAMT_MAX_BYTES

Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
# Amounts travel as decimal strings ("1250.00"), never floats: money stays exact.
Amount = Annotated[str, msgspec.Meta(pattern=r"^\d{1,16}(\.\d{1,2})?$")]


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    paid_on: dt.date
    currency: Currency = "EUR"
    # The sender's own id for the payment: sending it again stores nothing twice.
    bank_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    debtor_name: Annotated[str, msgspec.Meta(max_length=140)] = ""
    debtor_iban: Annotated[str, msgspec.Meta(max_length=34)] = ""
    creditor_reference: Annotated[str, msgspec.Meta(max_length=35)] = ""
    remittance: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class MatchIn(msgspec.Struct, forbid_unknown_fields=True):
    # The open item's id or its number.
    open_item: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class PaymentOut(msgspec.Struct):
    id: uuid.UUID
    status: str
    amount: str
    currency: str
    paid_on: dt.date
    debtor_id: uuid.UUID | None
    open_item_id: uuid.UUID | None
    open_item: str | None
    matched_by: str
    unapplied: str
    debtor_name: str
    debtor_iban: str
    creditor_reference: str
    remittance: str
    bank_reference: str | None
    source: str
    created_at: dt.datetime


class StatementOut(msgspec.Struct):
    version: str
    stored: int
    matched: int
    unmatched: int
    already_stored: int
    skipped: int
    payments: list[PaymentOut]


def _out(row: Any, number: str | None) -> PaymentOut:
    return PaymentOut(
        id=row["id"],
        status=row["status"],
        amount=str(Decimal(row["amount"]).quantize(CENT)),
        currency=row["currency"],
        paid_on=row["paid_on"],
        debtor_id=row["debtor_id"],
        open_item_id=row["open_item_id"],
        open_item=number,
        matched_by=row["matched_by"],
        unapplied=str(Decimal(row["unapplied"]).quantize(CENT)),
        debtor_name=row["debtor_name"],
        debtor_iban=row["debtor_iban"],
        creditor_reference=row["creditor_reference"],
        remittance=row["remittance"],
        bank_reference=row["bank_reference"],
        source=row["source"],
        created_at=row["created_at"],
    )


def _with_numbers(rt: RuntimeDep, rows: list[dict[str, Any]]) -> list[PaymentOut]:
    """Each payment with its open item's number (one query for the page)."""
    ids = {row["open_item_id"] for row in rows if row["open_item_id"] is not None}
    numbers: dict[uuid.UUID, str] = {}
    if ids:
        with rt.db.read() as session:
            query = sa.select(OpenItem.id, OpenItem.number).where(OpenItem.id.in_(ids))
            numbers = {row.id: row.number for row in session.execute(query)}
    return [_out(row, numbers.get(row["open_item_id"])) for row in rows]


_COLUMNS = [column.key for column in Payment.__table__.columns]


def _payment_rows(rt: RuntimeDep, query: sa.Select[Any]) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [
            {key: getattr(payment, key) for key in _COLUMNS} for payment in session.scalars(query)
        ]


class PaymentController(Controller):
    path = "/payments"
    tags = ["payments"]

    @get("/", sync_to_thread=True)
    def list_payments(
        self,
        caller: CallerDep,
        rt: RuntimeDep,
        status: FromQuery[str | None] = None,
        debtor: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[PaymentOut]:
        """Payments, newest first; `?status=unmatched` is the list a person resolves."""
        caller.internal()
        if status is not None and status not in PAYMENT_STATUSES:
            raise ApiError(422, f"status: one of {', '.join(PAYMENT_STATUSES)} (was '{status}')")
        query = sa.select(Payment).where(Payment.tenant_id == caller.tenant_id)
        if status is not None:
            query = query.where(Payment.status == status)
        if debtor is not None:
            query = query.where(Payment.debtor_id == debtor)
        query = query.order_by(Payment.paid_on.desc(), Payment.id.desc()).limit(limit)
        return _with_numbers(rt, _payment_rows(rt, query.offset(offset)))

    @post("/", sync_to_thread=True, status_code=201)
    def record_payment(
        self, data: JSONBody[PaymentIn], caller: CallerDep, rt: RuntimeDep
    ) -> Response[PaymentOut]:
        """Record one payment (by hand, or from an ERP); it is matched like a bank's.

        With a `bank_reference` the call is idempotent: sent again, the stored payment
        is answered with 200 (201 when new) and nothing is stored twice.
        """
        caller.require("designer", "member")
        from procedo.receivables.payments import NewPayment, record_payments

        payment = NewPayment(
            amount=Decimal(data.amount).quantize(CENT),
            currency=data.currency,
            paid_on=data.paid_on,
            bank_reference=data.bank_reference,
            debtor_name=data.debtor_name,
            debtor_iban=data.debtor_iban.replace(" ", "").upper(),
            creditor_reference=data.creditor_reference,
            remittance=data.remittance,
            source="api",
        )
        if payment.amount <= 0:
            raise ApiError(422, "amount: a payment received is more than 0.00")
        recorded = record_payments(rt, caller.tenant_id, [payment], caller.actor)
        if recorded.payments:
            return Response(_with_numbers(rt, recorded.payments)[0], status_code=201)
        query = sa.select(Payment).where(
            Payment.tenant_id == caller.tenant_id, Payment.bank_reference == data.bank_reference
        )
        return Response(_with_numbers(rt, _payment_rows(rt, query))[0], status_code=200)

    @post("/statements", sync_to_thread=True, request_max_body_size=CAMT_MAX_BYTES + 1024)
    def upload_statement(
        self, request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, rt: RuntimeDep
    ) -> StatementOut:
        """A CAMT.053 bank statement (application/xml, 50 MB at most), as `procedo import bank`.

        A statement with any problem is refused with each problem's line and element,
        and nothing of it is stored; sent again, nothing is stored twice.
        """
        caller.require("designer", "member")
        media_type, _options = request.content_type
        if media_type not in ("application/xml", "text/xml"):
            raise ApiError(415, f"send the statement as application/xml (was '{media_type}')")
        from procedo.receivables.camt import CamtError, read_statement
        from procedo.receivables.payments import from_statement, record_payments

        try:
            statement = read_statement(body)
        except CamtError as exc:
            raise ApiError(exc.status, str(exc), problems=exc.problems) from None
        incoming = from_statement(statement)
        recorded = record_payments(rt, caller.tenant_id, incoming, caller.actor)
        stored = len(recorded.payments)
        return StatementOut(
            version=statement.version,
            stored=stored,
            matched=recorded.matched,
            unmatched=stored - recorded.matched,
            already_stored=recorded.already,
            skipped=statement.skipped,
            payments=_with_numbers(rt, recorded.payments),
        )

    @get("/{payment_id:uuid}", sync_to_thread=True)
    def get_payment(
        self, payment_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> PaymentOut:
        caller.internal()
        query = sa.select(Payment).where(
            Payment.tenant_id == caller.tenant_id, Payment.id == payment_id
        )
        rows = _payment_rows(rt, query)
        if not rows:
            raise ApiError(404, f"no payment {payment_id} in this tenant")
        return _with_numbers(rt, rows)[0]

    @post("/{payment_id:uuid}/match", sync_to_thread=True, status_code=200)
    def match(
        self,
        payment_id: FromPath[uuid.UUID],
        data: JSONBody[MatchIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> PaymentOut:
        """Place an unmatched payment on an open item (its id or number): a person's call.

        The item's open amount goes down (paid when nothing is left); the events
        are those of a matched payment (`payment.received`, `open_item.paid` ...).
        """
        caller.require("designer", "member")
        from procedo.receivables.payments import match_payment

        row = match_payment(rt, caller.tenant_id, payment_id, data.open_item, caller.actor)
        return _with_numbers(rt, [row])[0]
