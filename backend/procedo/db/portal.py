"""The debtor portal: links a debtor opens, what they react, and each tenant's portal settings.

A link's token is never stored: only its SHA-256 (like API tokens, a random value
needs no slow hash). Links and reactions belong to one debtor subject of one tenant;
tenant-scoped with row-level security on PostgreSQL (migration 0014).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from procedo.db.models import Base, utcnow
from procedo.db.receivables import Money
from procedo.ids import new_id

REACTION_KINDS: Final = ("copy_requested", "paid_reported", "arrangement_proposed", "promise_made")


class PortalLink(Base):
    """One link to a debtor's portal page: valid until it expires or is revoked."""

    __tablename__ = "portal_links"
    __table_args__ = (sa.Index("ix_portal_links_debtor", "debtor_id", "revoked_at"),)
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    debtor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The forms of the page post this value back: bound to the link, random, not the token.
    csrf: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    created_by: Mapped[str] = mapped_column(sa.String(254), default="system")
    # Whose page the link opens: a debtor's portal, or a client's requests (migration
    # 0023); a link of one scope is unknown to the other's page.
    scope: Mapped[str] = mapped_column(sa.String(16), default="debtor", server_default="debtor")


class PortalReaction(Base):
    """What a debtor said on the portal; the event it raised carries the same data."""

    __tablename__ = "portal_reactions"
    __table_args__ = (
        sa.Index("ix_portal_reactions_debtor", "debtor_id", "created_at"),
        sa.CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{k}'" for k in REACTION_KINDS)), name="kind_known"
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    debtor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id", ondelete="CASCADE"))
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("portal_links.id", ondelete="SET NULL")
    )
    open_item_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("open_items.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(sa.String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A proof of payment (PDF, PNG or JPEG, checked by its first bytes); read only when asked.
    proof: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    proof_type: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PortalSettings(Base):
    """What a tenant lets its debtors do on the portal (M6); defaults when there is no row."""

    __tablename__ = "portal_settings"
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    reactions: Mapped[list[Any]] = mapped_column(default=list)
    max_instalments: Mapped[int] = mapped_column(default=3)
    min_instalment_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("50.00"))
    max_term_days: Mapped[int] = mapped_column(default=90)
    promise_grace_days: Mapped[int] = mapped_column(default=2)
    # A promise not kept by its check date: "task" for staff, or "continue" (dunning resumes).
    broken_promise: Mapped[str] = mapped_column(
        sa.String(16), default="task", server_default="task"
    )
    link_days: Mapped[int] = mapped_column(default=30)
    # {language: {intro, new_link}}: the tenant's own words on the page.
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(254), default="")
