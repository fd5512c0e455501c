"""What the office asks a client for (K3) and the returns it puts to the client (K4).

A request belongs to one client subject and to the instance and waiting position
(token) of the node that opened it; what the client sends back is kept with it:
files in ``client_request_files`` (bytes deferred, read only for a download),
filled fields and the client's decision on the request row. Tenant-scoped, with
row-level security on PostgreSQL (migration 0023).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from procedo.db.models import Base, utcnow
from procedo.ids import new_id

REQUEST_KINDS: Final = ("documents", "filing")
REQUEST_STATES: Final = ("open", "complete", "overdue", "approved", "declined", "informed")


def _known(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values)), name=f"{column}_known"
    )


class ClientRequest(Base):
    """One request to a client: documents and fields to send, or a return to approve."""

    __tablename__ = "client_requests"
    __table_args__ = (
        sa.Index("ix_client_requests_client", "client_id", "created_at"),
        sa.Index("ix_client_requests_instance", "instance_id", "status"),
        _known("kind", REQUEST_KINDS),
        _known("status", REQUEST_STATES),
    )
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("subjects.id", ondelete="CASCADE"))
    # No foreign key: the row is added by the step that may create the instance, whose
    # own row waits in the step's write buffer until the transaction ends.
    instance_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    # The waiting position of the node that asked: resumed when the client is done.
    token_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    node_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(200))
    # [{id, kind: document|field, label, mandatory}]: what is asked, in the flow's language.
    items: Mapped[list[Any]] = mapped_column(default=list)
    # {item id: {value, at}}: the fields the client filled.
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    contact_name: Mapped[str] = mapped_column(sa.String(200), default="")
    language: Mapped[str] = mapped_column(sa.String(2), default="nl")
    # Filing (K4): automatic, approval, signature or information; for whom it is filed.
    mode: Mapped[str] = mapped_column(sa.String(16), default="")
    on_behalf_of: Mapped[str] = mapped_column(sa.String(100), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    reminder_days: Mapped[int] = mapped_column(default=0)
    reminders: Mapped[int] = mapped_column(default=0)
    deadline_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    # The client's decision on a return: who (the name typed and the link's contact),
    # when and why; and the submission's receipt from the filing provider.
    decided_by: Mapped[str] = mapped_column(sa.String(200), default="")
    decided_at: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    submission: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ClientRequestFile(Base):
    """A file the client uploaded for one asked document; checked by its content first."""

    __tablename__ = "client_request_files"
    __table_args__ = (sa.Index("ix_client_request_files_request", "request_id", "item_id"),)
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("client_requests.id", ondelete="CASCADE")
    )
    item_id: Mapped[str] = mapped_column(sa.String(64))
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
