"""Hand-overs collected into one email per account manager (D2): the customers of a digest.

A digest is an outbox row (template ``hand_over_digest``) due a few minutes after its
last hand-over; each customer handed over to it is a row here, listed as the email
leaves (messaging/handovers.py). The key says whose digest and for which run:
one customer is listed once per key, however often the run is repeated.
Tenant-scoped, with row-level security on PostgreSQL (migration 0026).
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procedo.db.models import Base, utcnow
from procedo.ids import new_id


class HandOverEntry(Base):
    """A customer handed over to an account manager, listed in the digest ``outbox_id``."""

    __tablename__ = "hand_over_entries"
    __table_args__ = (
        # Nobody twice in a run's digests (a repeated run, a retried step).
        sa.UniqueConstraint("tenant_id", "digest_key", "subject_id"),
        sa.Index("ix_hand_over_entries_outbox", "outbox_id", "created_at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    outbox_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("outbox.id", ondelete="CASCADE"))
    # The recipient and the run (schedule slot or time window), hashed: see messaging/handovers.
    digest_key: Mapped[str] = mapped_column(sa.String(64))
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id", ondelete="CASCADE"))
    # No foreign key: the step may create the instance, whose row waits in the write buffer.
    instance_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    name: Mapped[str] = mapped_column(sa.String(200))
    # The node's texts rendered for this customer (subject line, HTML body).
    subject: Mapped[str] = mapped_column(sa.String(500))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
