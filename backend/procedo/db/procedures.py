"""Collection procedures: which flows are procedures, and the worksheet's own state.

A procedure is a published flow on the debtor registered here as ``primary`` (at most
one runs per debtor, the first whose ``rule`` holds in ``priority`` order, else the
``default``) or ``secondary`` (started when its ``rule`` holds, stopped by the flow's
``stop_when``). A worksheet entry is a proposed action's task (nodes/procedure_action.py)
that was postponed or undone: what the task row itself does not say. Tenant-scoped, with
row-level security on PostgreSQL (migration 0020). See docs/procedures.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procedo.db.models import Base, JSONType, utcnow

PROCEDURE_KINDS = ("primary", "secondary")


class Procedure(Base):
    __tablename__ = "procedures"
    __table_args__ = (sa.CheckConstraint("kind IN ('primary', 'secondary')", name="kind_known"),)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    flow_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    # Primary: lower first. Secondary procedures have no order among themselves.
    priority: Mapped[int] = mapped_column(default=100)
    # The rule tree (rules.model.Rule as JSON); None on the primary default.
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    is_default: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(254), default="")


class WorksheetEntry(Base):
    """A proposed action put off to a date, or performed and then undone."""

    __tablename__ = "worksheet_entries"
    task_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    postponed_until: Mapped[dt.date | None]
    postponed_by: Mapped[str | None] = mapped_column(sa.String(254))
    undone_at: Mapped[dt.datetime | None]
    undone_by: Mapped[str | None] = mapped_column(sa.String(254))
