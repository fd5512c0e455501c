"""Payment arrangements (M5) and promises to pay (M3) a debtor made on the portal.

An arrangement holds its instalment plan (one row per instalment: due date, amount,
what is paid of it); a promise its date and the last day of its grace. Both belong to
one debtor subject of one tenant, with row-level security on PostgreSQL (migration 0021).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procedo.db.models import Base, utcnow
from procedo.db.receivables import Money
from procedo.ids import new_id

# review: outside the tenant's bounds, waiting for staff; active: running; broken: an
# instalment was missed; completed: all paid; replaced: the debtor proposed a newer one;
# declined: staff declined it after review (accepted, it is active).
ARRANGEMENT_STATES: Final = ("review", "active", "broken", "completed", "replaced", "declined")
# active until its check date; kept: paid by then; broken: not paid by then; replaced.
PROMISE_STATES: Final = ("active", "kept", "broken", "replaced")


def _states(column: str, states: tuple[str, ...]) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        "{} IN ({})".format(column, ", ".join(f"'{s}'" for s in states)), name=f"{column}_known"
    )


class PaymentArrangement(Base):
    """A debtor's proposal to pay all that is open in instalments, and where it stands."""

    __tablename__ = "payment_arrangements"
    __table_args__ = (
        sa.Index("ix_payment_arrangements_debtor", "debtor_id", "created_at"),
        sa.Index("ix_payment_arrangements_status", "status"),
        _states("status", ARRANGEMENT_STATES),
    )
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    debtor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id", ondelete="CASCADE"))
    reaction_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("portal_reactions.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(sa.String(16))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(sa.String(3))
    # The invoice numbers it covers, and which of the tenant's bounds it exceeded.
    open_items: Mapped[list[Any]] = mapped_column(default=list)
    exceeded: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    # Staff's decision on one in review (migration 0027): who, when, and why declined.
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(sa.String(254))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)


class ArrangementInstalment(Base):
    """One instalment of an arrangement; ``paid_amount`` grows as the debtor's items are paid."""

    __tablename__ = "arrangement_instalments"
    __table_args__ = (sa.UniqueConstraint("arrangement_id", "number"),)
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    arrangement_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("payment_arrangements.id", ondelete="CASCADE")
    )
    number: Mapped[int]
    due_date: Mapped[dt.date]
    amount: Mapped[Decimal] = mapped_column(Money())
    paid_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    paid_at: Mapped[dt.datetime | None]


class PaymentPromise(Base):
    """A debtor's promise to pay all that is open by ``pay_on``; checked after ``check_on``."""

    __tablename__ = "payment_promises"
    __table_args__ = (
        sa.Index("ix_payment_promises_debtor", "debtor_id", "created_at"),
        sa.Index("ix_payment_promises_status", "status", "check_on"),
        _states("status", PROMISE_STATES),
    )
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    debtor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id", ondelete="CASCADE"))
    reaction_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("portal_reactions.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(sa.String(16))
    pay_on: Mapped[dt.date]
    check_on: Mapped[dt.date]
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(sa.String(3))
    open_items: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
