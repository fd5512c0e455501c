"""The tenant's users (admin): list, and add with a one-time password."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
import sqlalchemy as sa
from litestar import Controller, get, post
from litestar.params import JSONBody

from procedo.api import accounts
from procedo.api.accounts import Access
from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.paging import Limit, Offset
from procedo.db import models as m

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    access: Access = "member"
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class UserRow(msgspec.Struct):
    id: uuid.UUID
    email: str
    name: str
    access: str
    active: bool
    created_at: dt.datetime


class NewUser(msgspec.Struct):
    user: UserRow
    # Shown once; the user logs in with it and changes it (POST /auth/password).
    password: str


def user_row(user: m.User) -> UserRow:
    return UserRow(user.id, user.email, user.name, user.access, user.active, user.created_at)


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/", sync_to_thread=True)
    def list_users(
        self, caller: CallerDep, rt: RuntimeDep, limit: Limit = 100, offset: Offset = 0
    ) -> list[UserRow]:
        """Everyone in the tenant (admin)."""
        caller.require()
        with rt.db.read() as session:
            users = session.scalars(
                sa.select(m.User)
                .where(m.User.tenant_id == caller.tenant_id)
                .order_by(m.User.email)
                .limit(limit)
                .offset(offset)
            ).all()
        return [user_row(user) for user in users]

    @post("/", sync_to_thread=True)
    def add_user(self, data: JSONBody[UserIn], caller: CallerDep, rt: RuntimeDep) -> NewUser:
        """Add a user (admin); the answer carries their one-time password."""
        caller.require()
        user, password = accounts.add_user(rt, caller.tenant_id, data.email, data.name, data.access)
        return NewUser(user_row(user), password)
