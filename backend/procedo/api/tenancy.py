"""Row-level security on PostgreSQL: every transaction says whose rows it may see.

The query filters in the controllers keep tenants apart; RLS is the second line
(migration 0003): each table with a ``tenant_id`` has a FORCEd policy that
shows a transaction only the rows of the tenant in ``procedo.tenant``. The API
sets it for each request from the caller; ``*`` is the system's (workers,
scheduler, CLI, login and the partner endpoints, which cross tenants by design),
and an unauthenticated request gets ``''``: no rows at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from procedo.db.bulk import ROW_LEVEL_SECURITY

ALL_TENANTS = "*"
NO_TENANT = ""
# Unset outside requests: the system's processes see every tenant.
_current: ContextVar[str] = ContextVar("procedo_tenant", default=ALL_TENANTS)


def enter(tenant: str) -> None:
    """Scope the rest of this request (its task, and the threads it hands work to)."""
    _current.set(tenant)


@contextmanager
def all_tenants() -> Iterator[None]:
    """For the few operations that cross tenants on purpose (login, partners)."""
    token = _current.set(ALL_TENANTS)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def only(tenant: str) -> Iterator[None]:
    token = _current.set(tenant)
    try:
        yield
    finally:
        _current.reset(token)


_SET_TENANT = "SELECT set_config('procedo.tenant', %(tenant)s, %(local)s)"
# The tenant an autocommit read set on the connection (its pool record's info).
_CONNECTION_TENANT = "procedo_tenant"


def install(engine: sa.Engine, role: str = "") -> None:
    """On PostgreSQL: tell every transaction its tenant; optionally act as ``role``.

    ``role`` is an application role that owns no tables (so RLS applies to it
    even where an owner or superuser would bypass it); the connection's own user
    must be a member of it.
    """
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        tenant = _current.get()
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            # For this transaction only: the setting ends with it.
            connection.exec_driver_sql(_SET_TENANT, {"tenant": tenant, "local": True})
        elif connection.info.get(_CONNECTION_TENANT) != tenant:
            # Autocommit reads (Database.rows) have no transaction to scope it to: the
            # connection keeps it, so it is sent only when it changes. A transaction's own
            # setting still overrides it; every use of the connection comes through here.
            connection.exec_driver_sql(_SET_TENANT, {"tenant": tenant, "local": False})
            connection.info[_CONNECTION_TENANT] = tenant

    if role:

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_connection: Any, record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET ROLE {_quoted(role)}")
            dbapi_connection.commit()
            record.info[ROW_LEVEL_SECURITY] = True

        engine.dispose()  # connections made before now lack the role


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
