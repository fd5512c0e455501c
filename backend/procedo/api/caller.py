"""Who is calling: a bearer token or a session cookie (with its CSRF header), and their access."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import sqlalchemy as sa
from litestar import Request
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency

from procedo.api import security, tenancy
from procedo.api.accounts import Access
from procedo.api.errors import ApiError
from procedo.api.recent import RECENT, Seen
from procedo.db import models as m
from procedo.runtime.context import Runtime

SESSION_COOKIE = "procedo_session"
CSRF_COOKIE = "procedo_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Caller:
    tenant_id: uuid.UUID
    tenant_slug: str
    user_id: uuid.UUID
    email: str
    name: str
    access: Access
    via: Literal["token", "session"]

    def require(self, *levels: Access) -> None:
        """Refuse with 403 unless the caller has one of these access levels (admin always may)."""
        if self.access != "admin" and self.access not in levels:
            needed = " or ".join(("admin", *levels))
            raise ApiError(403, f"this needs {needed} access; you have {self.access} access")

    def internal(self) -> None:
        """Everything but the partner endpoints is for the tenant's own people."""
        if self.access == "partner":
            raise ApiError(403, "partner access sees only what is shared: use /api/v1/shared")

    @property
    def actor(self) -> str:
        return self.email


def _unauthenticated() -> ApiError:
    return ApiError(
        401,
        "log in first (POST /api/v1/auth/login) or send 'Authorization: Bearer <token>'",
    )


_USER_OF_TOKEN = (
    sa.select(m.User, m.Tenant.slug, m.ApiToken.id, m.ApiToken.last_used_at, m.ApiToken.expires_at)
    .join(m.ApiToken, m.ApiToken.user_id == m.User.id)
    .join(m.Tenant, m.Tenant.id == m.User.tenant_id)
    .where(m.ApiToken.token_hash == sa.bindparam("hash"), m.ApiToken.revoked_at.is_(None))
)
_USER_OF_SESSION = (
    sa.select(m.User, m.Tenant.slug, m.UserSession.csrf, m.UserSession.expires_at)
    .join(m.UserSession, m.UserSession.user_id == m.User.id)
    .join(m.Tenant, m.Tenant.id == m.User.tenant_id)
    .where(m.UserSession.token_hash == sa.bindparam("hash"))
)


async def authenticate(request: Request[Any, Any, Any]) -> None:
    """Before each API request: who calls, and the tenant every query of the request is in.

    Runs in the request's own task, so the tenant it enters reaches the threads the
    handler's work runs in. A failure is kept and raised only by handlers that need a
    caller (a login with a stale cookie must still work).
    """
    rt: Runtime = request.app.state.runtime
    try:
        caller = _recent_caller(request, rt)
        if caller is None:
            caller = await sync_to_thread(_resolve_as_system, request, rt)
    except ApiError as refused:
        request.state.caller_error = refused
        tenancy.enter(tenancy.NO_TENANT)
        return
    request.state.caller = caller
    tenancy.enter(str(caller.tenant_id))


def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    caller: Caller | None = request.state.get("caller")
    if caller is None:
        raise request.state.get("caller_error") or _unauthenticated()
    return caller


def _resolve_as_system(request: Request[Any, Any, Any], rt: Runtime) -> Caller:
    # The credentials say which tenant: they are looked up before any tenant is known.
    with tenancy.all_tenants():
        return resolve_caller(request, rt)


def _credential(request: Request[Any, Any, Any]) -> tuple[Literal["token", "session"], str]:
    """The kind of credential sent and its hash (the key it is stored and looked up by)."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "the Authorization header must be 'Bearer <token>'")
        return "token", security.token_hash(token.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise _unauthenticated()
    return "session", security.token_hash(cookie)


def _recent_caller(request: Request[Any, Any, Any], rt: Runtime) -> Caller | None:
    via, key = _credential(request)
    seen = RECENT.get(key)
    if seen is None:
        return None
    if via == "session":
        _check_session(request, rt, seen.csrf, seen.expires_at)
    else:
        _check_token(rt, seen.expires_at)
    caller: Caller = seen.caller
    return caller


def _check_session(
    request: Request[Any, Any, Any], rt: Runtime, csrf: str, expires_at: dt.datetime | None
) -> None:
    if expires_at is None or expires_at <= rt.clock.now():
        raise ApiError(401, "the session has ended; log in again")
    if request.method in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not security.same(sent, csrf):
            raise ApiError(
                403,
                "missing or wrong X-CSRF-Token header: send the value of the procedo_csrf cookie",
            )


def _check_token(rt: Runtime, expires_at: dt.datetime | None) -> None:
    if expires_at is None or expires_at <= rt.clock.now():
        raise ApiError(401, "the token has expired; make a new one (POST /api/v1/tokens)")


def resolve_caller(request: Request[Any, Any, Any], rt: Runtime) -> Caller:
    via, key = _credential(request)
    until, generation = time.monotonic() + RECENT.ttl, RECENT.generation
    if via == "token":
        with rt.db.read() as session:
            found = session.execute(_USER_OF_TOKEN, {"hash": key}).first()
        if found is None or not found[0].active:
            raise ApiError(401, "the token is unknown or revoked; make a new one")
        _check_token(rt, found[4])
        _note_use(rt, found[2], found[3])
        caller = _caller(found[0], found[1], "token")
        RECENT.put(key, Seen(caller, until, expires_at=found[4]), generation)
        return caller
    with rt.db.read() as session:
        row = session.execute(_USER_OF_SESSION, {"hash": key}).first()
    if row is None or not row[0].active:
        raise ApiError(401, "the session has ended; log in again")
    _check_session(request, rt, row[2], row[3])
    caller = _caller(row[0], row[1], "session")
    RECENT.put(key, Seen(caller, until, row[2], row[3]), generation)
    return caller


# A token's last use is written at most this often: not a write per request.
_USE_RESOLUTION = dt.timedelta(hours=1)


def _note_use(rt: Runtime, token_id: uuid.UUID, last_used: dt.datetime | None) -> None:
    now = rt.clock.now()
    if last_used is not None and now - last_used < _USE_RESOLUTION:
        return
    with rt.db.transaction() as session:
        session.execute(
            sa.update(m.ApiToken).where(m.ApiToken.id == token_id).values(last_used_at=now)
        )


def _caller(user: m.User, slug: str, via: Literal["token", "session"]) -> Caller:
    access: Access = user.access  # type: ignore[assignment]
    return Caller(user.tenant_id, slug, user.id, user.email, user.name, access, via)


# Handler parameters filled by the app's dependencies (see app.py).
CallerDep: TypeAlias = NamedDependency[Caller]
RuntimeDep: TypeAlias = NamedDependency[Runtime]
