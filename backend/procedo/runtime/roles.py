"""Who holds a role for a subject: the subject's own members first, else the tenant's (K1)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.nodetypes import Assignee


def members_by_role(
    session: Session, tenant_id: uuid.UUID, subject_id: uuid.UUID, roles: Iterable[str]
) -> dict[str, list[str]]:
    """Active members' email addresses per role name, for one subject."""
    names = sorted(set(roles))
    if not names:
        return {}
    rows = session.execute(
        sa.select(m.Role.name, m.User.email, m.RoleMember.subject_id)
        .join(m.RoleMember, m.RoleMember.role_id == m.Role.id)
        .join(m.User, m.User.id == m.RoleMember.user_id)
        .where(
            m.Role.tenant_id == tenant_id,
            m.Role.name.in_(names),
            m.User.active.is_(True),
            sa.or_(m.RoleMember.subject_id.is_(None), m.RoleMember.subject_id == subject_id),
        )
    ).all()
    own: defaultdict[str, set[str]] = defaultdict(set)
    tenant_wide: defaultdict[str, set[str]] = defaultdict(set)
    for role, email, on_subject in rows:
        (own if on_subject is not None else tenant_wide)[role].add(email)
    return {role: sorted(own.get(role) or tenant_wide.get(role, set())) for role in names}


def resolve_candidates(
    session: Session, tenant_id: uuid.UUID, subject_id: uuid.UUID, assignee: Assignee
) -> list[str]:
    if assignee.user:
        return [assignee.user]
    return members_by_role(session, tenant_id, subject_id, [assignee.role]).get(assignee.role, [])
