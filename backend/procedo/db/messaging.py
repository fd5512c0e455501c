"""Messages a tenant runs itself: its email server settings and its template library.

Tenant-scoped like every table, with row-level security on PostgreSQL (migration
0012). The SMTP password is kept only encrypted (``password_encrypted``, see
``procedo.messaging.secrets``); no code path reads it back except the sender.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procedo.db.models import Base, utcnow
from procedo.ids import new_id

SECURITY_MODES: Final = ("starttls", "tls", "none")
LANGUAGES: Final = ("nl", "de", "en")


def _known(column: str, allowed: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in allowed)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"{column}_known")


class EmailSettings(Base):
    """A tenant's SMTP server and sender; one row per tenant."""

    __tablename__ = "email_settings"
    __table_args__ = (_known("security", SECURITY_MODES), _known("default_language", LANGUAGES))
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    host: Mapped[str] = mapped_column(sa.String(253))
    port: Mapped[int]
    security: Mapped[str] = mapped_column(sa.String(16))
    username: Mapped[str | None] = mapped_column(sa.String(500))
    password_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    sender_address: Mapped[str] = mapped_column(sa.String(254))
    sender_name: Mapped[str] = mapped_column(sa.String(200), default="")
    reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    # The language of a template when the subject names none (nl, de, en).
    default_language: Mapped[str] = mapped_column(sa.String(2), default="nl")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(254), default="")


class MessageTemplate(Base):
    """A named email template of a tenant ("dunning-1"), for one subject type."""

    __tablename__ = "message_templates"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(64))
    subject_type: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(254), default="")


class MessageTemplateText(Base):
    """One language of a template: subject line, HTML body and plain-text body."""

    __tablename__ = "message_template_texts"
    __table_args__ = (sa.UniqueConstraint("template_id", "language"), _known("language", LANGUAGES))
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    template_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("message_templates.id", ondelete="CASCADE")
    )
    language: Mapped[str] = mapped_column(sa.String(2))
    subject: Mapped[str] = mapped_column(sa.String(1000))
    body_html: Mapped[str] = mapped_column(sa.Text)
    # Empty: the plain-text part is made from the HTML when sending.
    body_text: Mapped[str] = mapped_column(sa.Text, default="")
