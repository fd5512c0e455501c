"""The tenant's users (admin): list, add with a one-time password, change, reset a password."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
import sqlalchemy as sa
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody
from sqlalchemy.orm import Session

from procedo.api import accounts
from procedo.api.accounts import Access
from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.db import models as m

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]
UserName = Annotated[str, msgspec.Meta(max_length=200)]
# A user's body is a few fields: anything near this is not one.
USER_BODY = 8 * 1024


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    access: Access = "member"
    name: UserName = ""


class UserChange(msgspec.Struct, forbid_unknown_fields=True):
    """What to change; fields left out stay as they are."""

    name: UserName | None = None
    access: Access | None = None
    # false: the user cannot log in and their sessions end; true: they may again.
    active: bool | None = None


class UserRow(msgspec.Struct):
    id: uuid.UUID
    email: str
    name: str
    access: str
    active: bool
    created_at: dt.datetime
    # The roles held office-wide, by name, and how many per-subject memberships besides.
    roles: list[str] = []
    subject_roles: int = 0


class NewUser(msgspec.Struct):
    user: UserRow
    # Shown once; the user logs in with it and changes it (POST /auth/password).
    password: str


def user_row(user: m.User, roles: list[str] | None = None, subject_roles: int = 0) -> UserRow:
    return UserRow(
        user.id,
        user.email,
        user.name,
        user.access,
        user.active,
        user.created_at,
        roles or [],
        subject_roles,
    )


def _roles_of(
    session: Session, user_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[str]], dict[uuid.UUID, int]]:
    office: dict[uuid.UUID, list[str]] = {ident: [] for ident in user_ids}
    per_subject: dict[uuid.UUID, int] = dict.fromkeys(user_ids, 0)
    rows = session.execute(
        sa.select(m.RoleMember.user_id, m.Role.name, m.RoleMember.subject_id)
        .join(m.Role, m.Role.id == m.RoleMember.role_id)
        .where(m.RoleMember.user_id.in_(user_ids))
        .order_by(m.Role.name)
    )
    for user_id, role, subject_id in rows:
        if subject_id is None:
            office[user_id].append(role)
        else:
            per_subject[user_id] += 1
    return office, per_subject


def _row_of(rt: RuntimeDep, user: m.User) -> UserRow:
    with rt.db.read() as session:
        office, per_subject = _roles_of(session, [user.id])
    return user_row(user, office[user.id], per_subject[user.id])


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/", sync_to_thread=True)
    def list_users(
        self, caller: CallerDep, rt: RuntimeDep, limit: Limit = 100, offset: Offset = 0
    ) -> list[UserRow]:
        """Everyone in the tenant (admin), with the roles each holds."""
        caller.require()
        with rt.db.read() as session:
            users = session.scalars(
                sa.select(m.User)
                .where(m.User.tenant_id == caller.tenant_id)
                .order_by(m.User.email)
                .limit(limit)
                .offset(offset)
            ).all()
            office, per_subject = _roles_of(session, [u.id for u in users])
        return [user_row(u, office[u.id], per_subject[u.id]) for u in users]

    @post("/", sync_to_thread=True, request_max_body_size=USER_BODY)
    def add_user(self, data: JSONBody[UserIn], caller: CallerDep, rt: RuntimeDep) -> NewUser:
        """Add a user (admin); the answer carries their one-time password."""
        caller.require()
        user, password = accounts.add_user(rt, caller.tenant_id, data.email, data.name, data.access)
        return NewUser(user_row(user), password)

    @patch("/{user_id:uuid}", sync_to_thread=True, request_max_body_size=USER_BODY)
    def change_user(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserChange],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> UserRow:
        """Change name, access level or active (admin). 409 when no active administrator
        would be left; deactivating ends the user's sessions."""
        caller.require()
        if data.name is None and data.access is None and data.active is None:
            raise ApiError(422, "send at least one of name, access, active")
        user = accounts.change_user(
            rt, caller.tenant_id, user_id, data.name, data.access, data.active
        )
        return _row_of(rt, user)

    @post(
        "/{user_id:uuid}/password-reset",
        sync_to_thread=True,
        status_code=200,
        request_max_body_size=USER_BODY,
    )
    def reset_password(
        self, user_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> NewUser:
        """A new one-time password (admin), shown once; the user's sessions and tokens end."""
        caller.require()
        user, password = accounts.reset_password(rt, caller.tenant_id, user_id)
        return NewUser(_row_of(rt, user), password)
