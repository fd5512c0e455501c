"""Roles and their members, tenant-wide or for one subject (K1: each client its Accountant)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
import sqlalchemy as sa
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.orm import Session

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.db import models as m
from procedo.runtime import standard_roles
from procedo.runtime.context import NotFound

RoleName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    name: RoleName
    label: Annotated[str, msgspec.Meta(max_length=200)] = ""


class RoleChange(msgspec.Struct, forbid_unknown_fields=True):
    """A new name (flows follow: runtime/standard_roles.py) and/or a new label."""

    name: RoleName | None = None
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class RoleChanged(msgspec.Struct):
    name: str
    label: str
    # Drafts now naming the new name; flows whose published version still names the
    # old one: publish them to finish the rename.
    drafts_updated: list[str]
    to_publish: list[str]


class RoleUseOut(msgspec.Struct):
    """What still needs a role: flows naming it (a draft or a version in use), open tasks."""

    flows: list[str]
    open_tasks: int


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    # For one subject only; omitted: tenant-wide.
    subject_id: uuid.UUID | None = None


class MembersIn(msgspec.Struct, forbid_unknown_fields=True):
    """Bulk assignment: several members at once, all or none."""

    members: list[MemberIn]


class MemberOut(msgspec.Struct):
    email: str
    subject_id: uuid.UUID | None
    # For the screens: the user's name, and which subject a per-subject member is for.
    name: str = ""
    subject: SubjectRef | None = None
    # A deactivated user stays a member but gets no work (runtime/roles.py).
    active: bool = True


class SubjectRef(msgspec.Struct):
    """A subject as a picker shows it: its key and, when its fields have one, its name."""

    id: uuid.UUID
    type: str
    key: str
    name: str = ""


class RoleOut(msgspec.Struct):
    name: str
    label: str
    members: list[MemberOut]
    # A standard role's label per language (nl, de, en); {} for the office's own roles.
    labels: dict[str, str] = {}


def _role(session: Session, tenant_id: uuid.UUID, name: str) -> m.Role:
    role = session.scalar(
        sa.select(m.Role).where(m.Role.tenant_id == tenant_id, m.Role.name == name)
    )
    if role is None:
        raise NotFound(f"no role '{name}' in this tenant")
    return role


def subject_ref(subject: m.Subject) -> SubjectRef:
    name = subject.fields.get("name") if isinstance(subject.fields, dict) else None
    return SubjectRef(subject.id, subject.type, subject.key, name if isinstance(name, str) else "")


def _members(session: Session, role_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[MemberOut]]:
    found: dict[uuid.UUID, list[MemberOut]] = {ident: [] for ident in role_ids}
    rows = session.execute(
        sa.select(m.RoleMember.role_id, m.User.email, m.User.name, m.User.active, m.Subject)
        .join(m.User, m.User.id == m.RoleMember.user_id)
        .outerjoin(m.Subject, m.Subject.id == m.RoleMember.subject_id)
        .where(m.RoleMember.role_id.in_(role_ids))
        .order_by(m.User.email)
    )
    for role_id, email, name, active, subject in rows:
        ref = subject_ref(subject) if subject is not None else None
        found[role_id].append(MemberOut(email, ref.id if ref else None, name, ref, active))
    return found


class RoleController(Controller):
    path = "/roles"
    tags = ["roles"]

    @get("/", sync_to_thread=True)
    def list_roles(
        self, caller: CallerDep, rt: RuntimeDep, limit: Limit = 100, offset: Offset = 0
    ) -> list[RoleOut]:
        caller.internal()
        with rt.db.read() as session:
            roles = session.scalars(
                sa.select(m.Role)
                .where(m.Role.tenant_id == caller.tenant_id)
                .order_by(m.Role.name)
                .limit(limit)
                .offset(offset)
            ).all()
            members = _members(session, [r.id for r in roles])
        return [
            RoleOut(r.name, r.label, members[r.id], standard_roles.labels_of(r.name)) for r in roles
        ]

    @post("/", sync_to_thread=True)
    def create_role(self, data: JSONBody[RoleIn], caller: CallerDep, rt: RuntimeDep) -> RoleOut:
        caller.require()
        with rt.transaction() as (session, _out):
            taken = session.scalar(
                sa.select(m.Role.id).where(
                    m.Role.tenant_id == caller.tenant_id, m.Role.name == data.name
                )
            )
            if taken is not None:
                raise ApiError(409, f"a role '{data.name}' exists already")
            session.add(
                m.Role(tenant_id=caller.tenant_id, name=data.name, label=data.label or data.name)
            )
        return RoleOut(data.name, data.label or data.name, [])

    @get("/subjects", sync_to_thread=True)
    def find_subjects(
        self,
        caller: CallerDep,
        rt: RuntimeDep,
        q: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
        type_name: Annotated[str | None, QueryParameter(name="type", max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 20,
    ) -> list[SubjectRef]:
        """The roles page's subject picker (admin): subjects whose key or name contains
        ``q``; without ``q``, the subjects that have members of their own."""
        caller.require()
        query = sa.select(m.Subject).where(m.Subject.tenant_id == caller.tenant_id)
        if q is None:
            with_own = sa.select(m.RoleMember.subject_id).where(
                m.RoleMember.tenant_id == caller.tenant_id, m.RoleMember.subject_id.is_not(None)
            )
            query = query.where(m.Subject.id.in_(with_own))
        else:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            name = m.Subject.fields["name"].as_string()
            query = query.where(
                sa.or_(
                    m.Subject.key.ilike(pattern, escape="\\"),
                    name.ilike(pattern, escape="\\"),
                )
            )
        if type_name is not None:
            query = query.where(m.Subject.type == type_name)
        query = query.order_by(m.Subject.type, m.Subject.key).limit(limit)
        with rt.db.read() as session:
            return [subject_ref(s) for s in session.scalars(query)]

    @patch("/{name:str}", sync_to_thread=True)
    def change_role(
        self, name: FromPath[str], data: JSONBody[RoleChange], caller: CallerDep, rt: RuntimeDep
    ) -> RoleChanged:
        """Rename and/or relabel a role (admin). Drafts naming it follow the new name; flows
        whose published version names it get such a draft and are listed in to_publish."""
        caller.require()
        done = standard_roles.change_role(
            rt, caller.tenant_id, name, data.name, data.label, caller.actor
        )
        return RoleChanged(done.name, done.label, done.drafts_updated, done.to_publish)

    @get("/{name:str}/use", sync_to_thread=True)
    def role_use(self, name: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> RoleUseOut:
        """What keeps a role from being deleted (admin): empty flows and no open tasks
        mean DELETE may go ahead."""
        caller.require()
        with rt.db.read() as session:
            _role(session, caller.tenant_id, name)
            use = standard_roles.role_use(session, caller.tenant_id, name)
        return RoleUseOut(use.flows, use.open_tasks)

    @delete("/{name:str}", sync_to_thread=True)
    def remove_role(self, name: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> None:
        """Delete a role and its members (admin); 409 naming the flows and open tasks that
        still need it."""
        caller.require()
        standard_roles.remove_role(rt, caller.tenant_id, name)

    @get("/{name:str}/members", sync_to_thread=True)
    def list_members(
        self, name: FromPath[str], caller: CallerDep, rt: RuntimeDep
    ) -> list[MemberOut]:
        caller.internal()
        with rt.db.read() as session:
            role = _role(session, caller.tenant_id, name)
            return _members(session, [role.id])[role.id]

    @post("/{name:str}/members", sync_to_thread=True)
    def add_member(
        self, name: FromPath[str], data: JSONBody[MemberIn], caller: CallerDep, rt: RuntimeDep
    ) -> list[MemberOut]:
        """Put a user in the role, tenant-wide or for one subject; returns the members."""
        return self._add(rt, caller, name, [data])

    @post("/{name:str}/members/bulk", sync_to_thread=True)
    def add_members(
        self, name: FromPath[str], data: JSONBody[MembersIn], caller: CallerDep, rt: RuntimeDep
    ) -> list[MemberOut]:
        """Several members at once (a role per client for many clients)."""
        return self._add(rt, caller, name, data.members)

    def _add(
        self, rt: RuntimeDep, caller: CallerDep, name: str, wanted: list[MemberIn]
    ) -> list[MemberOut]:
        caller.require()
        with rt.transaction() as (session, _out):
            role = _role(session, caller.tenant_id, name)
            emails = {w.email.lower() for w in wanted}
            rows = session.execute(
                sa.select(m.User.email, m.User.id).where(
                    m.User.tenant_id == caller.tenant_id, m.User.email.in_(emails)
                )
            )
            users: dict[str, uuid.UUID] = {row.email: row.id for row in rows}
            subject_ids = {w.subject_id for w in wanted if w.subject_id is not None}
            subjects = set(
                session.scalars(
                    sa.select(m.Subject.id).where(
                        m.Subject.tenant_id == caller.tenant_id, m.Subject.id.in_(subject_ids)
                    )
                )
            )
            existing: set[tuple[uuid.UUID, uuid.UUID | None]] = {
                (user_id, subject_id)
                for user_id, subject_id in session.execute(
                    sa.select(m.RoleMember.user_id, m.RoleMember.subject_id).where(
                        m.RoleMember.role_id == role.id
                    )
                )
            }
            for index, member in enumerate(wanted):
                user_id = users.get(member.email.lower())
                if user_id is None:
                    raise ApiError(422, f"members[{index}].email: no user {member.email} here")
                if member.subject_id is not None and member.subject_id not in subjects:
                    raise ApiError(
                        422, f"members[{index}].subject_id: no subject {member.subject_id} here"
                    )
                if (user_id, member.subject_id) in existing:
                    continue
                existing.add((user_id, member.subject_id))
                session.add(
                    m.RoleMember(
                        tenant_id=caller.tenant_id,
                        role_id=role.id,
                        user_id=user_id,
                        subject_id=member.subject_id,
                    )
                )
            session.flush()
            return _members(session, [role.id])[role.id]

    @delete("/{name:str}/members", sync_to_thread=True)
    def remove_member(
        self,
        name: FromPath[str],
        email: FromQuery[str],
        caller: CallerDep,
        rt: RuntimeDep,
        subject_id: FromQuery[uuid.UUID | None] = None,
    ) -> None:
        """Take a user out of the role (query: email, subject_id for a per-subject member)."""
        caller.require()
        with rt.transaction() as (session, _out):
            role = _role(session, caller.tenant_id, name)
            user_id = session.scalar(
                sa.select(m.User.id).where(
                    m.User.tenant_id == caller.tenant_id, m.User.email == email.lower()
                )
            )
            condition = (
                m.RoleMember.subject_id.is_(None)
                if subject_id is None
                else m.RoleMember.subject_id == subject_id
            )
            result = session.execute(
                sa.delete(m.RoleMember).where(
                    m.RoleMember.role_id == role.id, m.RoleMember.user_id == user_id, condition
                )
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"{email} is not a member of '{name}' there")
