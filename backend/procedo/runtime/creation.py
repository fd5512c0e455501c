"""Flows that start when their subject is created (K5: a VAT flow for a new client).

A flow with the trigger ``{"kind": "event", "event": "subject.created", "when": ...}``
starts for each new subject of its type that the rule matches (a client whose
products contain "Aangifte BTW"). The event is recorded only when an active flow
version listens for it, so creating subjects costs nothing more otherwise.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m

SUBJECT_CREATED: Final = "subject.created"


def created_event(
    session: Session, tenant_id: uuid.UUID, subject_type: str, by: str
) -> tuple[str, dict[str, Any]] | None:
    """The event to post with a new subject of this type, or None when no flow listens."""
    listening = session.scalar(
        sa.select(m.FlowVersion.id)
        .where(
            m.FlowVersion.tenant_id == tenant_id,
            m.FlowVersion.trigger_event == SUBJECT_CREATED,
            m.FlowVersion.subject_type == subject_type,
            m.FlowVersion.active.is_(True),
        )
        .limit(1)
    )
    return (SUBJECT_CREATED, {"by": by}) if listening is not None else None
