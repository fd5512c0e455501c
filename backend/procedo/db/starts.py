"""Starting recurring work (K5, K6): which run holds a period, and each client's start plan.

Tenant-scoped, with row-level security on PostgreSQL (migration 0013).
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procedo.db.models import Base, utcnow
from procedo.ids import new_id


class PeriodRun(Base):
    """The run of a flow for a subject and a period: at most one, so a start is idempotent.

    ``instance_id`` has no foreign key: instances are written at the end of their
    transaction (runtime/buffer.py), after these rows. A cancelled run's row is
    taken over by the next start for the period.
    """

    __tablename__ = "period_runs"
    __table_args__ = (sa.UniqueConstraint("flow_id", "subject_id", "period"),)
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    flow_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("flows.id", ondelete="CASCADE"))
    subject_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[str] = mapped_column(sa.String(16))
    instance_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StartPlan(Base):
    """When a flow next starts for one client, and for which period (K5).

    ``every`` month or quarter plans the following run whenever one starts; none
    starts once. ``next_run_at`` is None when nothing more is planned.
    """

    __tablename__ = "start_plans"
    __table_args__ = (
        sa.UniqueConstraint("flow_id", "subject_id"),
        sa.CheckConstraint("every IN ('month', 'quarter')", name="every_known"),
    )
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    flow_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("flows.id", ondelete="CASCADE"))
    subject_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    every: Mapped[str | None] = mapped_column(sa.String(16))
    # The next run: on this local date (the tenant's time zone), for this period.
    next_on: Mapped[dt.date | None]
    next_period: Mapped[str | None] = mapped_column(sa.String(16))
    next_run_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    last_instance_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    created_by: Mapped[str] = mapped_column(sa.String(254), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
