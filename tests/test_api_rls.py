"""PostgreSQL row-level security behind the query filters: a tenant sees only its own rows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from procedo.api import tenancy
from procedo.api.server import Backend
from procedo.db import models as m
from procedo.db.migrate import upgrade
from tests.api_helpers import embedded_backend, live_server, office, ok
from tests.conftest import POSTGRES_URL, dumps, service_missing
from tests.test_api_journey import review_flow
from tests.test_partner_grants import PAID_GRANT, payable_flow

APP_ROLE = "procedo_app"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def rls_url() -> Iterator[str]:
    """A schema built by the migrations (as the owner), and the application role."""
    schema = f"procedo_rls_{os.getpid()}"
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
            connection.execute(
                sa.text(
                    "DO $$ BEGIN CREATE ROLE procedo_app NOLOGIN; "
                    "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
                )
            )
    except sa.exc.OperationalError as exc:
        service_missing("PostgreSQL", POSTGRES_URL, exc)
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    migrated = sa.create_engine(rendered)
    upgrade(migrated)
    migrated.dispose()
    yield rendered
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
def backend(rls_url: str, tmp_path: Path) -> Iterator[Backend]:
    with embedded_backend(rls_url, tmp_path) as running:
        tenancy.install(running.runtime.db.engine, APP_ROLE)
        yield running


def test_every_tenant_table_forces_its_policy_on_a_role_that_owns_nothing(
    backend: Backend,
) -> None:
    with backend.runtime.db.read() as session:
        assert session.scalar(sa.text("SELECT current_user")) == APP_ROLE
        tables = session.execute(
            sa.text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "pg_get_userbyid(c.relowner) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )
        ).all()
    with_tenant = {t.name for t in m.Base.metadata.sorted_tables if "tenant_id" in t.c}
    found = {name: (rls, force, owner) for name, rls, force, owner in tables}
    assert with_tenant <= set(found)
    assert {name for name in with_tenant if found[name][:2] != (True, True)} == set()
    assert all(owner != APP_ROLE for _rls, _force, owner in found.values())


def test_the_api_works_under_rls_and_a_tenant_sees_only_its_rows(backend: Backend) -> None:
    rt = backend.runtime
    with live_server(rt) as base_url:
        acme = office(rt, base_url, "Acme Office")
        beta = office(rt, base_url, "Beta Office")
        ok(acme.http.post("/flows/import", content=dumps(review_flow()), headers=JSON), 201)
        ok(acme.http.post("/flows/review/publish"), 201)
        # Accountant is one of the standard roles every tenant starts with (K1).
        ok(acme.http.post("/roles/Accountant/members", json={"email": acme.email}), 201)
        subject = ok(acme.http.post("/subjects", json={"type": "invoice", "key": "INV-R"}), 201)
        instance = ok(
            acme.http.post("/instances", json={"flow": "review", "subject_id": subject["id"]}),
            201,
        )
        task = ok(acme.http.get("/tasks", params={"scope": "roles"}))[0]
        ok(acme.http.post(f"/tasks/{task['id']}/complete", json={"outcome": "approve"}))
        # A payable invoice, shared with beta: the one way across tenants.
        ok(acme.http.post("/flows/import", content=dumps(payable_flow()), headers=JSON), 201)
        ok(acme.http.post("/flows/pay/publish"), 201)
        payable = ok(acme.http.post("/subjects", json={"type": "invoice", "key": "INV-P"}), 201)
        shared = ok(
            acme.http.post("/instances", json={"flow": "pay", "subject_id": payable["id"]}), 201
        )
        grant = {"partner": beta.slug, "flows": ["pay"], **PAID_GRANT}
        ok(acme.http.post("/partnerships", json=grant), 201)
        ok(beta.http.post(f"/shared/{shared['id']}/status", json={"status": "paid"}))
        assert ok(acme.http.get(f"/subjects/{payable['id']}"))["status"] == "paid"
        assert beta.http.get(f"/subjects/{subject['id']}").status_code == 404
        unshared = beta.http.post(f"/shared/{instance['id']}/status", json={"status": "paid"})
        assert unshared.status_code == 404  # the grant names the pay flow, not review

    def count(table: type[m.Base], tenant: str) -> int:
        with tenancy.only(tenant), rt.db.read() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(table)) or 0

    # Even a query that forgets the tenant filter sees only the tenant's rows.
    for table in (m.Subject, m.Instance, m.History, m.Task, m.Flow, m.User, m.ApiToken):
        assert count(table, str(acme.tenant_id)) > 0, table
        assert count(table, str(beta.tenant_id)) < count(table, tenancy.ALL_TENANTS), table
        assert count(table, tenancy.NO_TENANT) == 0, table
    assert count(m.Subject, str(beta.tenant_id)) == 0

    # Autocommit reads (the lists) keep the tenant on the connection between uses; every
    # switch, to another tenant, to none, or through a transaction, still holds.
    def listed(tenant: str) -> int:
        with tenancy.only(tenant), rt.db.rows() as connection:
            return connection.scalar(sa.select(sa.func.count()).select_from(m.Subject)) or 0

    in_acme = count(m.Subject, str(acme.tenant_id))
    for _ in range(2):
        assert listed(str(acme.tenant_id)) == in_acme
        assert listed(str(beta.tenant_id)) == 0
        assert listed(tenancy.NO_TENANT) == 0
        assert count(m.Subject, tenancy.ALL_TENANTS) == in_acme
        assert listed(str(beta.tenant_id)) == 0
        assert count(m.Subject, str(acme.tenant_id)) == in_acme
        assert listed(tenancy.NO_TENANT) == 0
    # And it cannot write into another tenant.
    planted = m.Subject(tenant_id=acme.tenant_id, type="invoice", key="planted")
    with (  # the insert is sent when the transaction ends
        pytest.raises(sa.exc.DBAPIError, match="row-level security"),
        tenancy.only(str(beta.tenant_id)),
        rt.db.transaction() as session,
    ):
        session.add(planted)
