"""Letters on paper: each tenant's letterhead and the print batches letters are printed in.

A letter is an outbox row of kind ``letter`` (models.Outbox) waiting in status
``ready``; its PDF is drawn once, on first download or when it joins a batch, and kept
in ``outbox.document``, so a reprint is the letter that was sent. Tenant-scoped, with
row-level security on PostgreSQL (migration 0016).
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procedo.db.models import Base, utcnow
from procedo.ids import new_id


class Letterhead(Base):
    """The tenant's paper: its name and address on top, bank details for the QR code."""

    __tablename__ = "letterheads"
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(500), default="")
    iban: Mapped[str] = mapped_column(sa.String(34), default="")
    bic: Mapped[str] = mapped_column(sa.String(11), default="")
    footer: Mapped[str] = mapped_column(sa.String(300), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(254), default="")


class PrintBatch(Base):
    """Letters printed together: one merged PDF, marked printed once it left the printer."""

    __tablename__ = "print_batches"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    letters: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(254))
    printed_at: Mapped[dt.datetime | None]
    printed_by: Mapped[str | None] = mapped_column(sa.String(254))
