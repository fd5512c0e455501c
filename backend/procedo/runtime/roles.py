"""Who holds a role for a subject: the subject's own members first, else the tenant's (K1)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.nodetypes import Assignee
from procedo.runtime.rows import subjects

_MEMBERS = (
    sa.select(m.Role.name, m.User.email, m.RoleMember.subject_id)
    .join(m.RoleMember, m.RoleMember.role_id == m.Role.id)
    .join(m.User, m.User.id == m.RoleMember.user_id)
    .where(
        m.Role.tenant_id == sa.bindparam("tenant"),
        m.Role.name.in_(sa.bindparam("names", expanding=True)),
        m.User.active.is_(True),
    )
)
_TENANT_WIDE = _MEMBERS.where(m.RoleMember.subject_id.is_(None))
_OF_SUBJECTS = _MEMBERS.where(m.RoleMember.subject_id.in_(sa.bindparam("subjects", expanding=True)))


class _Memberships:
    """A tenant's members of some roles, read once per transaction.

    Tenant-wide members are read at once; members set per subject (K1: each
    client its own Accountant, so there may be one per subject of a large
    tenant) only for the subjects this transaction works on.
    """

    def __init__(self) -> None:
        self.tenant_wide: defaultdict[str, set[str]] = defaultdict(set)
        self.by_subject: defaultdict[tuple[str, uuid.UUID], set[str]] = defaultdict(set)
        self.covered: set[uuid.UUID] = set()

    def add(self, rows: Iterable[Any]) -> None:
        for role, email, subject_id in rows:
            if subject_id is None:
                self.tenant_wide[role].add(email)
            else:
                self.by_subject[(role, subject_id)].add(email)

    def members(self, role: str, subject_id: uuid.UUID) -> list[str]:
        return sorted(self.by_subject.get((role, subject_id)) or self.tenant_wide.get(role, set()))


def members_by_role(
    session: Session, tenant_id: uuid.UUID, subject_id: uuid.UUID, roles: Iterable[str]
) -> dict[str, list[str]]:
    """Active members' email addresses per role name, for one subject."""
    names = tuple(sorted(set(roles)))
    if not names:
        return {}
    cache: dict[tuple[uuid.UUID, tuple[str, ...]], _Memberships]
    cache = session.info.setdefault("memberships", {})
    connection = session.connection()
    memberships = cache.get((tenant_id, names))
    if memberships is None:
        memberships = cache[(tenant_id, names)] = _Memberships()
        memberships.add(connection.execute(_TENANT_WIDE, {"tenant": tenant_id, "names": names}))
    if subject_id not in memberships.covered:
        # This subject, and every other one the transaction has read: one query for a batch.
        wanted = {subject_id} | {
            s.id for s in subjects(session).values() if s.tenant_id == tenant_id
        }
        wanted -= memberships.covered
        found = connection.execute(
            _OF_SUBJECTS, {"tenant": tenant_id, "names": names, "subjects": sorted(wanted)}
        )
        memberships.add(found)
        memberships.covered |= wanted
    return {role: memberships.members(role, subject_id) for role in names}


def resolve_candidates(
    session: Session, tenant_id: uuid.UUID, subject_id: uuid.UUID, assignee: Assignee
) -> list[str]:
    if assignee.user:
        return [assignee.user]
    return members_by_role(session, tenant_id, subject_id, [assignee.role]).get(assignee.role, [])
