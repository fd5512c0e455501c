"""API tokens for integrations: made here (shown once), listed, revoked at once."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
import sqlalchemy as sa
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from procedo.api import accounts
from procedo.api.caller import CallerDep, RuntimeDep
from procedo.db import models as m
from procedo.runtime.context import NotFound


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TokenOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    user: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewToken(msgspec.Struct):
    id: uuid.UUID
    name: str
    # The only time the token is shown: only its hash is kept.
    token: str


class TokenController(Controller):
    path = "/tokens"
    tags = ["tokens"]

    @get("/", sync_to_thread=True)
    def list_tokens(self, caller: CallerDep, rt: RuntimeDep) -> list[TokenOut]:
        """Your tokens; an admin sees every token of the tenant."""
        caller.internal()
        query = (
            sa.select(m.ApiToken, m.User.email)
            .join(m.User, m.User.id == m.ApiToken.user_id)
            .where(m.ApiToken.tenant_id == caller.tenant_id)
            .order_by(m.ApiToken.created_at)
        )
        if caller.access != "admin":
            query = query.where(m.ApiToken.user_id == caller.user_id)
        with rt.db.read() as session:
            rows = session.execute(query).all()
        return [
            TokenOut(t.id, t.name, email, t.created_at, t.last_used_at, t.revoked_at)
            for t, email in rows
        ]

    @post("/", sync_to_thread=True)
    def create_token(self, data: JSONBody[TokenIn], caller: CallerDep, rt: RuntimeDep) -> NewToken:
        """A token acting as you, with your access; keep it secret."""
        caller.internal()
        row, token = accounts.create_token(rt, caller.tenant_id, caller.user_id, data.name)
        return NewToken(row.id, row.name, token)

    @delete("/{token_id:uuid}", sync_to_thread=True)
    def revoke_token(
        self, token_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> None:
        """Revoke a token: it stops working at once."""
        caller.internal()
        if caller.access != "admin":
            with rt.db.read() as session:
                owner = session.scalar(
                    sa.select(m.ApiToken.user_id).where(m.ApiToken.id == token_id)
                )
            if owner != caller.user_id:  # someone else's token: as if it did not exist
                raise NotFound(f"no token {token_id} of yours")
        accounts.revoke_token(rt, caller.tenant_id, token_id)
