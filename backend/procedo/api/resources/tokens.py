"""API tokens for integrations: made here (shown once), listed, revoked at once; all expire."""

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
from procedo.api.paging import Limit, Offset
from procedo.db import models as m
from procedo.runtime.context import NotFound


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    # How long the token works; a leaked token is thus not good forever.
    days: Annotated[int, msgspec.Meta(ge=1, le=accounts.MAX_TOKEN_DAYS)] = accounts.TOKEN_DAYS


class TokenOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    user: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewToken(msgspec.Struct):
    id: uuid.UUID
    name: str
    expires_at: dt.datetime
    # The only time the token is shown: only its hash is kept.
    token: str


class TokenController(Controller):
    path = "/tokens"
    tags = ["tokens"]

    @get("/", sync_to_thread=True)
    def list_tokens(
        self, caller: CallerDep, rt: RuntimeDep, limit: Limit = 100, offset: Offset = 0
    ) -> list[TokenOut]:
        """Your tokens; an admin sees every token of the tenant."""
        caller.internal()
        query = (
            sa.select(m.ApiToken, m.User.email)
            .join(m.User, m.User.id == m.ApiToken.user_id)
            .where(m.ApiToken.tenant_id == caller.tenant_id)
            .order_by(m.ApiToken.created_at, m.ApiToken.id)  # a total order: pages never overlap
        )
        if caller.access != "admin":
            query = query.where(m.ApiToken.user_id == caller.user_id)
        with rt.db.read() as session:
            rows = session.execute(query.limit(limit).offset(offset)).all()
        return [
            TokenOut(t.id, t.name, email, t.created_at, t.expires_at, t.last_used_at, t.revoked_at)
            for t, email in rows
        ]

    @post("/", sync_to_thread=True)
    def create_token(self, data: JSONBody[TokenIn], caller: CallerDep, rt: RuntimeDep) -> NewToken:
        """A token acting as you, with your access, for `days` (default 90, at most 366);
        keep it secret. A change of your password revokes it."""
        caller.internal()
        row, token = accounts.create_token(
            rt, caller.tenant_id, caller.user_id, data.name, data.days
        )
        return NewToken(row.id, row.name, row.expires_at, token)

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
