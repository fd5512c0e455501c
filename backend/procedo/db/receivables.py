"""Receivables: a debtor's open items (sales invoices, credit notes) and the payments in.

A debtor is a subject of type ``debtor`` (``subjects`` row); its open items and
payments are rows here with a real foreign key to that subject, so facts about
a debtor ("oldest overdue item", "debt amount") are set-based SQL over indexed
columns, not JSON. Tenant-scoped like every table, with row-level security on
PostgreSQL (migration 0010).

Amounts are ``Money``: exact to the cent. PostgreSQL keeps ``numeric(18, 2)``;
SQLite, which has no decimal type, keeps whole cents as integers, so sums stay
exact there too. Credit notes carry negative amounts: a debtor's debt is the
plain sum of its items' open amounts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procedo.db.models import Base, utcnow
from procedo.ids import new_id

ITEM_STATUSES: Final = ("open", "dispute", "promise", "payment_plan", "outsourced", "paid")
ITEM_KINDS: Final = ("invoice", "credit_note")
PAYMENT_STATUSES: Final = ("unmatched", "matched")
CENT: Final = Decimal("0.01")


class Money(sa.types.TypeDecorator[Decimal]):
    """An amount exact to the cent: numeric(18, 2), or whole cents as an integer on SQLite."""

    impl = sa.Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(18, 2))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value)
        if amount != amount.quantize(CENT):
            raise ValueError(f"{value!r} has more than two decimals: amounts are kept to the cent")
        if dialect.name == "sqlite":
            return int(amount.scaleb(2))
        return amount

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-2)
        return Decimal(value).quantize(CENT)


def _status_check(column: str, allowed: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in allowed)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"{column}_known")


class OpenItem(Base):
    """A sales invoice or credit note of a debtor, with what is still open of it."""

    __tablename__ = "open_items"
    __table_args__ = (
        # The ERP's document number is the import's upsert key.
        sa.UniqueConstraint("tenant_id", "number"),
        # A debtor's items by status and due date: every computed fact reads this range.
        sa.Index("ix_open_items_debtor", "debtor_id", "status", "due_date"),
        sa.Index("ix_open_items_payment_reference", "tenant_id", "payment_reference"),
        # The unpaid items by status and due date, for set-based selection: "some item
        # overdue more than N days" is a range of it per status (facts/shortcuts.py). Paid
        # items, most of a ledger, are left out: it stays small, a paid item costs nothing.
        sa.Index(
            "ix_open_items_unpaid_due",
            "status",
            "due_date",
            "debtor_id",
            postgresql_where=sa.text("status <> 'paid'"),
            sqlite_where=sa.text("status <> 'paid'"),
        ),
        _status_check("status", ITEM_STATUSES),
        _status_check("kind", ITEM_KINDS),
    )
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    debtor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16), default="invoice")
    number: Mapped[str] = mapped_column(sa.String(64))
    issue_date: Mapped[dt.date]
    due_date: Mapped[dt.date]
    amount: Mapped[Decimal] = mapped_column(Money())
    open_amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    # The structured reference printed on the invoice (RF or betalingskenmerk), for
    # matching payments (receivables/matching.py; migration 0011).
    payment_reference: Mapped[str | None] = mapped_column(sa.String(35))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Payment(Base):
    """Money received: from a debtor, for an item when matched; unmatched ones wait for a person."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.Index("ix_payments_debtor", "debtor_id", "paid_on"),
        sa.Index("ix_payments_tenant_status", "tenant_id", "status", "paid_on"),
        sa.UniqueConstraint("tenant_id", "bank_reference"),
        sa.Index("ix_payments_debtor_iban", "tenant_id", "debtor_iban"),
        _status_check("status", PAYMENT_STATUSES),
    )
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    # Deleting a debtor puts its payments back on the unmatched list; the money came in.
    debtor_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("subjects.id", ondelete="SET NULL")
    )
    open_item_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("open_items.id", ondelete="SET NULL"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    paid_on: Mapped[dt.date]
    # The remittance information as the bank gave it (structured reference or free text).
    reference: Mapped[str] = mapped_column(sa.String(140), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="unmatched")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # From here: migration 0011 (receivables/payments.py). The bank's reference makes a
    # statement imported twice store each payment once (unique per tenant).
    bank_reference: Mapped[str | None] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(16), default="api")
    debtor_name: Mapped[str] = mapped_column(sa.String(140), default="")
    debtor_iban: Mapped[str] = mapped_column(sa.String(34), default="")
    creditor_reference: Mapped[str] = mapped_column(sa.String(35), default="")
    remittance: Mapped[str] = mapped_column(sa.Text, default="")
    # How it was matched (creditor_reference, invoice_number, amount_debtor, person).
    matched_by: Mapped[str] = mapped_column(sa.String(32), default="")
    # What an overpayment left over after paying its item in full.
    unapplied: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
