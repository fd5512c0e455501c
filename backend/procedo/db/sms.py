"""SMS and attachments: each tenant's SMS provider settings and the documents of open items.

Tenant-scoped with row-level security on PostgreSQL (migration 0018). The HTTP
provider's bearer token is kept only encrypted (``token_encrypted``, sealed with the
server key like the SMTP password, ``procedo.messaging.secretbox``); only the sender
reads it back. An open item's document (its PDF, or the UBL invoice it came as) is what
an email node attaches when a debtor asks for a copy (M4, ``procedo.messaging.attachments``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procedo.db.models import Base, utcnow

SMS_PROVIDERS: Final = ("sink", "http")


class SmsSettings(Base):
    """A tenant's SMS provider: the local sink, or an HTTP endpoint with a bearer token."""

    __tablename__ = "sms_settings"
    __table_args__ = (
        sa.CheckConstraint(
            "provider IN ({})".format(", ".join(f"'{p}'" for p in SMS_PROVIDERS)),
            name="provider_known",
        ),
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(sa.String(16))
    url: Mapped[str | None] = mapped_column(sa.String(500))
    token_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    # The sender the provider shows: an alphanumeric name (at most 11) or a number.
    sender: Mapped[str] = mapped_column(sa.String(16), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(254), default="")


class OpenItemDocument(Base):
    """The invoice document of an open item, for copies: a PDF, or a UBL invoice (XML)."""

    __tablename__ = "open_item_documents"
    open_item_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("open_items.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(200))
    media_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
