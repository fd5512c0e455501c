"""row-level security on PostgreSQL: each tenant sees only its rows

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 08:15:00

Every table with a tenant_id gets a FORCEd policy: a transaction sees (and may
write) only rows of the tenant in the `procedo.tenant` setting, which the API
sets per request (procedo/api/tenancy.py). '*', or no setting at all (workers,
scheduler, migrations), is the system and sees everything; '' sees nothing.
If the role `procedo_app` exists, it gets the rights the API needs and owns
nothing, so the policies bind it (owners and superusers could bypass them).
SQLite has no row-level security: nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "users",
    "roles",
    "role_members",
    "subject_types",
    "subjects",
    "flows",
    "flow_versions",
    "instances",
    "tokens",
    "tasks",
    "task_candidates",
    "timers",
    "outbox",
    "events",
    "history",
    "flow_schedules",
    "api_tokens",
    "user_sessions",
    "partnerships",
)
_SETTING = "current_setting('procedo.tenant', true)"
_VISIBLE = (
    f"(coalesce({_SETTING}, '*') = '*' OR tenant_id = "
    f"CASE WHEN {_SETTING} ~ '^[0-9a-fA-F-]{{36}}$' THEN {_SETTING}::uuid END)"
)
_GRANTS = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO procedo_app', current_schema());
    EXECUTE format(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO procedo_app',
      current_schema());
    EXECUTE format(
      'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO procedo_app', current_schema());
    EXECUTE format(
      'ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
      'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO procedo_app', current_schema());
    EXECUTE format(
      'ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO procedo_app',
      current_schema());
  END IF;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING {_VISIBLE} WITH CHECK {_VISIBLE}"
        )
    op.execute(_GRANTS)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
