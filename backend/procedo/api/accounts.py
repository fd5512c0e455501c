"""Tenants, users, API tokens and login sessions: the rows behind authentication."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.api import passwords, security, tenancy
from procedo.api.recent import RECENT
from procedo.db import models as m
from procedo.messaging.library import add_standard_templates
from procedo.runtime.context import NotFound, Refusal, Runtime
from procedo.runtime.standard_roles import add_standard_roles

Access = Literal["admin", "designer", "member", "partner"]
ACCESS_LEVELS: tuple[Access, ...] = ("admin", "designer", "member", "partner")
SESSION_HOURS = 12
# API tokens end: 90 days unless asked otherwise when made, never more than a year.
TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class NewTenant:
    tenant: m.Tenant
    admin: m.User
    password: str
    token: str


def slug_of(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63]
    return slug or "tenant"


def create_tenant(
    rt: Runtime, name: str, admin_email: str, slug: str | None = None, admin_name: str = ""
) -> NewTenant:
    """A tenant and its admin in one transaction; the password and token are shown once."""
    slug = slug or slug_of(name)
    if not _SLUG.match(slug):
        raise Refusal(f"tenant slug '{slug}': use lower-case letters, digits and '-'")
    password, token = security.new_password(), security.new_token()
    with rt.transaction() as (session, _out):
        if session.scalar(sa.select(m.Tenant.id).where(m.Tenant.slug == slug)) is not None:
            raise Refusal(f"a tenant '{slug}' exists already; choose another name or --slug")
        tenant = m.Tenant(name=name, slug=slug)
        session.add(tenant)
        session.flush()
        add_standard_roles(session, tenant.id)  # K1: an office starts with its six roles
        add_standard_templates(session, tenant.id, rt.clock.now())  # the dunning texts
        admin = m.User(
            tenant_id=tenant.id,
            email=admin_email.strip().lower(),
            name=admin_name,
            access="admin",
            password_hash=security.hash_password(password),
        )
        session.add(admin)
        session.flush()
        session.add(
            m.ApiToken(
                tenant_id=tenant.id,
                user_id=admin.id,
                name="made with the tenant",
                token_hash=security.token_hash(token),
                created_at=rt.clock.now(),
                expires_at=rt.clock.now() + dt.timedelta(days=TOKEN_DAYS),
            )
        )
    return NewTenant(tenant, admin, password, token)


def add_user(
    rt: Runtime,
    tenant_id: uuid.UUID,
    email: str,
    name: str = "",
    access: Access = "member",
    password: str | None = None,
) -> tuple[m.User, str]:
    """A user with a password (given, or made up and returned to be shown once).

    A given password must pass passwords.check (raises WeakPassword).
    """
    email = email.strip().lower()
    password = password or security.new_password()
    with rt.transaction() as (session, _out):
        tenant = session.get(m.Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id}")
        passwords.check(password, (email, name, tenant.name, tenant.slug))
        taken = session.scalar(
            sa.select(m.User.id).where(m.User.tenant_id == tenant_id, m.User.email == email)
        )
        if taken is not None:
            raise Refusal(f"a user {email} exists already in this tenant")
        user = m.User(
            tenant_id=tenant_id,
            email=email,
            name=name,
            access=access,
            password_hash=security.hash_password(password),
        )
        session.add(user)
        session.flush()
        return user, password


def set_password(
    rt: Runtime, user_id: uuid.UUID, password: str, keep_session: str | None = None
) -> None:
    """A new password (raises WeakPassword); the user's tokens and other sessions end.

    Whoever knew the old password may have made a token or a session with it: both
    are cut off. ``keep_session`` is the cookie of the session that made the change.
    """
    with rt.transaction() as (session, _out):
        row = session.execute(
            sa.select(m.User, m.Tenant)
            .join(m.Tenant, m.Tenant.id == m.User.tenant_id)
            .where(m.User.id == user_id)
        ).first()
        if row is None:
            raise NotFound("the user is gone")
        user, tenant = row[0], row[1]
        passwords.check(password, (user.email, user.name, tenant.name, tenant.slug))
        user.password_hash = security.hash_password(password)
        others = sa.delete(m.UserSession).where(m.UserSession.user_id == user_id)
        if keep_session:
            others = others.where(m.UserSession.token_hash != security.token_hash(keep_session))
        session.execute(others)
        session.execute(
            sa.update(m.ApiToken)
            .where(m.ApiToken.user_id == user_id, m.ApiToken.revoked_at.is_(None))
            .values(revoked_at=rt.clock.now())
        )
    RECENT.forget_all()  # after the commit: a lookup meanwhile would see the old state


def password_is(rt: Runtime, user_id: uuid.UUID, password: str) -> bool:
    """Whether ``password`` is the user's (a password change's check; no session is made)."""
    with rt.db.read() as session:
        password_hash = session.scalar(sa.select(m.User.password_hash).where(m.User.id == user_id))
    return security.verify_password(password_hash, password)


def create_token(
    rt: Runtime, tenant_id: uuid.UUID, user_id: uuid.UUID, name: str, days: int = TOKEN_DAYS
) -> tuple[m.ApiToken, str]:
    """A token that ends after ``days`` (1 to MAX_TOKEN_DAYS); shown once, kept as a hash."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise Refusal(f"a token lasts 1 to {MAX_TOKEN_DAYS} days, not {days}")
    token = security.new_token()
    now = rt.clock.now()
    with rt.transaction() as (session, _out):
        row = m.ApiToken(
            tenant_id=tenant_id,
            user_id=user_id,
            name=name,
            token_hash=security.token_hash(token),
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        session.add(row)
        session.flush()
        return row, token


def revoke_token(rt: Runtime, tenant_id: uuid.UUID, token_id: uuid.UUID) -> None:
    with rt.transaction() as (session, _out):
        row = session.get(m.ApiToken, token_id)
        if row is None or row.tenant_id != tenant_id or row.revoked_at is not None:
            raise NotFound(f"no token {token_id} in this tenant")
        row.revoked_at = rt.clock.now()
    RECENT.forget_all()


@dataclass(frozen=True)
class Login:
    user: m.User
    tenant: m.Tenant
    cookie: str
    csrf: str
    expires_at: dt.datetime


def log_in(rt: Runtime, tenant_slug: str, email: str, password: str) -> Login | None:
    """A new session for a right password; None otherwise (the caller says only 'wrong')."""
    # Before the login nobody's tenant is known: the lookup is the system's.
    with tenancy.all_tenants():
        return _log_in(rt, tenant_slug, email, password)


def _log_in(rt: Runtime, tenant_slug: str, email: str, password: str) -> Login | None:
    with rt.db.read() as session:
        row = session.execute(
            sa.select(m.User, m.Tenant)
            .join(m.Tenant, m.Tenant.id == m.User.tenant_id)
            .where(m.Tenant.slug == tenant_slug, m.User.email == email.strip().lower())
        ).first()
    user, tenant = (row[0], row[1]) if row else (None, None)
    if not security.verify_password(user.password_hash if user else None, password):
        return None
    if user is None or tenant is None or not user.active:
        return None
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = rt.clock.now()
    expires = now + dt.timedelta(hours=SESSION_HOURS)
    with rt.transaction() as (session, _out):
        session.add(
            m.UserSession(
                tenant_id=tenant.id,
                user_id=user.id,
                token_hash=security.token_hash(cookie),
                csrf=csrf,
                created_at=now,
                expires_at=expires,
            )
        )
    return Login(user, tenant, cookie, csrf, expires)


def log_out(rt: Runtime, cookie: str) -> None:
    with rt.transaction() as (session, _out):
        session.execute(
            sa.delete(m.UserSession).where(m.UserSession.token_hash == security.token_hash(cookie))
        )
    RECENT.forget_all()


def _active_admins(session: Session, tenant_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(m.User)
            .where(m.User.tenant_id == tenant_id, m.User.access == "admin", m.User.active)
        )
        or 0
    )


def change_user(
    rt: Runtime,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    name: str | None = None,
    access: Access | None = None,
    active: bool | None = None,
) -> m.User:
    """Change a user's name, access level or whether they may log in (admin).

    Refused when it would leave the tenant without an active administrator: nobody
    could then manage its users. Deactivating ends the user's sessions; their tokens
    stop working while inactive (checked on every lookup) and work again when
    reactivated.
    """
    with rt.transaction() as (session, _out):
        user = session.get(m.User, user_id)
        if user is None or user.tenant_id != tenant_id:
            raise NotFound(f"no user {user_id} in this tenant")
        was_admin = user.access == "admin" and user.active
        if name is not None:
            user.name = name
        if access is not None:
            user.access = access
        if active is not None:
            user.active = active
        session.flush()
        still_admin = user.access == "admin" and user.active
        if was_admin and not still_admin and _active_admins(session, tenant_id) == 0:
            raise Refusal(
                f"{user.email} is the last active administrator: make another user "
                "an administrator first"
            )
        if active is False:
            session.execute(sa.delete(m.UserSession).where(m.UserSession.user_id == user_id))
    RECENT.forget_all()  # cached callers carry the old access and activity
    return user


def reset_password(rt: Runtime, tenant_id: uuid.UUID, user_id: uuid.UUID) -> tuple[m.User, str]:
    """A new one-time password for a user (admin); their sessions and tokens end."""
    with rt.db.read() as session:
        user = session.get(m.User, user_id)
    if user is None or user.tenant_id != tenant_id:
        raise NotFound(f"no user {user_id} in this tenant")
    password = security.new_password()
    set_password(rt, user_id, password)
    return user, password
