"""Scheduled runs as records (D1, D5): what each run selected, acted on and skipped, and why.

``ScheduleAct`` is the idempotency key of a scheduled action: one row per workflow,
customer and slot, written in the run's transaction with the instance it started. A
repeated run of the same slot (a crash, a retry, a second scheduler) finds the row and
acts on nobody twice; a later workflow of the same slot finds an earlier one's row and
skips the customer (priority, D5) unless its trigger says ``also_if_acted_on``.
Tenant-scoped, with row-level security on PostgreSQL (migration 0017).
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procedo.db.models import Base, utcnow
from procedo.ids import new_id


def _tenant() -> Mapped[uuid.UUID]:
    return mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class ScheduleRun(Base):
    """One run of a scheduled workflow: its slot, and how many it selected and acted on."""

    __tablename__ = "schedule_runs"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = _tenant()
    flow_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("flows.id", ondelete="CASCADE"))
    version: Mapped[int]
    # The slot the run is for (the schedule's due time; "run now": the moment it ran).
    slot_at: Mapped[dt.datetime]
    ran_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    manual: Mapped[bool] = mapped_column(default=False)
    selected: Mapped[int]
    acted: Mapped[int]
    skipped: Mapped[int]

    __table_args__ = (sa.Index("ix_schedule_runs_flow_ran", "flow_id", "ran_at"),)


class ScheduleRunSubject(Base):
    """A customer a run selected: acted on, or skipped with the reason (a code, see below)."""

    __tablename__ = "schedule_run_subjects"
    run_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("schedule_runs.id", ondelete="CASCADE"), primary_key=True
    )
    subject_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    # The run's tenant (row-level security); no key of its own: the run's cascades. Each
    # foreign key is a check per row, and a slot of D6's size writes tens of thousands.
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    # acted | open (an instance of the workflow is still open) | earlier (acted on by
    # ``by_flow`` in this slot) | repeated (this workflow acted on it in this slot
    # already) | refused (the start was refused: ``detail`` says why)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    by_flow: Mapped[str | None] = mapped_column(sa.String(200))
    detail: Mapped[str | None] = mapped_column(sa.String(500))


class ScheduleAct(Base):
    """A workflow acted on a customer in a slot: at most once (the primary key)."""

    __tablename__ = "schedule_acts"
    # The flow and tenant are the run's (which cascades): no foreign keys of their own.
    flow_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    slot_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    run_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("schedule_runs.id", ondelete="CASCADE"))
    instance_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)

    # Later workflows of the slot look up who acted on their customers in it.
    __table_args__ = (sa.Index("ix_schedule_acts_slot", "tenant_id", "slot_at", "subject_id"),)
